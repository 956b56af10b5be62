//! The RTP leg of an answered phone call: one UDP socket, one task.
//!
//! The application holds a [`PhoneLeg`]: [`PhoneLeg::recv`] yields what happens on the leg
//! (each RTP datagram from the caller, hold and resume, keys signalled by SIP INFO, how a
//! transfer went, the end of the call), [`PhoneLeg::send_rtp`] sends an RTP packet to the
//! caller, [`PhoneLeg::transfer`] sends the caller on (a REFER) and [`PhoneLeg::hang_up`] ends
//! the call from our side. A call to a hand-off payment is not answered until the application
//! says so ([`PhoneLeg::answer`]). Datagrams from any address other
//! than the one the caller's SDP named are dropped and counted (no latching onto a stranger).
//! G.711 payloads decode with `hushpay_media::g711`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hushpay_sip::dispatch::RoomTarget;
use hushpay_sip::sdp::Codec;
use hushpay_sip::{CallId, EndReason, TransferOutcome};
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use super::metrics::SipMetrics;

/// Datagrams buffered toward the application before the leg drops (≈ 2.5 s of 20 ms packets).
const LEG_QUEUE: usize = 128;
/// Largest RTP datagram read.
const MAX_RTP: usize = 1500;

/// A phone call offered to and answered for the application.
#[derive(Debug)]
pub struct PhoneCall {
    pub call: CallId,
    pub trunk: String,
    pub tenant: String,
    pub room: RoomTarget,
    /// The called number (the Request-URI's user part).
    pub called: Option<String>,
    pub codec: Codec,
    pub telephone_event: Option<u8>,
    /// False for a call to a hand-off payment ([`RoomTarget::Payment`]): the application
    /// answers it ([`PhoneLeg::answer`]) once it has checked the payment.
    pub answered: bool,
    pub leg: PhoneLeg,
}

/// What the application asks of the SIP listener for one call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LegRequest {
    /// Answer an offered call (`true`), or refuse it `404`.
    Answer(bool),
    /// End the call; the BYE carries these headers.
    HangUp(Vec<(String, String)>),
    /// Send the caller to `target` (a REFER carrying `headers`).
    Transfer {
        target: String,
        headers: Vec<(String, String)>,
    },
}

/// What happens on a leg.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LegEvent {
    /// One RTP datagram from the caller, as received.
    Rtp(Vec<u8>),
    /// The caller put the call on hold (`true`) or resumed it.
    Hold(bool),
    /// A key the caller's phone signalled in a SIP INFO, held this long when it said so.
    Key(char, Option<std::time::Duration>),
    /// How a transfer went ([`PhoneLeg::transfer`]); `None`: it could not be sent (the call
    /// was not up, or a transfer was already under way).
    Transferred(Option<TransferOutcome>),
    /// The call ended; no more events follow.
    Ended(EndReason),
}

/// The application's end of a leg.
#[derive(Debug)]
pub struct PhoneLeg {
    call: CallId,
    events: mpsc::Receiver<LegEvent>,
    rtp_out: mpsc::Sender<Vec<u8>>,
    requests: mpsc::UnboundedSender<(CallId, LegRequest)>,
    local: SocketAddr,
}

impl PhoneLeg {
    /// The next event; `None` once the leg's task is gone.
    pub async fn recv(&mut self) -> Option<LegEvent> {
        self.events.recv().await
    }

    /// Queues an RTP packet to the caller; `false` when the leg has ended.
    pub async fn send_rtp(&self, packet: Vec<u8>) -> bool {
        self.rtp_out.send(packet).await.is_ok()
    }

    /// Ends the call from our side: the SIP listener sends the caller a BYE (or refuses a
    /// call not yet up), then this leg sees [`LegEvent::Ended`] with [`EndReason::HungUp`].
    pub fn hang_up(&self) {
        self.hang_up_with(Vec::new());
    }

    /// [`Self::hang_up`] with headers on the BYE (names and values without CR or LF).
    pub fn hang_up_with(&self, headers: Vec<(String, String)>) {
        let _ = self.requests.send((self.call, LegRequest::HangUp(headers)));
    }

