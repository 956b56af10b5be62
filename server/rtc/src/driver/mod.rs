//! The thin driver (feature `driver`): one thread's poll loop owning the endpoint's sockets —
//! one UDP socket, and for ICE-TCP one listener and its connections (RFC 4571 framing) — and
//! the clock. It feeds the [`Endpoint`] what arrives, sends what it transmits, and hands every
//! peer event to the [`Worker`] that runs the media logic on the same thread.
//!
//! UDP goes in batches (`udp.rs`): up to 32 datagrams per `recvmmsg`, and what a batch (or a
//! turn's timers and commands) makes is sent with one `sendmmsg` after it, so a forwarded
//! packet costs about one system call instead of three.
//!
//! Other threads talk to the worker through a channel of their own and wake the loop with
//! [`Driver::waker`]; nothing here is shared or locked per packet.

mod framing;
mod tcp;
mod udp;

use std::io::{self, ErrorKind};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::{TcpListener, UdpSocket};
use mio::{Events, Interest, Poll, Token, Waker};

use crate::{Endpoint, EndpointConfig, Output, PeerEvent, PeerId, Protocol};

pub use framing::{FrameReader, MAX_FRAME, frame};
pub use tcp::{MAX_CONNECTIONS, MAX_PENDING_WRITE};

const UDP: Token = Token(0);
const LISTENER: Token = Token(1);
const WAKER: Token = Token(2);
/// Socket buffers asked for (audio bursts of hundreds of peers).
const SOCKET_BUFFER: usize = 4 * 1024 * 1024;

/// The media logic that runs on the driver's thread.
pub trait Worker {
    /// The waker was called: handle the commands waiting in the worker's channel.
    fn commands(&mut self, now: Instant, endpoint: &mut Endpoint);
    /// One event of one peer.
    fn event(&mut self, now: Instant, endpoint: &mut Endpoint, peer: PeerId, event: PeerEvent);
    /// The worker's own next deadline (held packets, players), if any.
    fn poll_timeout(&mut self) -> Option<Instant>;
    /// Runs the worker's timers due at `now`.
    fn timeout(&mut self, now: Instant, endpoint: &mut Endpoint);
    /// Stops the loop when true (checked every turn).
    fn is_done(&self) -> bool {
        false
    }
}

/// Counters of the driver.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriverStats {
    /// Datagrams read (UDP, and frames on TCP).
    pub received: u64,
    /// Of which frames on TCP.
    pub received_tcp: u64,
    /// Of which refused by the endpoint.
    pub refused: u64,
    /// Datagrams sent.
    pub sent: u64,
    /// Datagrams dropped on the way out (full send buffer, TCP limits).
    pub dropped: u64,
}

/// The sockets, bound, with the endpoint they feed.
pub struct Driver {
    poll: Poll,
    waker: Arc<Waker>,
    udp: UdpSocket,
    udp_addr: SocketAddr,
    listener: Option<(TcpListener, SocketAddr)>,
    conns: tcp::Conns,
    endpoint: Endpoint,
    stats: DriverStats,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("udp", &self.udp_addr)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Driver {
    /// Binds `config.udp` (and `config.tcp`; port 0 picks one) and builds the endpoint on the
    /// addresses actually bound.
    pub fn bind(mut config: EndpointConfig) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut udp = UdpSocket::from_std(bind_udp(config.udp)?);
        config.udp = udp.local_addr()?;
        poll.registry()
            .register(&mut udp, UDP, Interest::READABLE)?;
        let listener = match config.tcp {
            Some(addr) if !config.tcp_active => {
                let mut l = TcpListener::bind(addr)?;
                let bound = l.local_addr()?;
                config.tcp = Some(bound);
                poll.registry()
                    .register(&mut l, LISTENER, Interest::READABLE)?;
                Some((l, bound))
            }
            _ => None,
        };
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        Ok(Self {
            poll,
            waker,
            udp_addr: config.udp,
            udp,
            listener,
            conns: tcp::Conns::default(),
            endpoint: Endpoint::new(config),
            stats: DriverStats::default(),
        })
    }

