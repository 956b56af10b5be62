//! Minimal RTP (RFC 3550) header parsing and building: enough to read the fields the masker needs
//! and to re-emit a packet with a new sequence number and payload. Never panics on hostile bytes.

use crate::MediaError;

/// Fixed RTP header length (no CSRC, no extension).
pub const FIXED_HEADER_LEN: usize = 12;

/// A parsed view of an RTP packet (borrows the bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// Marker bit.
    pub marker: bool,
    /// Payload type (7 bits).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Synchronization source.
    pub ssrc: u32,
    /// Header bytes: fixed header, CSRCs and extension, as received.
    pub header: &'a [u8],
    /// Payload, without padding.
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    /// Parses an RTP packet. Refuses versions other than 2, truncated headers and bad padding.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, MediaError> {
        let fixed = bytes
            .get(..FIXED_HEADER_LEN)
            .ok_or(MediaError::RtpTruncated {
                needed: FIXED_HEADER_LEN,
                have: bytes.len(),
            })?;
        let version = fixed[0] >> 6;
        if version != 2 {
            return Err(MediaError::RtpVersion(version));
        }
        let has_padding = fixed[0] & 0x20 != 0;
        let has_extension = fixed[0] & 0x10 != 0;
        let csrc_count = usize::from(fixed[0] & 0x0f);
        let mut header_len = FIXED_HEADER_LEN + 4 * csrc_count;
        if has_extension {
            let ext = bytes
                .get(header_len..header_len + 4)
                .ok_or(MediaError::RtpTruncated {
                    needed: header_len + 4,
                    have: bytes.len(),
                })?;
            let words = usize::from(u16::from_be_bytes([ext[2], ext[3]]));
            header_len += 4 + 4 * words;
        }
        if bytes.len() < header_len {
            return Err(MediaError::RtpTruncated {
                needed: header_len,
                have: bytes.len(),
            });
        }
        let mut end = bytes.len();
        if has_padding {
            let pad = bytes[end - 1];
            if pad == 0 || usize::from(pad) > end - header_len {
                return Err(MediaError::RtpPadding(pad));
            }
            end -= usize::from(pad);
        }
        Ok(RtpPacket {
            marker: fixed[1] & 0x80 != 0,
            payload_type: fixed[1] & 0x7f,
            sequence: u16::from_be_bytes([fixed[2], fixed[3]]),
            timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
            ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
            header: &bytes[..header_len],
            payload: &bytes[header_len..end],
        })
    }

    /// Re-emits this packet with `sequence` and `payload` replaced (padding removed; CSRCs and
    /// header extension kept as received).
    pub fn rewrite(&self, sequence: u16, payload: &[u8]) -> Vec<u8> {
        assemble(self.header, sequence, payload)
    }
}

/// A packet from received `header` bytes with a new sequence number and payload (padding bit
/// cleared).
pub fn assemble(header: &[u8], sequence: u16, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(header.len() + payload.len());
    out.extend_from_slice(header);
    if let Some(first) = out.first_mut() {
        *first &= !0x20;
    }
    if let Some(seq) = out.get_mut(2..4) {
        seq.copy_from_slice(&sequence.to_be_bytes());
    }
    out.extend_from_slice(payload);
    out
}

/// Builds a plain RTP packet (no CSRC, no extension, no padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpBuilder {
    /// Marker bit.
    pub marker: bool,
    /// Payload type (7 bits; higher bit ignored).
    pub payload_type: u8,
    /// Sequence number.
    pub sequence: u16,
    /// Timestamp.
    pub timestamp: u32,
    /// SSRC.
    pub ssrc: u32,
}

impl RtpBuilder {
    /// The packet bytes with `payload`.
    pub fn build(&self, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(FIXED_HEADER_LEN + payload.len());
        out.push(0x80);
        out.push((u8::from(self.marker) << 7) | (self.payload_type & 0x7f));
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(payload);
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn build_then_parse() {
        let b = RtpBuilder {
            marker: true,
            payload_type: 111,
            sequence: 65535,
            timestamp: 7,
            ssrc: 9,
        };
        let bytes = b.build(&[1, 2, 3]);
        let p = RtpPacket::parse(&bytes).unwrap();
        assert!(p.marker);
        assert_eq!(
            (p.payload_type, p.sequence, p.timestamp, p.ssrc),
            (111, 65535, 7, 9)
        );
        assert_eq!(p.payload, &[1, 2, 3]);
        let again = p.rewrite(3, &[9]);
        let q = RtpPacket::parse(&again).unwrap();
        assert_eq!((q.sequence, q.payload), (3, &[9u8][..]));
    }

    #[test]
    fn csrc_extension_and_padding() {
        let mut bytes = vec![0x80 | 0x20 | 0x10 | 1, 96, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3];
        bytes.extend_from_slice(&[0, 0, 0, 4]); // CSRC
        bytes.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0xff, 0, 0]); // one-byte ext, 1 word
        bytes.extend_from_slice(&[7, 7, 0, 2]); // payload 7 7 + 2 bytes padding
        let p = RtpPacket::parse(&bytes).unwrap();
        assert_eq!(p.payload, &[7, 7]);
        assert_eq!(p.header.len(), 24);
        let out = p.rewrite(5, &[1]);
        assert_eq!(out[0] & 0x20, 0);
        assert_eq!(RtpPacket::parse(&out).unwrap().payload, &[1]);
    }

    #[test]
    fn refuses_bad_input() {
        assert!(matches!(
            RtpPacket::parse(&[0x80; 5]),
            Err(MediaError::RtpTruncated { .. })
        ));
        assert_eq!(
            RtpPacket::parse(&[0x40; 12]),
            Err(MediaError::RtpVersion(1))
        );
        let mut pad = vec![0xa0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9];
        assert_eq!(RtpPacket::parse(&pad), Err(MediaError::RtpPadding(9)));
        pad[13] = 0;
        assert_eq!(RtpPacket::parse(&pad), Err(MediaError::RtpPadding(0)));
        let ext = [0x90, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xbe, 0xde, 0, 9];
        assert!(matches!(
            RtpPacket::parse(&ext),
            Err(MediaError::RtpTruncated { .. })
        ));
    }

    proptest! {
        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            if let Ok(p) = RtpPacket::parse(&bytes) {
                prop_assert!(p.header.len() + p.payload.len() <= bytes.len());
                let _ = p.rewrite(p.sequence.wrapping_add(1), p.payload);
            }
        }

        #[test]
        fn round_trips(m in any::<bool>(), pt in 0u8..128, seq in any::<u16>(), ts in any::<u32>(),
                       ssrc in any::<u32>(), payload in proptest::collection::vec(any::<u8>(), 0..40)) {
            let b = RtpBuilder { marker: m, payload_type: pt, sequence: seq, timestamp: ts, ssrc };
            let bytes = b.build(&payload);
            let p = RtpPacket::parse(&bytes).unwrap();
            prop_assert_eq!((p.marker, p.payload_type, p.sequence, p.timestamp, p.ssrc), (m, pt, seq, ts, ssrc));
            prop_assert_eq!(p.payload, &payload[..]);
        }
    }
}
