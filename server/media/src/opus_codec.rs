//! libopus (bundled, via the `opus` crate): decode straight to 8 kHz for detection, the constant
//! silence frames used for masking, and an encoder helper for tests, benches and the CLI.

use std::fmt;

use crate::MediaError;

/// RTP clock of Opus (RFC 7587): always 48 kHz.
pub const OPUS_RTP_CLOCK: u32 = 48_000;

/// The constant Opus silence frame for 20 ms (CELT, full band, code 0).
pub const SILENCE_20MS: [u8; 3] = [0xf8, 0xff, 0xfe];
/// The constant Opus silence frame for 10 ms.
pub const SILENCE_10MS: [u8; 3] = [0xf0, 0xff, 0xfe];

/// Duration of an Opus packet in 48 kHz samples, read from its TOC byte (RFC 6716 section 3.1).
/// `None` for an empty or malformed packet.
pub fn packet_samples_48k(payload: &[u8]) -> Option<u32> {
    let toc = *payload.first()?;
    let config = toc >> 3;
    let frame: u32 = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config % 4)],
        12..=15 => [480, 960][usize::from(config % 2)],
        _ => [120, 240, 480, 960][usize::from(config % 4)],
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => u32::from(*payload.get(1)? & 0x3f),
    };
    let total = frame * frames;
    (frames > 0 && total <= 5760).then_some(total)
}

/// A silence packet lasting `samples_48k` (10, 20, 40 or 60 ms; anything else gets 20 ms).
pub fn silence_packet(samples_48k: u32) -> Vec<u8> {
    match samples_48k {
        480 => SILENCE_10MS.to_vec(),
        1920 => vec![0xf9, 0xff, 0xfe, 0xff, 0xfe],
        2880 => vec![0xfb, 0x03, 0xff, 0xfe, 0xff, 0xfe, 0xff, 0xfe],
        _ => SILENCE_20MS.to_vec(),
    }
}

/// Opus decoder producing 8 kHz mono PCM.
pub struct Decoder8k {
    inner: opus::Decoder,
    buf: Vec<i16>,
}

impl fmt::Debug for Decoder8k {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder8k").finish_non_exhaustive()
    }
}

impl Decoder8k {
    /// A decoder.
    pub fn new() -> Result<Self, MediaError> {
        Decoder::new(8000).map(|d| Self {
            inner: d.inner,
            buf: vec![0; 960],
        })
    }

    /// Decodes one packet; returns its PCM (up to 120 ms).
    pub fn decode(&mut self, payload: &[u8]) -> Result<&[i16], MediaError> {
        let n = self
            .inner
            .decode(payload, &mut self.buf, false)
            .map_err(opus_err)?;
        Ok(&self.buf[..n.min(self.buf.len())])
    }

    /// Concealment for `samples` lost samples (PLC), keeping decoder state in step.
    pub fn conceal(&mut self, samples: usize) -> Result<&[i16], MediaError> {
        let n = samples.min(self.buf.len());
        let n = self
            .inner
            .decode(&[], &mut self.buf[..n], false)
            .map_err(opus_err)?;
        Ok(&self.buf[..n.min(self.buf.len())])
    }
}

/// Opus decoder at any Opus rate (8, 12, 16, 24, 48 kHz), mono: what a listener hears.
pub struct Decoder {
    inner: opus::Decoder,
    rate: u32,
}

impl fmt::Debug for Decoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Decoder")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Decoder {
    /// A decoder at `rate` Hz.
    pub fn new(rate: u32) -> Result<Self, MediaError> {
        let inner = opus::Decoder::new(rate, opus::Channels::Mono).map_err(opus_err)?;
        Ok(Self { inner, rate })
    }

    /// Decodes one packet, appending its PCM to `out`.
    pub fn decode_into(&mut self, payload: &[u8], out: &mut Vec<i16>) -> Result<(), MediaError> {
        let mut buf = vec![0i16; self.rate as usize * 120 / 1000];
        let n = self
            .inner
            .decode(payload, &mut buf, false)
            .map_err(opus_err)?;
        out.extend_from_slice(&buf[..n.min(buf.len())]);
        Ok(())
    }
}

/// Opus encoder (VoIP application, mono, no FEC, no DTX) as a browser would send.
pub struct Encoder {
    inner: opus::Encoder,
    rate: u32,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder")
            .field("rate", &self.rate)
            .finish_non_exhaustive()
    }
}

impl Encoder {
    /// An encoder at `rate` Hz (8, 12, 16, 24 or 48 kHz) and `bitrate` bit/s.
    pub fn new(rate: u32, bitrate: i32) -> Result<Self, MediaError> {
        let mut inner = opus::Encoder::new(rate, opus::Channels::Mono, opus::Application::Voip)
            .map_err(opus_err)?;
        inner
            .set_bitrate(opus::Bitrate::Bits(bitrate))
            .map_err(opus_err)?;
        inner.set_inband_fec(false).map_err(opus_err)?;
        inner.set_dtx(false).map_err(opus_err)?;
        Ok(Self { inner, rate })
    }

    /// Caps the audio bandwidth the encoder may use, as a browser does when the receiver's SDP
    /// says `maxplaybackrate` (RFC 7587 section 6.1): 16000 means wideband, SILK-only packets.
    pub fn set_max_playback_rate(&mut self, rate: u32) -> Result<(), MediaError> {
        let bw = match rate {
            0..=8000 => opus::Bandwidth::Narrowband,
            8001..=12000 => opus::Bandwidth::Mediumband,
            12001..=16000 => opus::Bandwidth::Wideband,
            16001..=24000 => opus::Bandwidth::Superwideband,
            _ => opus::Bandwidth::Fullband,
        };
        self.inner.set_max_bandwidth(bw).map_err(opus_err)
    }

    /// Encodes one frame (`rate * ptime` samples: 2.5, 5, 10, 20, 40 or 60 ms).
    pub fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>, MediaError> {
        self.inner.encode_vec(frame, 1500).map_err(opus_err)
    }
}

fn opus_err(e: opus::Error) -> MediaError {
    MediaError::Opus(e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn silence_packets_decode_to_silence_of_the_right_length() {
        for samples in [480u32, 960, 1920, 2880] {
            let pkt = silence_packet(samples);
            assert_eq!(packet_samples_48k(&pkt), Some(samples));
            let mut d = Decoder8k::new().unwrap();
            let pcm = d.decode(&pkt).unwrap();
            assert_eq!(pcm.len() as u32, samples / 6);
            assert!(pcm.iter().all(|&s| s.abs() <= 1), "silence frame is silent");
        }
    }

    #[test]
    fn toc_durations() {
        assert_eq!(packet_samples_48k(&[]), None);
        assert_eq!(packet_samples_48k(&[0x78]), Some(960)); // hybrid FB 20 ms
        assert_eq!(packet_samples_48k(&[0x0b, 0x00]), None); // code 3 with 0 frames
        assert_eq!(packet_samples_48k(&[0x0b]), None);
    }
}
