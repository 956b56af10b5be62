//! The local ICE ufrag a STUN binding request is addressed to (its USERNAME attribute is
//! `<receiver ufrag>:<sender ufrag>`, RFC 8445 section 7.2.2), read without a STUN library: how
//! a one-socket forwarder places a datagram from an address it has not seen on its peer.

const MAGIC_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];
const USERNAME: u16 = 0x0006;
const HEADER_LEN: usize = 20;

/// True when `data` looks like a STUN message (RFC 5389: first two bits zero, magic cookie).
pub fn is_stun(data: &[u8]) -> bool {
    data.len() >= HEADER_LEN && data[0] < 2 && data[4..8] == MAGIC_COOKIE
}

/// The receiver's ufrag from a STUN message's USERNAME, if it has one.
pub fn local_ufrag(data: &[u8]) -> Option<&str> {
    if !is_stun(data) {
        return None;
    }
    let len = usize::from(u16::from_be_bytes([data[2], data[3]]));
    let body = data.get(HEADER_LEN..HEADER_LEN + len)?;
    let mut at = 0;
    while at + 4 <= body.len() {
        let kind = u16::from_be_bytes([body[at], body[at + 1]]);
        let alen = usize::from(u16::from_be_bytes([body[at + 2], body[at + 3]]));
        let value = body.get(at + 4..at + 4 + alen)?;
        if kind == USERNAME {
            let username = std::str::from_utf8(value).ok()?;
            return username.split(':').next();
        }
        at += 4 + alen.div_ceil(4) * 4;
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn binding_request(username: &str) -> Vec<u8> {
        let mut attrs = Vec::new();
        // a PRIORITY attribute first, so the walk has to step over one
        attrs.extend_from_slice(&0x0024u16.to_be_bytes());
        attrs.extend_from_slice(&4u16.to_be_bytes());
        attrs.extend_from_slice(&[1, 2, 3, 4]);
        attrs.extend_from_slice(&USERNAME.to_be_bytes());
        attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
        attrs.extend_from_slice(username.as_bytes());
        while attrs.len() % 4 != 0 {
            attrs.push(0);
        }
        let mut m = vec![0x00, 0x01];
        m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
        m.extend_from_slice(&MAGIC_COOKIE);
        m.extend_from_slice(&[7; 12]);
        m.extend_from_slice(&attrs);
        m
    }

    #[test]
    fn reads_the_receivers_ufrag() {
        let m = binding_request("srvUfrag:cliUfr");
        assert!(is_stun(&m));
        assert_eq!(local_ufrag(&m), Some("srvUfrag"));
    }

    #[test]
    fn rtp_and_truncated_messages_have_none() {
        let rtp = [
            0x80u8, 111, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0,
        ];
        assert!(!is_stun(&rtp));
        assert_eq!(local_ufrag(&rtp), None);
        let m = binding_request("a:b");
        assert_eq!(local_ufrag(&m[..m.len() - 4]), None);
    }
}
