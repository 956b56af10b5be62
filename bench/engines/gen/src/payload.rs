//! The bots' Opus payload: a constant 20 ms frame whose bytes after the TOC carry the send
//! sequence and send instant (nanoseconds since the generator's epoch), so the receiver needs
//! no table to match a packet with its send time. Forwarders do not decode, so the constant
//! content is never heard.

/// TOC byte of a 20 ms wideband SILK frame (config 9, mono, one frame), what a browser sends
/// for `maxplaybackrate=16000`.
const TOC: u8 = 0x48;
const STAMP_LEN: usize = 12;

/// A payload of `len` bytes (at least 13) stamped with `seq` and `sent_ns`.
pub fn stamped(len: usize, seq: u32, sent_ns: u64) -> Vec<u8> {
    let mut p = vec![0x5a; len.max(1 + STAMP_LEN)];
    p[0] = TOC;
    p[1..5].copy_from_slice(&seq.to_be_bytes());
    p[5..13].copy_from_slice(&sent_ns.to_be_bytes());
    p
}

/// The `(seq, sent_ns)` a payload carries.
pub fn read(payload: &[u8]) -> Option<(u32, u64)> {
    if payload.len() < 1 + STAMP_LEN || payload[0] != TOC {
        return None;
    }
    let seq = u32::from_be_bytes(payload[1..5].try_into().ok()?);
    let ns = u64::from_be_bytes(payload[5..13].try_into().ok()?);
    Some((seq, ns))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn stamps_round_trip() {
        let p = stamped(80, 7, 123_456_789_012);
        assert_eq!(p.len(), 80);
        assert_eq!(read(&p), Some((7, 123_456_789_012)));
        assert_eq!(read(&p[..10]), None);
        assert_eq!(stamped(3, 1, 2).len(), 13);
    }
}
