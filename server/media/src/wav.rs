//! Minimal WAV (RIFF, 16-bit PCM, mono) parsing and writing on byte buffers (no file I/O here).

use crate::MediaError;

/// Mono 16-bit PCM with its sample rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wav {
    /// Sample rate in Hz.
    pub rate: u32,
    /// Samples.
    pub samples: Vec<i16>,
}

fn le16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

impl Wav {
    /// Parses a RIFF/WAVE file: PCM (format 1, or extensible with PCM), mono, 16 bits.
    pub fn parse(bytes: &[u8]) -> Result<Self, MediaError> {
        if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
            return Err(MediaError::Wav("not a RIFF/WAVE file"));
        }
        let mut at = 12;
        let mut format: Option<(u16, u16, u32, u16)> = None;
        while let (Some(id), Some(len)) = (bytes.get(at..at + 4), le32(bytes, at + 4)) {
            let body = at + 8;
            let len = usize::try_from(len).map_err(|_| MediaError::Wav("chunk too large"))?;
            match id {
                b"fmt " => {
                    let tag = le16(bytes, body).ok_or(MediaError::Wav("short fmt chunk"))?;
                    let channels =
                        le16(bytes, body + 2).ok_or(MediaError::Wav("short fmt chunk"))?;
                    let rate = le32(bytes, body + 4).ok_or(MediaError::Wav("short fmt chunk"))?;
                    let bits = le16(bytes, body + 14).ok_or(MediaError::Wav("short fmt chunk"))?;
                    format = Some((tag, channels, rate, bits));
                }
                b"data" => {
                    let (tag, channels, rate, bits) =
                        format.ok_or(MediaError::Wav("data before fmt"))?;
                    if tag != 1 && tag != 0xfffe {
                        return Err(MediaError::Wav("only PCM WAV is supported"));
                    }
                    if channels != 1 || bits != 16 {
                        return Err(MediaError::Wav("only mono 16-bit WAV is supported"));
                    }
                    let end = body.saturating_add(len).min(bytes.len());
                    let data = bytes.get(body..end).unwrap_or_default();
                    let samples = data
                        .chunks_exact(2)
                        .map(|c| i16::from_le_bytes([c[0], c[1]]))
                        .collect();
                    return Ok(Wav { rate, samples });
                }
                _ => {}
            }
            at = body.saturating_add(len).saturating_add(len & 1);
        }
        Err(MediaError::Wav("no data chunk"))
    }

    /// The file bytes (44-byte header).
    pub fn to_bytes(&self) -> Vec<u8> {
        let data_len = (self.samples.len() * 2) as u32;
        let mut out = Vec::with_capacity(44 + self.samples.len() * 2);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&1u16.to_le_bytes());
        out.extend_from_slice(&self.rate.to_le_bytes());
        out.extend_from_slice(&(self.rate * 2).to_le_bytes());
        out.extend_from_slice(&2u16.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for s in &self.samples {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip() {
        let w = Wav {
            rate: 16_000,
            samples: vec![1, -2, 3, i16::MIN, i16::MAX],
        };
        assert_eq!(Wav::parse(&w.to_bytes()).unwrap(), w);
        let mut stereo = w.to_bytes();
        stereo[22] = 2;
        assert!(Wav::parse(&stereo).is_err());
        assert!(Wav::parse(b"RIFF....WAVE").is_err());
    }

    proptest! {
        #[test]
        fn never_panics(mut bytes in proptest::collection::vec(any::<u8>(), 0..120)) {
            if bytes.len() >= 12 {
                bytes[0..4].copy_from_slice(b"RIFF");
                bytes[8..12].copy_from_slice(b"WAVE");
            }
            let _ = Wav::parse(&bytes);
        }
    }
}
