//! Finding the gateway's public address with one STUN binding request (RFC 8489) at start-up,
//! for `rtc.stun_server` when `rtc.public_ip` is not set: the request leaves from the media
//! bind address, the server answers with the address it saw (XOR-MAPPED-ADDRESS), and that is
//! the address host candidates then carry.
//!
//! [`binding_request`] and [`mapped_address`] are pure; [`discover`] sends the request (again
//! at 0.5 s, 1.5 s, ... as RFC 8489 section 6.2.1 retransmits) until the timeout.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use rand::RngCore;
use thiserror::Error;

const MAGIC_COOKIE: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
const BINDING_SUCCESS: u16 = 0x0101;
const BINDING_ERROR: u16 = 0x0111;
const ATTR_MAPPED_ADDRESS: u16 = 0x0001;
const ATTR_XOR_MAPPED_ADDRESS: u16 = 0x0020;
const HEADER_LEN: usize = 20;

/// A STUN transaction id (96 random bits).
pub type TransactionId = [u8; 12];

/// Why no public address was found.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StunError {
    #[error("cannot resolve STUN server `{server}`: {reason}")]
    Resolve { server: String, reason: String },
    #[error("cannot send to STUN server {server} from {local}: {source}")]
    Io {
        server: SocketAddr,
        local: SocketAddr,
        source: std::io::Error,
    },
    #[error("no answer from STUN server {server} within {timeout:?}")]
    Timeout {
        server: SocketAddr,
        timeout: Duration,
    },
    #[error("the STUN server refused the binding request")]
    Refused,
    #[error("malformed STUN response: {0}")]
    Malformed(&'static str),
}

