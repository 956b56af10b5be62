//! The SIP listener: UDP and TCP sockets on `[sip] listen` (and TLS on `tls_listen`), one driver
//! task that owns the sans-IO [`Endpoint`] and its clock, and the RTP legs of answered calls.
//!
//! Every datagram and TCP frame goes into the endpoint with the instant it arrived; every
//! [`Output`] is acted on: responses go back on the transport they came on, an offered call gets
//! an RTP socket and is answered (or refused `503` when the application is not taking calls),
//! hold, keys signalled by SIP INFO, transfers and hang-up reach the call's leg, refusals are
//! counted. The application acts through the leg ([`leg::LegRequest`]): it answers a call to a
//! hand-off payment once it has checked it, transfers a caller (REFER), and hangs up (BYE).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hushpay_sip::dispatch::RoomTarget;
use hushpay_sip::framing::Framer;
use hushpay_sip::{CallId, Endpoint, Event, IncomingCall, Input, Output, Peer, Transport};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::config::SipSettings;
use super::leg::{self, LegControl, LegRequest, PhoneCall};
use super::metrics::SipMetrics;

/// Most TCP connections at once.
const MAX_TCP_CONNECTIONS: usize = 256;
/// Calls waiting for the application to take them.
const CALL_QUEUE: usize = 64;

/// A running SIP listener. Dropping it stops the listener (calls' legs end with it).
#[derive(Debug)]
pub struct SipServer {
    pub udp_addr: SocketAddr,
    pub tcp_addr: SocketAddr,
    /// Where SIP over TLS listens, when configured.
    pub tls_addr: Option<SocketAddr>,
    /// Answered calls, for the application.
    pub calls: mpsc::Receiver<PhoneCall>,
    tasks: Vec<JoinHandle<()>>,
}

impl SipServer {
    /// Takes the answered calls' channel for the application's task (a later call gets an
    /// empty one); the listener runs while `self` lives.
    pub fn take_calls(&mut self) -> mpsc::Receiver<PhoneCall> {
        let (_, empty) = mpsc::channel(1);
        std::mem::replace(&mut self.calls, empty)
    }
}

impl Drop for SipServer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

enum Inbound {
    Message(Peer, Vec<u8>),
    /// A stream connection (TCP or TLS) opened: what to write to it.
    StreamOpen(Peer, mpsc::Sender<Vec<u8>>),
    StreamClosed(Peer),
}

/// Binds UDP and TCP on `settings.listen` (the same port; port 0 picks one free for both) and
/// starts the tasks.
pub async fn start(settings: SipSettings, metrics: Arc<SipMetrics>) -> std::io::Result<SipServer> {
    let udp = Arc::new(UdpSocket::bind(settings.listen).await?);
    let udp_addr = udp.local_addr()?;
    let tcp = TcpListener::bind(udp_addr).await?;
    let tcp_addr = tcp.local_addr()?;
    let tls = match &settings.tls {
        Some(t) => {
            let acceptor = super::tls::acceptor(t)?;
            let listener = TcpListener::bind(t.listen).await?;
            Some((acceptor, listener))
        }
        None => None,
    };
    let tls_addr = match &tls {
        Some((_, l)) => Some(l.local_addr()?),
        None => None,
    };
    let (in_tx, in_rx) = mpsc::channel::<Inbound>(1024);
    let (calls_tx, calls_rx) = mpsc::channel(CALL_QUEUE);
    let (requests_tx, requests_rx) = mpsc::unbounded_channel();
    let max_bytes = settings.endpoint.limits().max_message_bytes;
    let secret: [u8; 32] = rand::random();
    let driver = Driver {
        endpoint: Endpoint::new(settings.endpoint.clone(), secret, Instant::now().into_std()),
        local: SocketAddr::new(settings.advertise, udp_addr.port()),
        local_tls: tls_addr.map(|a| SocketAddr::new(settings.advertise, a.port())),
        settings,
        udp: Arc::clone(&udp),
        streams: HashMap::new(),
        legs: HashMap::new(),
        unanswered: HashMap::new(),
        calls: calls_tx,
        requests: requests_tx,
        metrics,
    };
    let mut tasks = vec![
        tokio::spawn(read_udp(udp, in_tx.clone(), max_bytes)),
        tokio::spawn(accept_tcp(tcp, None, in_tx.clone(), max_bytes)),
        tokio::spawn(driver.run(in_rx, requests_rx)),
    ];
    if let Some((acceptor, listener)) = tls {
        tasks.push(tokio::spawn(accept_tcp(
            listener,
            Some(acceptor),
            in_tx,
            max_bytes,
        )));
    }
    Ok(SipServer {
        udp_addr,
        tcp_addr,
        tls_addr,
        calls: calls_rx,
        tasks,
    })
}