    /// Wakes the loop from another thread (after queueing a command for the worker).
    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }

    /// The endpoint's configuration with the addresses bound.
    pub fn config(&self) -> &EndpointConfig {
        self.endpoint.config()
    }

    /// Runs the loop on this thread until the worker is done or polling fails.
    ///
    /// Each turn: wait for a datagram, a connection, a wake-up or the next deadline; read the
    /// UDP socket in batches until it is drained (each batch handed to the endpoint and the
    /// worker datagram by datagram, their transmits sent together after the batch); then run
    /// the timers that are due and send what they made.
    pub fn run<W: Worker>(mut self, worker: &mut W) -> io::Result<DriverStats> {
        let mut events = Events::with_capacity(1024);
        // Made here, on the loop's thread: its message headers hold raw pointers (not `Send`).
        let mut batch = udp::Batch::default();
        while !worker.is_done() {
            let deadline = [self.endpoint.poll_timeout(), worker.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            let wait = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self
                .poll
                .poll(&mut events, wait.map(|w| w.max(Duration::from_micros(100))))
            {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for ev in &events {
                let now = Instant::now();
                match ev.token() {
                    UDP => self.read_udp(now, &mut batch, worker),
                    LISTENER => self.accept(),
                    WAKER => {
                        worker.commands(now, &mut self.endpoint);
                        self.pump(now, &mut batch, worker);
                    }
                    token => self.read_tcp(now, token, &mut batch, worker),
                }
            }
            let now = Instant::now();
            self.endpoint.handle_timeout(now);
            if worker.poll_timeout().is_some_and(|t| t <= now) {
                worker.timeout(now, &mut self.endpoint);
            }
            self.pump(now, &mut batch, worker);
            self.flush(&mut batch);
        }
        Ok(self.stats)
    }

    /// Reads the UDP socket until it is drained, [`udp::BATCH`] datagrams per system call.
    fn read_udp<W: Worker>(&mut self, now: Instant, batch: &mut udp::Batch, worker: &mut W) {
        loop {
            let n = match batch.recv(&self.udp) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                // An ICMP error of a past send is reported once: read on.
                Err(e) if e.kind() == ErrorKind::ConnectionRefused => continue,
                Err(_) => return,
            };
            for i in 0..n {
                self.stats.received += 1;
                let Some((from, data)) = batch.datagram(i) else {
                    self.stats.refused += 1;
                    continue;
                };
                let to = self.udp_addr;
                if self
                    .endpoint
                    .handle_datagram(now, Protocol::Udp, from, to, data)
                    .is_err()
                {
                    self.stats.refused += 1;
                }
                self.pump(now, batch, worker);
            }
            self.flush(batch);
            // A short batch drained the socket (a datagram arriving later is a new edge).
            if n < udp::BATCH {
                return;
            }
        }
    }

    fn accept(&mut self) {
        let Some((listener, _)) = &self.listener else {
            return;
        };
        while let Ok((stream, remote)) = listener.accept() {
            if !self.conns.add(self.poll.registry(), stream, remote) {
                self.stats.dropped += 1;
            }
        }
    }

    fn read_tcp<W: Worker>(
        &mut self,
        now: Instant,
        token: Token,
        batch: &mut udp::Batch,
        worker: &mut W,
    ) {
        if !self.conns.owns(token) {
            return;
        }
        let local = match &self.listener {
            Some((_, a)) => *a,
            None => self.endpoint.config().tcp.unwrap_or(self.udp_addr),
        };
        let mut frames = Vec::new();
        self.conns.ready(self.poll.registry(), token, |from, f| {
            frames.push((from, f.to_vec()))
        });
        for (from, f) in frames {
            self.stats.received += 1;
            self.stats.received_tcp += 1;
            if self
                .endpoint
                .handle_datagram(now, Protocol::Tcp, from, local, &f)
                .is_err()
            {
                self.stats.refused += 1;
            }
            self.pump(now, batch, worker);
        }
    }

    /// Queues what the endpoint transmits (UDP goes out with the next [`Driver::flush`], or
    /// when a batch is full; TCP at once) and hands its events to the worker, until both are
    /// quiet (a worker's reaction may transmit more).
    fn pump<W: Worker>(&mut self, now: Instant, batch: &mut udp::Batch, worker: &mut W) {
        while let Some(out) = self.endpoint.poll_output() {
            match out {
                Output::Transmit(t) => match t.proto {
                    Protocol::Udp => {
                        self.stats.sent += 1;
                        let dropped = batch.send(&self.udp, t.destination, t.contents);
                        self.count_dropped(dropped);
                    }
                    _ => {
                        let before = self.conns.dropped;
                        self.conns
                            .send(self.poll.registry(), t.destination, &t.contents);
                        if self.conns.dropped == before {
                            self.stats.sent += 1;
                        } else {
                            self.stats.dropped += 1;
                        }
                    }
                },
                Output::Event(peer, event) => worker.event(now, &mut self.endpoint, peer, event),
            }
        }
    }

    /// Sends the queued UDP datagrams.
    fn flush(&mut self, batch: &mut udp::Batch) {
        if batch.queued() > 0 {
            let dropped = batch.flush(&self.udp);
            self.count_dropped(dropped);
        }
    }

    /// `dropped` datagrams counted as sent did not go out after all.
    fn count_dropped(&mut self, dropped: u64) {
        self.stats.sent -= dropped;
        self.stats.dropped += dropped;
    }
}

/// A non-blocking UDP socket on `addr` with large buffers (the kernel caps them at
/// `net.core.rmem_max`/`wmem_max`, which is fine).
fn bind_udp(addr: SocketAddr) -> io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, None)?;
    let _ = socket.set_recv_buffer_size(SOCKET_BUFFER);
    let _ = socket.set_send_buffer_size(SOCKET_BUFFER);
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}
