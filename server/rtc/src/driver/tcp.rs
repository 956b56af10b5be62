//! ICE-TCP connections of the driver: accepted on the passive port, or opened when the
//! endpoint sends to a TCP address it has no connection to (an active candidate). Bounded:
//! at most [`MAX_CONNECTIONS`], each with at most [`MAX_PENDING_WRITE`] bytes waiting to be
//! written (audio past that is dropped, as a full UDP buffer drops it).

use std::collections::HashMap;
use std::io::{self, ErrorKind, Read, Write};
use std::net::SocketAddr;

use mio::net::TcpStream;
use mio::{Interest, Registry, Token};

use super::framing::{FrameReader, frame};

/// Connections open at once.
pub const MAX_CONNECTIONS: usize = 4096;
/// Bytes waiting to be written on one connection.
pub const MAX_PENDING_WRITE: usize = 256 * 1024;
/// Bytes read from a connection at a time.
const READ_CHUNK: usize = 4096;
/// Tokens of connections start here (below: the UDP socket, the listener, the waker).
pub const FIRST_TOKEN: usize = 16;

pub struct Conn {
    stream: TcpStream,
    pub remote: SocketAddr,
    reader: FrameReader,
    pending: Vec<u8>,
}

/// Every TCP connection of one driver.
#[derive(Default)]
pub struct Conns {
    by_token: HashMap<Token, Conn>,
    by_remote: HashMap<SocketAddr, Token>,
    next: usize,
    /// Frames dropped (connection limit, full write buffer, failed connect).
    pub dropped: u64,
}

impl Conns {
    /// Adds a connection (accepted or connecting); false (and closed) at the limit.
    pub fn add(&mut self, registry: &Registry, mut stream: TcpStream, remote: SocketAddr) -> bool {
        if self.by_token.len() >= MAX_CONNECTIONS {
            return false;
        }
        self.next += 1;
        let token = Token(FIRST_TOKEN + self.next);
        if registry
            .register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            .is_err()
        {
            return false;
        }
        if let Some(old) = self.by_remote.insert(remote, token) {
            self.by_token.remove(&old);
        }
        self.by_token.insert(
            token,
            Conn {
                stream,
                remote,
                reader: FrameReader::default(),
                pending: Vec::new(),
            },
        );
        true
    }

    /// Sends one datagram framed to `remote`, connecting first if needed.
    pub fn send(&mut self, registry: &Registry, remote: SocketAddr, datagram: &[u8]) {
        let Some(framed) = frame(datagram) else {
            self.dropped += 1;
            return;
        };
        if !self.by_remote.contains_key(&remote) {
            let ok = TcpStream::connect(remote).is_ok_and(|s| self.add(registry, s, remote));
            if !ok {
                self.dropped += 1;
                return;
            }
        }
        let Some(conn) = self
            .by_remote
            .get(&remote)
            .and_then(|t| self.by_token.get_mut(t))
        else {
            return;
        };
        if conn.pending.len() + framed.len() > MAX_PENDING_WRITE {
            self.dropped += 1;
            return;
        }
        conn.pending.extend_from_slice(&framed);
        if flush(conn).is_err() {
            let token = self.by_remote.get(&remote).copied();
            if let Some(t) = token {
                self.remove(registry, t);
            }
        }
    }

    /// Reads what `token` has, calling `frame` with each whole datagram and its sender;
    /// flushes what waits to be written. A closed or failed connection is removed.
    pub fn ready(
        &mut self,
        registry: &Registry,
        token: Token,
        mut on_frame: impl FnMut(SocketAddr, &[u8]),
    ) {
        let Some(conn) = self.by_token.get_mut(&token) else {
            return;
        };
        let mut alive = flush(conn).is_ok();
        while alive {
            let want = READ_CHUNK;
            let dst = conn.reader.spare(want);
            match conn.stream.read(dst) {
                Ok(0) => {
                    conn.reader.filled(want, 0);
                    alive = false;
                }
                Ok(n) => {
                    conn.reader.filled(want, n);
                    while let Some(f) = conn.reader.next_frame() {
                        on_frame(conn.remote, f);
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    conn.reader.filled(want, 0);
                    break;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => conn.reader.filled(want, 0),
                Err(_) => {
                    conn.reader.filled(want, 0);
                    alive = false;
                }
            }
        }
        if !alive {
            self.remove(registry, token);
        }
    }

    /// True if `token` is one of these connections.
    pub fn owns(&self, token: Token) -> bool {
        self.by_token.contains_key(&token)
    }

    fn remove(&mut self, registry: &Registry, token: Token) {
        if let Some(mut conn) = self.by_token.remove(&token) {
            let _ = registry.deregister(&mut conn.stream);
            if self.by_remote.get(&conn.remote) == Some(&token) {
                self.by_remote.remove(&conn.remote);
            }
        }
    }
}

/// Writes what waits, until done or the socket would block.
fn flush(conn: &mut Conn) -> io::Result<()> {
    while !conn.pending.is_empty() {
        match conn.stream.write(&conn.pending) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => {
                conn.pending.drain(..n);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock || e.kind() == ErrorKind::NotConnected => {
                return Ok(());
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
