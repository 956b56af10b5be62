//! The one-socket, one-thread loop of the sans-IO forwarders. It owns the UDP socket and a
//! waker; the engine-specific [`Handler`] owns every peer. Each turn: wait (epoll) until the
//! handler's next deadline, a datagram or a wake; read every waiting datagram (edge-triggered,
//! until `WouldBlock`) and hand each to the handler with its arrival instant; then let the
//! handler run its due timers. Datagrams out go with one `send_to` each; a full send buffer
//! drops the datagram and counts it.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};

const SOCKET: Token = Token(0);
const WAKER: Token = Token(1);
/// Largest datagram read (ICE/DTLS/SRTP on loopback stay far below).
const MAX_DATAGRAM: usize = 2048;

/// Send and receive buffer asked for the one socket: every peer's traffic queues there, and
/// Linux's default (212 KiB, a few hundred small datagrams) overflows within milliseconds at
/// tens of thousands of packets a second. The kernel caps it at `net.core.rmem_max` /
/// `wmem_max` (4 MiB on the bench machine); production servers raise those.
pub const SOCKET_BUFFER: usize = 4 << 20;

/// A non-blocking UDP socket on `addr` with [`SOCKET_BUFFER`]-byte buffers.
pub fn bind_buffered(addr: SocketAddr) -> std::io::Result<std::net::UdpSocket> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::DGRAM,
        Some(socket2::Protocol::UDP),
    )?;
    socket.set_recv_buffer_size(SOCKET_BUFFER)?;
    socket.set_send_buffer_size(SOCKET_BUFFER)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// Loop failures (only set-up and the poll itself fail; a lost datagram does not).
#[derive(Debug, thiserror::Error)]
pub enum LoopError {
    #[error("udp loop i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Where a handler sends its datagrams.
#[derive(Debug)]
pub struct Tx<'a> {
    socket: &'a UdpSocket,
    /// Datagrams dropped because the socket's send buffer was full (or the send failed).
    pub dropped: &'a mut u64,
}

impl Tx<'_> {
    /// Sends one datagram to `to`.
    pub fn send(&mut self, to: SocketAddr, data: &[u8]) {
        if self.socket.send_to(data, to).is_err() {
            *self.dropped += 1;
        }
    }
}

/// The engine side of the loop.
pub trait Handler {
    /// One datagram from `from`, read at `now`.
    fn datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8], tx: &mut Tx<'_>);
    /// Someone called the waker (commands wait in the handler's channel).
    fn woken(&mut self, now: Instant, tx: &mut Tx<'_>);
    /// Runs every timer due at `now`.
    fn timers(&mut self, now: Instant, tx: &mut Tx<'_>);
    /// The earliest pending deadline, if any.
    fn next_deadline(&mut self) -> Option<Instant>;
}

/// A bound socket and its poller, before the loop runs.
#[derive(Debug)]
pub struct UdpLoop {
    poll: Poll,
    socket: UdpSocket,
    waker: Arc<Waker>,
}

impl UdpLoop {
    /// Binds `addr` with [`SOCKET_BUFFER`]-byte kernel buffers and prepares the poller and the
    /// waker.
    pub fn bind(addr: SocketAddr) -> Result<Self, LoopError> {
        let poll = Poll::new()?;
        let mut socket = UdpSocket::from_std(bind_buffered(addr)?);
        poll.registry()
            .register(&mut socket, SOCKET, Interest::READABLE)?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        Ok(Self {
            poll,
            socket,
            waker,
        })
    }

    /// The bound address (the one host candidate every peer gets).
    pub fn local_addr(&self) -> Result<SocketAddr, LoopError> {
        Ok(self.socket.local_addr()?)
    }

    /// Wakes the loop from another thread.
    pub fn waker(&self) -> Arc<Waker> {
        Arc::clone(&self.waker)
    }

    /// Runs forever (until the poll fails).
    pub fn run(mut self, handler: &mut impl Handler) -> Result<(), LoopError> {
        let mut events = Events::with_capacity(64);
        let mut buf = vec![0u8; MAX_DATAGRAM];
        let mut dropped = 0u64;
        loop {
            let timeout = handler
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == ErrorKind::Interrupted {
                    continue;
                }
                return Err(e.into());
            }
            let mut tx = Tx {
                socket: &self.socket,
                dropped: &mut dropped,
            };
            for event in events.iter() {
                match event.token() {
                    SOCKET => loop {
                        match self.socket.recv_from(&mut buf) {
                            Ok((n, from)) => {
                                handler.datagram(Instant::now(), from, &buf[..n], &mut tx)
                            }
                            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                            // an ICMP error (a peer went away) is reported once: read on
                            Err(e) if e.kind() == ErrorKind::ConnectionRefused => continue,
                            Err(_) => break,
                        }
                    },
                    WAKER => handler.woken(Instant::now(), &mut tx),
                    _ => {}
                }
            }
            handler.timers(Instant::now(), &mut tx);
        }
    }
}