/// A binding request with transaction id `id` (no attributes).
pub fn binding_request(id: &TransactionId) -> [u8; HEADER_LEN] {
    let mut m = [0u8; HEADER_LEN];
    m[0..2].copy_from_slice(&BINDING_REQUEST.to_be_bytes());
    // Length 0: bytes 2..4 stay zero.
    m[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    m[8..20].copy_from_slice(id);
    m
}

/// The address a binding success response to transaction `id` reports; `Ok(None)` for a
/// datagram that is not a response to `id` (ignored, as a stray packet would be).
pub fn mapped_address(msg: &[u8], id: &TransactionId) -> Result<Option<SocketAddr>, StunError> {
    if msg.len() < HEADER_LEN || msg[4..8] != MAGIC_COOKIE.to_be_bytes() || msg[8..20] != id[..] {
        return Ok(None);
    }
    let kind = u16::from_be_bytes([msg[0], msg[1]]);
    if kind == BINDING_ERROR {
        return Err(StunError::Refused);
    }
    if kind != BINDING_SUCCESS {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([msg[2], msg[3]]));
    let body = msg
        .get(HEADER_LEN..HEADER_LEN + len)
        .ok_or(StunError::Malformed("shorter than its length"))?;
    let mut plain = None;
    let mut at = 0;
    while at + 4 <= body.len() {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let len = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        let value = body
            .get(at + 4..at + 4 + len)
            .ok_or(StunError::Malformed("attribute past the end"))?;
        match kind {
            ATTR_XOR_MAPPED_ADDRESS => return address(value, Some(id)).map(Some),
            ATTR_MAPPED_ADDRESS => plain = Some(address(value, None)?),
            _ => {}
        }
        at += 4 + len.div_ceil(4) * 4;
    }
    plain
        .map(Some)
        .ok_or(StunError::Malformed("no mapped address"))
}

/// A (XOR-)MAPPED-ADDRESS value; `xor` carries the transaction id when it is XORed.
fn address(v: &[u8], xor: Option<&TransactionId>) -> Result<SocketAddr, StunError> {
    let mut key = [0u8; 16];
    key[..4].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    if let Some(id) = xor {
        key[4..].copy_from_slice(id);
    }
    let mask = |b: &[u8]| -> Vec<u8> {
        b.iter()
            .zip(key.iter())
            .map(|(x, k)| if xor.is_some() { x ^ k } else { *x })
            .collect()
    };
    let port_bytes = mask(v.get(2..4).ok_or(StunError::Malformed("short address"))?);
    let port = u16::from_be_bytes([port_bytes[0], port_bytes[1]]);
    // The port is XORed with the cookie's top half: `mask` over bytes 2..4 used key[0..2].
    let ip = match (v.get(1), v.len()) {
        (Some(1), 8) => {
            let b = mask(&v[4..8]);
            IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
        }
        (Some(2), 20) => {
            let b: [u8; 16] = mask(&v[4..20])
                .try_into()
                .map_err(|_| StunError::Malformed("short IPv6 address"))?;
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return Err(StunError::Malformed("unknown address family")),
    };
    Ok(SocketAddr::new(ip, port))
}

/// Asks `server` (`host:port`) which address datagrams from `bind_ip` arrive from; gives up
/// after `timeout`.
pub async fn discover(
    server: &str,
    bind_ip: IpAddr,
    timeout: Duration,
) -> Result<SocketAddr, StunError> {
    let resolve = |reason: String| StunError::Resolve {
        server: server.to_owned(),
        reason,
    };
    let target = tokio::net::lookup_host(server)
        .await
        .map_err(|e| resolve(e.to_string()))?
        .find(|a| a.is_ipv4() == bind_ip.is_ipv4())
        .ok_or_else(|| resolve(format!("no address of the family of {bind_ip}")))?;
    let local = SocketAddr::new(bind_ip, 0);
    let io = |source| StunError::Io {
        server: target,
        local,
        source,
    };
    let socket = tokio::net::UdpSocket::bind(local).await.map_err(io)?;
    let mut id = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut id);
    let request = binding_request(&id);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut wait = Duration::from_millis(500);
    let mut buf = [0u8; 1500];
    loop {
        socket.send_to(&request, target).await.map_err(io)?;
        let resend_at = (tokio::time::Instant::now() + wait).min(deadline);
        while let Ok(got) = tokio::time::timeout_at(resend_at, socket.recv_from(&mut buf)).await {
            let (n, from) = got.map_err(io)?;
            if from != target {
                continue;
            }
            if let Some(addr) = mapped_address(&buf[..n], &id)? {
                return Ok(addr);
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StunError::Timeout {
                server: target,
                timeout,
            });
        }
        wait *= 2;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use rtc::stun::message::{BINDING_SUCCESS as RTC_SUCCESS, Getter, Message, Setter};
    use rtc::stun::xoraddr::XorMappedAddress;

    const ID: TransactionId = *b"0123456789ab";

    /// A binding success for `id` built by webrtc-rs's STUN crate.
    fn response(id: &TransactionId, addr: SocketAddr) -> Vec<u8> {
        let mut m = Message::new();
        m.transaction_id = rtc::stun::message::TransactionId(*id);
        m.typ = RTC_SUCCESS;
        m.write_header();
        XorMappedAddress {
            ip: addr.ip(),
            port: addr.port(),
        }
        .add_to(&mut m)
        .unwrap();
        m.raw.clone()
    }

    #[test]
    fn the_request_decodes_as_a_binding_request() {
        let mut m = Message::new();
        m.unmarshal_binary(&binding_request(&ID)).unwrap();
        assert_eq!(m.typ, rtc::stun::message::BINDING_REQUEST);
        assert_eq!(m.transaction_id.0, ID);
    }

    #[test]
    fn reads_xor_mapped_addresses_v4_and_v6() {
        for addr in ["203.0.113.7:40123", "[2001:db8::7]:3478"] {
            let addr: SocketAddr = addr.parse().unwrap();
            assert_eq!(
                mapped_address(&response(&ID, addr), &ID).unwrap(),
                Some(addr)
            );
        }
    }

    #[test]
    fn ignores_other_transactions_and_refuses_garbage() {
        let addr: SocketAddr = "203.0.113.7:1".parse().unwrap();
        assert_eq!(
            mapped_address(&response(b"another-one!", addr), &ID).unwrap(),
            None
        );
        assert_eq!(mapped_address(b"short", &ID).unwrap(), None);
        let mut truncated = response(&ID, addr);
        truncated.truncate(26);
        assert!(mapped_address(&truncated, &ID).is_err());
        let mut error = response(&ID, addr);
        error[0..2].copy_from_slice(&BINDING_ERROR.to_be_bytes());
        assert!(matches!(
            mapped_address(&error, &ID),
            Err(StunError::Refused)
        ));
        let mut parsed = Message::new();
        parsed.unmarshal_binary(&response(&ID, addr)).unwrap();
        let mut x = XorMappedAddress::default();
        x.get_from(&parsed).unwrap();
        assert_eq!(x.port, 1, "control: the fixture is what webrtc-rs reads");
    }

    #[tokio::test]
    async fn discovers_through_a_real_socket_and_times_out_on_silence() {
        let server = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server_addr = server.local_addr().unwrap();
        let answered = tokio::spawn(async move {
            let mut buf = [0u8; 1500];
            // The first request is dropped: the client must retransmit.
            let _ = server.recv_from(&mut buf).await.unwrap();
            let (n, from) = server.recv_from(&mut buf).await.unwrap();
            let mut req = Message::new();
            req.unmarshal_binary(&buf[..n]).unwrap();
            let reply = response(&req.transaction_id.0, from);
            server.send_to(&reply, from).await.unwrap();
            from
        });
        let got = discover(
            &server_addr.to_string(),
            [127, 0, 0, 1].into(),
            Duration::from_secs(3),
        )
        .await
        .unwrap();
        assert_eq!(got, answered.await.unwrap());

        let silent = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let started = std::time::Instant::now();
        let err = discover(
            &silent.local_addr().unwrap().to_string(),
            [127, 0, 0, 1].into(),
            Duration::from_millis(700),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StunError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(err.to_string().contains("no answer from STUN server"));
        let err = discover(
            "not-a-host-and-port",
            [127, 0, 0, 1].into(),
            Duration::from_millis(100),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, StunError::Resolve { .. }), "{err}");
    }
}