async fn read_udp(udp: Arc<UdpSocket>, tx: mpsc::Sender<Inbound>, max_bytes: usize) {
    // one byte more than the limit, so an oversize datagram is seen as such, not truncated
    let mut buf = vec![0u8; max_bytes + 1];
    loop {
        let Ok((n, from)) = udp.recv_from(&mut buf).await else {
            continue;
        };
        let peer = Peer {
            transport: Transport::Udp,
            addr: from,
        };
        if tx
            .send(Inbound::Message(peer, buf[..n].to_vec()))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// Accepts stream connections (TLS when `tls` is given: the handshake first, within
/// [`super::tls::HANDSHAKE_WAIT`]), at most [`MAX_TCP_CONNECTIONS`] at once per listener.
async fn accept_tcp(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    tx: mpsc::Sender<Inbound>,
    max_bytes: usize,
) {
    let slots = Arc::new(Semaphore::new(MAX_TCP_CONNECTIONS));
    loop {
        let Ok((stream, from)) = listener.accept().await else {
            continue;
        };
        let Ok(permit) = Arc::clone(&slots).try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let tx = tx.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                None => {
                    let peer = Peer {
                        transport: Transport::Tcp,
                        addr: from,
                    };
                    serve_stream(stream, peer, tx, max_bytes).await;
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(super::tls::HANDSHAKE_WAIT, acceptor.accept(stream))
                            .await;
                    let Ok(Ok(stream)) = handshake else {
                        tracing::debug!(peer = %from, "SIP over TLS: no handshake");
                        return;
                    };
                    let peer = Peer {
                        transport: Transport::Tls,
                        addr: from,
                    };
                    serve_stream(stream, peer, tx, max_bytes).await;
                }
            }
            drop(permit);
        });
    }
}

/// Reads one stream connection's messages (cut by the framer) into the driver and writes what
/// the driver sends it, until either side closes or the stream cannot be framed.
async fn serve_stream<S>(stream: S, peer: Peer, tx: mpsc::Sender<Inbound>, max_bytes: usize)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut read, mut write) = tokio::io::split(stream);
    let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(64);
    let writer = tokio::spawn(async move {
        while let Some(bytes) = out_rx.recv().await {
            if write.write_all(&bytes).await.is_err() || write.flush().await.is_err() {
                return;
            }
        }
    });
    if tx.send(Inbound::StreamOpen(peer, out_tx)).await.is_err() {
        return;
    }
    let mut framer = Framer::new();
    let mut buf = vec![0u8; 8192];
    'conn: loop {
        let n = match read.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        framer.push(&buf[..n]);
        loop {
            match framer.next_message(max_bytes) {
                Ok(Some(msg)) => {
                    if tx.send(Inbound::Message(peer, msg)).await.is_err() {
                        break 'conn;
                    }
                }
                Ok(None) => break,
                // a stream that cannot be framed is closed
                Err(_) => break 'conn,
            }
        }
    }
    let _ = tx.send(Inbound::StreamClosed(peer)).await;
    writer.abort();
}

struct Driver {
    endpoint: Endpoint,
    settings: SipSettings,
    local: SocketAddr,
    /// Our address for TLS peers (Contact), when TLS listens.
    local_tls: Option<SocketAddr>,
    udp: Arc<UdpSocket>,
    /// Open stream connections (TCP and TLS), by peer.
    streams: HashMap<Peer, mpsc::Sender<Vec<u8>>>,
    legs: HashMap<CallId, LegControl>,
    /// Calls waiting for the application to answer them, with their RTP address.
    unanswered: HashMap<CallId, SocketAddr>,
    calls: mpsc::Sender<PhoneCall>,
    /// Handed to every leg: the application answers, transfers and hangs up through it.
    requests: mpsc::UnboundedSender<(CallId, LegRequest)>,
    metrics: Arc<SipMetrics>,
}

impl Driver {
    async fn run(
        mut self,
        mut inbound: mpsc::Receiver<Inbound>,
        mut requests: mpsc::UnboundedReceiver<(CallId, LegRequest)>,
    ) {
        let mut deadline = Instant::now();
        loop {
            tokio::select! {
                msg = inbound.recv() => {
                    let Some(msg) = msg else { return };
                    let now = Instant::now().into_std();
                    match msg {
                        Inbound::Message(peer, bytes) => {
                            let local = match (peer.transport, self.local_tls) {
                                (Transport::Tls, Some(tls)) => tls,
                                _ => self.local,
                            };
                            self.endpoint.handle_input(now, Input { peer, local, bytes: &bytes });
                        }
                        Inbound::StreamOpen(peer, tx) => {
                            self.streams.insert(peer, tx);
                        }
                        Inbound::StreamClosed(peer) => {
                            self.streams.remove(&peer);
                        }
                    }
                }
                Some((call, request)) = requests.recv() => {
                    self.request(call, request);
                }
                _ = tokio::time::sleep_until(deadline) => {
                    self.endpoint.handle_timeout(Instant::now().into_std());
                }
            }
            deadline = self.drain().await;
        }
    }

