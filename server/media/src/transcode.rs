//! Transcoding between a phone leg's G.711 and the Opus the browsers speak, one packet at a
//! time (each output packet has the duration of its input, so RTP timestamps map by a factor:
//! 8 kHz × 6 = 48 kHz).
//!
//! * [`G711ToOpus`]: the caller's masked G.711 to Opus for the agents and the recorder. A
//!   masked packet becomes the constant Opus silence frame, as on a browser patient's path,
//!   and the encoder still encodes the masked payload (the law's silence code), so its state
//!   never carries audio from before a masked span into the next packet.
//! * [`OpusToG711`]: the agents' Opus to G.711 for the caller (decoded straight to 8 kHz).
//!
//! Why transcode rather than negotiate PCMU with the agent's browser: the browser patient's
//! path, the recorder (Opus packets) and the masker's Opus-only checks stay one path, and a
//! room's agents need not renegotiate when a phone caller joins; the cost is measured in
//! `benches/media.rs` (docs/benchmarks.md).

use crate::MediaError;
use crate::g711::Law;
use crate::opus_codec::{Decoder8k, Encoder, silence_packet};

/// Opus bit rate for a narrowband (8 kHz) phone leg.
pub const PHONE_OPUS_BITRATE: i32 = 24_000;

/// Sample counts at 8 kHz that are one Opus frame (2.5, 5, 10, 20, 40, 60 ms).
const OPUS_FRAMES_8K: [usize; 6] = [20, 40, 80, 160, 320, 480];

/// G.711 (masked) to Opus.
#[derive(Debug)]
pub struct G711ToOpus {
    law: Law,
    encoder: Encoder,
    pcm: Vec<i16>,
}

impl G711ToOpus {
    /// A transcoder for `law`.
    pub fn new(law: Law) -> Result<Self, MediaError> {
        Ok(Self {
            law,
            encoder: Encoder::new(8_000, PHONE_OPUS_BITRATE)?,
            pcm: Vec::with_capacity(480),
        })
    }

    /// One G.711 payload to one Opus payload of the same duration; `masked` gives the silence
    /// frame. A payload that is not one Opus frame long is refused ([`MediaError::FrameLength`]).
    pub fn transcode(&mut self, g711: &[u8], masked: bool) -> Result<Vec<u8>, MediaError> {
        if !OPUS_FRAMES_8K.contains(&g711.len()) {
            return Err(MediaError::FrameLength(g711.len()));
        }
        self.pcm.clear();
        self.law.decode(g711, &mut self.pcm);
        let opus = self.encoder.encode(&self.pcm)?;
        if masked {
            let samples_48k = u32::try_from(g711.len() * 6).unwrap_or(960);
            return Ok(silence_packet(samples_48k));
        }
        Ok(opus)
    }
}

/// Opus to G.711.
#[derive(Debug)]
pub struct OpusToG711 {
    law: Law,
    decoder: Decoder8k,
}

impl OpusToG711 {
    /// A transcoder for `law`.
    pub fn new(law: Law) -> Result<Self, MediaError> {
        Ok(Self {
            law,
            decoder: Decoder8k::new()?,
        })
    }

    /// One Opus payload to G.711 (8 kHz, one byte a sample). An empty payload is refused
    /// (libopus would conceal a lost packet of its whole buffer).
    pub fn transcode(&mut self, opus: &[u8]) -> Result<Vec<u8>, MediaError> {
        if opus.is_empty() {
            return Err(MediaError::Opus("empty packet".to_owned()));
        }
        let pcm = self.decoder.decode(opus)?;
        let mut out = Vec::with_capacity(pcm.len());
        self.law.encode(pcm, &mut out);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::opus_codec::packet_samples_48k;
    use crate::signal::append_tone;

    #[test]
    fn a_tone_survives_both_ways_and_durations_are_kept() {
        for law in [Law::Mu, Law::A] {
            let mut pcm = Vec::new();
            append_tone(440.0, -10.0, 400.0, 8_000, &mut pcm);
            let mut to_opus = G711ToOpus::new(law).unwrap();
            let mut to_g711 = OpusToG711::new(law).unwrap();
            let mut back = Vec::new();
            for f in pcm.chunks(160) {
                let mut g = Vec::new();
                law.encode(f, &mut g);
                let opus = to_opus.transcode(&g, false).unwrap();
                assert_eq!(packet_samples_48k(&opus), Some(960));
                let g2 = to_g711.transcode(&opus).unwrap();
                assert_eq!(g2.len(), 160);
                law.decode(&g2, &mut back);
            }
            // energy after the codec's start-up
            let tail = &back[1600..];
            let rms = (tail.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / tail.len() as f64)
                .sqrt();
            assert!(rms > 2_000.0, "{law:?}: {rms}");
        }
    }

    #[test]
    fn masked_packets_are_the_silence_frame_and_odd_lengths_are_refused() {
        let mut t = G711ToOpus::new(Law::Mu).unwrap();
        assert_eq!(
            t.transcode(&[0x55; 160], true).unwrap(),
            silence_packet(960)
        );
        assert_eq!(
            t.transcode(&[0xFF; 240], false),
            Err(MediaError::FrameLength(240))
        );
        assert!(t.transcode(&[], false).is_err());
        let mut o = OpusToG711::new(Law::A).unwrap();
        assert!(o.transcode(&[]).is_err());
        assert!(
            o.transcode(&[0xFF; 3]).is_err(),
            "a malformed packet is an error"
        );
    }
}
