//! Batched UDP for the driver: `recvmmsg` reads up to [`BATCH`] datagrams per system call and
//! `sendmmsg` sends up to [`BATCH`] queued ones per call (nix's safe wrappers; the buffers and
//! message headers are allocated once). A datagram that cannot be sent (full send buffer, an
//! unreachable destination) is dropped and counted, as one `send_to` would have dropped it.

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use mio::net::UdpSocket;
use nix::errno::Errno;
use nix::sys::socket::{
    ControlMessage, MsgFlags, MultiHeaders, SockaddrStorage, recvmmsg, sendmmsg,
};

/// Datagrams per system call.
pub const BATCH: usize = 32;
/// Largest datagram read.
pub const MAX_DATAGRAM: usize = 2048;

/// The receive buffers, the send queue and their message headers.
pub struct Batch {
    recv_headers: MultiHeaders<SockaddrStorage>,
    bufs: Vec<[u8; MAX_DATAGRAM]>,
    /// Length and sender of each datagram of the last [`Batch::recv`].
    received: Vec<(usize, Option<SocketAddr>)>,
    send_headers: MultiHeaders<SockaddrStorage>,
    queue: Vec<(SocketAddr, Vec<u8>)>,
}

impl Default for Batch {
    fn default() -> Self {
        Self {
            recv_headers: MultiHeaders::preallocate(BATCH, None),
            bufs: vec![[0; MAX_DATAGRAM]; BATCH],
            received: Vec::with_capacity(BATCH),
            send_headers: MultiHeaders::preallocate(BATCH, None),
            queue: Vec::with_capacity(BATCH),
        }
    }
}

impl Batch {
    /// Reads what waits, up to [`BATCH`] datagrams: how many (0: none waits). Datagram `i` is
    /// [`Batch::datagram`]`(i)` until the next call.
    pub fn recv(&mut self, socket: &UdpSocket) -> io::Result<usize> {
        self.received.clear();
        let mut iovs: Vec<[IoSliceMut<'_>; 1]> = self
            .bufs
            .iter_mut()
            .map(|b| [IoSliceMut::new(&mut b[..])])
            .collect();
        let got = recvmmsg(
            socket.as_raw_fd(),
            &mut self.recv_headers,
            iovs.iter_mut(),
            MsgFlags::MSG_DONTWAIT,
            None,
        );
        match got {
            Ok(msgs) => {
                for m in msgs {
                    self.received
                        .push((m.bytes.min(MAX_DATAGRAM), m.address.and_then(std_addr)));
                }
                Ok(self.received.len())
            }
            Err(Errno::EAGAIN) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    /// The `i`th datagram of the last [`Batch::recv`] and its sender (`None`: an address
    /// family the socket should not see).
    pub fn datagram(&self, i: usize) -> Option<(SocketAddr, &[u8])> {
        let (len, from) = *self.received.get(i)?;
        Some((from?, &self.bufs[i][..len]))
    }

    /// Queues a datagram; sends the queue when it is full. Returns how many were dropped.
    pub fn send(&mut self, socket: &UdpSocket, to: SocketAddr, datagram: Vec<u8>) -> u64 {
        self.queue.push((to, datagram));
        if self.queue.len() >= BATCH {
            return self.flush(socket);
        }
        0
    }

    /// Sends everything queued. Returns how many datagrams were dropped.
    pub fn flush(&mut self, socket: &UdpSocket) -> u64 {
        let mut dropped = 0;
        let mut at = 0;
        while at < self.queue.len() {
            let pending = &self.queue[at..];
            let iovs: Vec<[IoSlice<'_>; 1]> =
                pending.iter().map(|(_, d)| [IoSlice::new(d)]).collect();
            let addrs: Vec<Option<SockaddrStorage>> = pending
                .iter()
                .map(|(to, _)| Some(SockaddrStorage::from(*to)))
                .collect();
            let no_cmsgs: [ControlMessage<'_>; 0] = [];
            let sent = sendmmsg(
                socket.as_raw_fd(),
                &mut self.send_headers,
                &iovs,
                &addrs,
                no_cmsgs,
                MsgFlags::MSG_DONTWAIT,
            )
            .map(Iterator::count);
            match sent {
                Ok(n) if n > 0 => at += n,
                Err(Errno::EINTR) => {}
                // The first one failed (full buffer, unreachable): drop it, go on.
                _ => {
                    dropped += 1;
                    at += 1;
                }
            }
        }
        self.queue.clear();
        dropped
    }

    /// Datagrams queued, not yet sent.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }
}

fn std_addr(a: SockaddrStorage) -> Option<SocketAddr> {
    if let Some(v4) = a.as_sockaddr_in() {
        return Some(SocketAddr::V4(SocketAddrV4::from(*v4)));
    }
    a.as_sockaddr_in6()
        .map(|v6| SocketAddr::V6(SocketAddrV6::from(*v6)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_goes_out_and_comes_back_in_order() -> io::Result<()> {
        let a = UdpSocket::bind("127.0.0.1:0".parse().map_err(io::Error::other)?)?;
        let b = UdpSocket::bind("127.0.0.1:0".parse().map_err(io::Error::other)?)?;
        let to = b.local_addr()?;
        let mut out = Batch::default();
        // More than one batch: the queue is sent when full, the rest by flush.
        for i in 0..BATCH + 5 {
            assert_eq!(out.send(&a, to, vec![i as u8; 10 + i]), 0);
        }
        assert_eq!(out.queued(), 5);
        assert_eq!(out.flush(&a), 0);
        let mut inn = Batch::default();
        let mut got = Vec::new();
        for _ in 0..1000 {
            let n = inn.recv(&b)?;
            for i in 0..n {
                if let Some((from, d)) = inn.datagram(i) {
                    assert_eq!(from, a.local_addr()?);
                    got.push(d.to_vec());
                }
            }
            if got.len() == BATCH + 5 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        let want: Vec<Vec<u8>> = (0..BATCH + 5).map(|i| vec![i as u8; 10 + i]).collect();
        assert_eq!(got, want);
        assert_eq!(inn.recv(&b)?, 0, "drained");
        Ok(())
    }
}
