//! A minimal Ogg Opus writer (RFC 7845): `OpusHead`, `OpusTags`, then audio pages with
//! granule positions on the 48 kHz clock. Enough for players, ffmpeg and `opusdec`.

/// Ogg's CRC-32 (polynomial 0x04c11db7, no reflection, initial 0).
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0u32;
    for &b in data {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The CRC, for tests that read pages back.
#[cfg(test)]
pub(crate) fn crc32_for_tests(data: &[u8]) -> u32 {
    crc32(data)
}

/// Builds an Ogg stream of one logical bitstream.
#[derive(Debug)]
pub struct OggWriter {
    serial: u32,
    sequence: u32,
    out: Vec<u8>,
}

impl OggWriter {
    pub fn new(serial: u32) -> Self {
        Self {
            serial,
            sequence: 0,
            out: Vec::new(),
        }
    }

    /// Writes one page holding `packets` (each complete, at most 255 lacing values in all).
    pub fn page(&mut self, packets: &[&[u8]], granule: u64, bos: bool, eos: bool) {
        let mut lacing = Vec::new();
        for p in packets {
            lacing.extend(std::iter::repeat_n(255u8, p.len() / 255));
            lacing.push((p.len() % 255) as u8);
        }
        let start = self.out.len();
        self.out.extend_from_slice(b"OggS");
        self.out.push(0);
        self.out.push((u8::from(bos) * 2) | (u8::from(eos) * 4));
        self.out.extend_from_slice(&granule.to_le_bytes());
        self.out.extend_from_slice(&self.serial.to_le_bytes());
        self.out.extend_from_slice(&self.sequence.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        self.out.push(lacing.len() as u8);
        self.out.extend_from_slice(&lacing);
        for p in packets {
            self.out.extend_from_slice(p);
        }
        let crc = crc32(&self.out[start..]);
        self.out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
        self.sequence += 1;
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }
}

/// The `OpusHead` packet (channel mapping family 0: mono or stereo).
pub fn opus_head(channels: u8, pre_skip: u16, input_rate: u32) -> Vec<u8> {
    let mut h = Vec::with_capacity(19);
    h.extend_from_slice(b"OpusHead");
    h.push(1);
    h.push(channels);
    h.extend_from_slice(&pre_skip.to_le_bytes());
    h.extend_from_slice(&input_rate.to_le_bytes());
    h.extend_from_slice(&0i16.to_le_bytes());
    h.push(0);
    h
}

/// The `OpusTags` packet with the vendor string and no comments.
pub fn opus_tags(vendor: &str) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"OpusTags");
    t.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    t.extend_from_slice(vendor.as_bytes());
    t.extend_from_slice(&0u32.to_le_bytes());
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_ogg_reference_and_pages_are_well_formed() {
        // CRC-32/MPEG-2 style without final xor (Ogg): check value of "123456789".
        assert_eq!(crc32(b"123456789"), 0x89a1_897f);
        let mut w = OggWriter::new(7);
        let big = vec![1u8; 600];
        w.page(&[&opus_head(2, 312, 16_000)], 0, true, false);
        w.page(&[&big, b"x"], 960, false, true);
        let bytes = w.finish();
        assert_eq!(&bytes[..4], b"OggS");
        assert_eq!(bytes[5], 2, "beginning of stream");
        let second = 27 + 1 + 19;
        assert_eq!(&bytes[second..second + 4], b"OggS");
        assert_eq!(bytes[second + 5], 4, "end of stream");
        assert_eq!(bytes[second + 26], 4, "600 = 255 + 255 + 90, then 1");
        assert_eq!(&bytes[second + 27..second + 31], &[255, 255, 90, 1]);
    }
}