    /// Answers a call that waits for the application ([`PhoneCall::answered`] false), or
    /// refuses it `404` (then this leg sees [`LegEvent::Ended`]).
    pub fn answer(&self, accept: bool) {
        let _ = self.requests.send((self.call, LegRequest::Answer(accept)));
    }

    /// Sends the caller to `target` (a `sip:` or `sips:` URI) by a REFER with `headers`;
    /// [`LegEvent::Transferred`] says how it went. The call stays up until hung up.
    pub fn transfer(&self, target: String, headers: Vec<(String, String)>) {
        let _ = self
            .requests
            .send((self.call, LegRequest::Transfer { target, headers }));
    }

    /// Our RTP address for this leg (what the SDP answer named, before `advertise`).
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }
}

/// The server's end of a leg: control of the task.
#[derive(Debug)]
pub(crate) struct LegControl {
    control: mpsc::UnboundedSender<Control>,
}

#[derive(Debug)]
enum Control {
    Remote(SocketAddr, bool),
    Key(char, Option<std::time::Duration>),
    Transferred(Option<TransferOutcome>),
    End(EndReason),
}

impl LegControl {
    pub(crate) fn media_changed(&self, remote: SocketAddr, hold: bool) {
        let _ = self.control.send(Control::Remote(remote, hold));
    }

    pub(crate) fn key(&self, key: char, held: Option<std::time::Duration>) {
        let _ = self.control.send(Control::Key(key, held));
    }

    pub(crate) fn transferred(&self, outcome: Option<TransferOutcome>) {
        let _ = self.control.send(Control::Transferred(outcome));
    }

    pub(crate) fn end(&self, reason: EndReason) {
        let _ = self.control.send(Control::End(reason));
    }
}

/// Binds the leg's socket and starts its task.
pub(crate) async fn open(
    bind: std::net::IpAddr,
    remote: SocketAddr,
    (call, requests): (CallId, mpsc::UnboundedSender<(CallId, LegRequest)>),
    metrics: Arc<SipMetrics>,
) -> std::io::Result<(PhoneLeg, LegControl)> {
    let socket = UdpSocket::bind(SocketAddr::new(bind, 0)).await?;
    let local = socket.local_addr()?;
    let (ev_tx, ev_rx) = mpsc::channel(LEG_QUEUE);
    let (out_tx, out_rx) = mpsc::channel(LEG_QUEUE);
    let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
    tokio::spawn(run(socket, remote, ev_tx, out_rx, ctl_rx, metrics));
    Ok((
        PhoneLeg {
            call,
            events: ev_rx,
            rtp_out: out_tx,
            requests,
            local,
        },
        LegControl { control: ctl_tx },
    ))
}

async fn run(
    socket: UdpSocket,
    mut remote: SocketAddr,
    events: mpsc::Sender<LegEvent>,
    mut rtp_out: mpsc::Receiver<Vec<u8>>,
    mut control: mpsc::UnboundedReceiver<Control>,
    metrics: Arc<SipMetrics>,
) {
    let mut buf = vec![0u8; MAX_RTP];
    loop {
        tokio::select! {
            got = socket.recv_from(&mut buf) => {
                let Ok((n, from)) = got else { continue };
                if !hushpay_sip::endpoint::same_host(from.ip(), remote.ip()) || from.port() != remote.port() {
                    metrics.rtp_foreign.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if events.try_send(LegEvent::Rtp(buf[..n].to_vec())).is_err() {
                    metrics.rtp_dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            Some(packet) = rtp_out.recv() => {
                if !remote.ip().is_unspecified() && socket.send_to(&packet, remote).await.is_ok() {
                    metrics.rtp_sent.fetch_add(1, Ordering::Relaxed);
                }
            }
            c = control.recv() => match c {
                Some(Control::Remote(addr, hold)) => {
                    remote = addr;
                    let _ = events.send(LegEvent::Hold(hold)).await;
                }
                Some(Control::Key(key, held)) => {
                    let _ = events.send(LegEvent::Key(key, held)).await;
                }
                Some(Control::Transferred(outcome)) => {
                    let _ = events.send(LegEvent::Transferred(outcome)).await;
                }
                Some(Control::End(reason)) => {
                    let _ = events.send(LegEvent::Ended(reason)).await;
                    return;
                }
                None => return,
            },
        }
    }
}