    /// What the application asked for one call. A call already gone (the caller hung up
    /// first) is no error.
    fn request(&mut self, call: CallId, request: LegRequest) {
        let now = Instant::now().into_std();
        match request {
            LegRequest::Answer(true) => {
                if let Some(rtp) = self.unanswered.remove(&call)
                    && self.endpoint.answer(now, call, rtp).is_ok()
                {
                    self.metrics.calls_offered.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(call = call.0, "phone call answered (hand-off)");
                }
            }
            LegRequest::Answer(false) => {
                if self.unanswered.remove(&call).is_some() {
                    let _ = self.endpoint.reject(now, call, 404);
                }
            }
            LegRequest::HangUp(headers) => {
                self.unanswered.remove(&call);
                if let Err(e) = self.endpoint.hang_up_with(now, call, headers.clone())
                    && matches!(e, hushpay_sip::SipError::BadHeader(_))
                {
                    tracing::warn!(
                        call = call.0,
                        "hang-up headers refused; hanging up without them"
                    );
                    let _ = self.endpoint.hang_up(now, call);
                }
            }
            LegRequest::Transfer { target, headers } => {
                if let Err(e) = self.endpoint.transfer(now, call, &target, headers) {
                    tracing::warn!(call = call.0, error = %e, "cannot transfer the call");
                    if let Some(l) = self.legs.get(&call) {
                        l.transferred(None);
                    }
                }
            }
        }
    }

    /// Acts on every output; returns when the endpoint next wants its timers run.
    async fn drain(&mut self) -> Instant {
        loop {
            match self.endpoint.poll_output() {
                Output::Transmit { peer, bytes } => self.transmit(peer, bytes).await,
                Output::Event(e) => self.event(e).await,
                Output::Timeout(at) => {
                    // the endpoint's Instant is std; map it onto tokio's clock (paused in tests)
                    let std_now = std::time::Instant::now();
                    return Instant::now() + at.saturating_duration_since(std_now);
                }
            }
        }
    }

    async fn transmit(&mut self, peer: Peer, bytes: Vec<u8>) {
        match peer.transport {
            Transport::Udp => {
                let _ = self.udp.send_to(&bytes, peer.addr).await;
            }
            Transport::Tcp | Transport::Tls => {
                if let Some(tx) = self.streams.get(&peer) {
                    let _ = tx.try_send(bytes);
                }
            }
        }
    }

    async fn event(&mut self, e: Event) {
        match e {
            Event::IncomingCall(c) => self.offer(c).await,
            Event::Confirmed(id) => tracing::debug!(call = id.0, "phone call up"),
            Event::MediaChanged {
                call,
                remote_rtp,
                hold,
            } => {
                if let Some(l) = self.legs.get(&call) {
                    l.media_changed(remote_rtp, hold);
                }
            }
            Event::Key {
                call,
                key,
                duration_ms,
            } => {
                if let Some(l) = self.legs.get(&call) {
                    l.key(
                        key,
                        duration_ms.map(|ms| Duration::from_millis(u64::from(ms))),
                    );
                }
            }
            Event::Transfer { call, outcome } => {
                tracing::info!(call = call.0, ?outcome, "phone call transfer");
                if let Some(l) = self.legs.get(&call) {
                    l.transferred(Some(outcome));
                }
            }
            Event::Ended(id, reason) => {
                self.unanswered.remove(&id);
                self.metrics.calls_ended.fetch_add(1, Ordering::Relaxed);
                if let Some(l) = self.legs.remove(&id) {
                    l.end(reason);
                }
                tracing::info!(call = id.0, ?reason, "phone call ended");
            }
            Event::Refused(peer, reason) => {
                self.metrics.refused(reason);
                tracing::debug!(peer = %peer.addr, reason = reason.as_str(), "SIP request refused");
            }
            _ => {}
        }
    }

    /// Binds the call's RTP socket and answers, or refuses 503 when the application cannot take
    /// the call (its queue is full) or no socket can be bound.
    async fn offer(&mut self, c: IncomingCall) {
        let now = Instant::now().into_std();
        let Ok(permit) = self.calls.clone().try_reserve_owned() else {
            let _ = self.endpoint.reject(now, c.call, 503);
            return;
        };
        let opened = leg::open(
            self.settings.rtp_bind,
            c.remote_rtp,
            (c.call, self.requests.clone()),
            Arc::clone(&self.metrics),
        )
        .await;
        let (leg, control) = match opened {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot bind an RTP socket for a phone call");
                let _ = self.endpoint.reject(now, c.call, 503);
                return;
            }
        };
        let rtp = SocketAddr::new(self.settings.advertise, leg.local_addr().port());
        // A hand-off payment's call waits for the application to check the payment.
        let answered = c.room != RoomTarget::Payment;
        if answered {
            if self.endpoint.answer(now, c.call, rtp).is_err() {
                return;
            }
            self.metrics.calls_offered.fetch_add(1, Ordering::Relaxed);
            tracing::info!(call = c.call.0, trunk = %c.trunk, tenant = %c.tenant, codec = c.codec.name(), "phone call answered");
        } else {
            self.unanswered.insert(c.call, rtp);
        }
        self.legs.insert(c.call, control);
        permit.send(PhoneCall {
            call: c.call,
            trunk: c.trunk,
            tenant: c.tenant,
            room: c.room,
            called: c.called,
            codec: c.codec,
            telephone_event: c.telephone_event,
            answered,
            leg,
        });
    }
}
