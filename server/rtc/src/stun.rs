//! Just enough STUN (RFC 8489) to demultiplex: the local ICE ufrag a binding request is for.
//!
//! A connectivity check carries `USERNAME` = `<receiver's ufrag>:<sender's ufrag>` (RFC 8445
//! section 7.2.2); the receiver's part names the peer on this endpoint. Everything else about
//! the request (integrity, fingerprint) is checked by the peer's ICE agent, not here.

/// STUN magic cookie (RFC 8489 section 5).
const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
/// Attribute type of `USERNAME`.
const USERNAME: u16 = 0x0006;
/// A STUN header is 20 bytes.
const HEADER: usize = 20;
/// Longest `USERNAME` (RFC 8489 section 14.3: < 513 bytes).
const MAX_USERNAME: usize = 512;

/// True if `datagram` looks like a STUN message (RFC 7983: first byte 0-3, then the cookie).
pub fn is_stun(datagram: &[u8]) -> bool {
    datagram.len() >= HEADER && datagram[0] < 4 && datagram[4..8] == MAGIC_COOKIE
}

/// The local ufrag of a STUN message carrying `USERNAME` (a binding request), or `None` for
/// anything else, truncated or malformed.
pub fn local_ufrag(datagram: &[u8]) -> Option<&str> {
    if !is_stun(datagram) {
        return None;
    }
    let length = usize::from(u16::from_be_bytes([datagram[2], datagram[3]]));
    let body = datagram.get(HEADER..HEADER.checked_add(length)?)?;
    let mut at = 0;
    while let Some(head) = body.get(at..at + 4) {
        let kind = u16::from_be_bytes([head[0], head[1]]);
        let len = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let value = body.get(at + 4..at + 4 + len)?;
        if kind == USERNAME {
            if len > MAX_USERNAME {
                return None;
            }
            let username = std::str::from_utf8(value).ok()?;
            let (local, _) = username.split_once(':')?;
            return (!local.is_empty()).then_some(local);
        }
        // Attributes are padded to 4 bytes.
        at += 4 + len.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn binding_request(username: &str) -> Vec<u8> {
        let mut attrs = Vec::new();
        attrs.extend_from_slice(&USERNAME.to_be_bytes());
        attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
        attrs.extend_from_slice(username.as_bytes());
        attrs.resize(attrs.len().div_ceil(4) * 4, 0);
        // PRIORITY after it, as browsers send.
        attrs.extend_from_slice(&[0x00, 0x24, 0x00, 0x04, 1, 2, 3, 4]);
        let mut m = vec![0x00, 0x01];
        m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC_COOKIE);
        m.extend_from_slice(&[7; 12]);
        m.extend_from_slice(&attrs);
        m
    }

    #[test]
    fn finds_the_receivers_ufrag() {
        assert_eq!(local_ufrag(&binding_request("abcd:wxyz")), Some("abcd"));
        assert_eq!(local_ufrag(&binding_request("a:b")), Some("a"));
    }

    #[test]
    fn refuses_what_is_not_a_binding_request_with_a_username() {
        assert_eq!(local_ufrag(&binding_request("nocolon")), None);
        assert_eq!(local_ufrag(&binding_request(":b")), None);
        assert_eq!(local_ufrag(&[]), None);
        assert_eq!(local_ufrag(&[0x80; 40]), None, "RTP");
        assert_eq!(local_ufrag(&[22; 40]), None, "DTLS");
        let mut bad_cookie = binding_request("a:b");
        bad_cookie[5] = 0;
        assert_eq!(local_ufrag(&bad_cookie), None);
        let full = binding_request("abcd:wxyz");
        for cut in 0..full.len() {
            assert_eq!(local_ufrag(&full[..cut]), None, "truncated at {cut}");
        }
        let mut long = binding_request("abcd:wxyz");
        long[2] = 0xff;
        assert_eq!(local_ufrag(&long), None, "length past the end");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..200)) {
            let _ = local_ufrag(&bytes);
            let mut m = binding_request("x:y");
            m.truncate(20);
            m.extend_from_slice(&bytes);
            let len = bytes.len() as u16;
            m[2..4].copy_from_slice(&len.to_be_bytes());
            let _ = local_ufrag(&m);
        }
    }
}
