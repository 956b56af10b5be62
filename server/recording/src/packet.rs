//! Packets inside a chunk's plaintext: `at_ms` (u32), RTP timestamp (u32), sequence number
//! (u16), payload length (u16), payload; all big-endian, back to back.

use crate::RecordingError;

/// Bytes before each payload.
pub const PACKET_HEADER_BYTES: usize = 12;

/// One recorded Opus packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPacket {
    /// Recording-clock time of arrival (ms since the recording started).
    pub at_ms: u32,
    /// RTP timestamp (48 kHz clock for Opus).
    pub rtp_timestamp: u32,
    pub sequence: u16,
    /// The Opus payload as forwarded (after the masker).
    pub payload: Vec<u8>,
}

impl RecordedPacket {
    /// Appends the encoded packet to `out`.
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), RecordingError> {
        let len = u16::try_from(self.payload.len()).map_err(|_| RecordingError::PacketTooLarge)?;
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        out.extend_from_slice(&self.rtp_timestamp.to_be_bytes());
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&self.payload);
        Ok(())
    }

    /// Decodes every packet of a chunk's plaintext.
    pub fn decode_all(mut bytes: &[u8]) -> Result<Vec<RecordedPacket>, &'static str> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            if bytes.len() < PACKET_HEADER_BYTES {
                return Err("packet header cut short");
            }
            let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
            let at_ms = be32(&bytes[0..4]);
            let rtp_timestamp = be32(&bytes[4..8]);
            let sequence = u16::from_be_bytes([bytes[8], bytes[9]]);
            let len = usize::from(u16::from_be_bytes([bytes[10], bytes[11]]));
            let payload = bytes
                .get(PACKET_HEADER_BYTES..PACKET_HEADER_BYTES + len)
                .ok_or("packet payload cut short")?
                .to_vec();
            out.push(RecordedPacket {
                at_ms,
                rtp_timestamp,
                sequence,
                payload,
            });
            bytes = &bytes[PACKET_HEADER_BYTES + len..];
        }
        Ok(out)
    }
}
