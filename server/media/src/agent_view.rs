//! What the agent's decoder makes of the stream after a masked span.
//!
//! The masker analyses the patient's packets as they were sent, each decoded after the one
//! before it. The agent's decoder does not see that stream: after a masked span it has decoded
//! silence frames (CELT) where the sender's packets were, so the next real packets decode with
//! another state (SILK restarts after a CELT frame, energies and gains are predicted from the
//! silence) until the two converge. A tone the sender distorted past the detectors (clipped at
//! full scale, say) can come out of that restart clean enough for a DTMF receiver. The fuzzer
//! found such inputs; `fuzz/regressions/masker/` replays them.
//!
//! [`AgentView`] decodes what the agent decodes, from the first masked packet until
//! [`WATCH_SAMPLES`] of forwarded audio after the last one, and checks each packet about to be
//! released with the same flagger and strict detector as the masker's own path. The masker masks
//! a packet it flags here. Its decoder starts fresh at a span: after one silence frame the
//! decoder's output no longer depends on what came before it (a test below holds libopus to
//! that), so a fresh decoder fed the same silence frames hears exactly what the agent hears.
//! Outside those windows it costs nothing.

use crate::detector::{DetectedDigit, DtmfDetector};
use crate::flagger::{Flagger, HOP, WINDOW};
use crate::opus_codec::Decoder8k;

/// How much forwarded audio after the last masked packet is checked (8 kHz samples: 600 ms).
pub const WATCH_SAMPLES: u64 = 4_800;

/// The agent's decoder after a masked span (see the module docs).
pub(crate) struct AgentView {
    decoder: Option<Decoder8k>,
    detector: DtmfDetector,
    window: Vec<f32>,
    /// Samples still to check; 0 when idle.
    left: u64,
    scratch: Vec<DetectedDigit>,
}

impl AgentView {
    pub(crate) fn new() -> Self {
        Self {
            decoder: None,
            detector: DtmfDetector::default(),
            window: vec![0.0; WINDOW],
            left: 0,
            scratch: Vec::new(),
        }
    }

    /// True while packets released are checked.
    pub(crate) fn is_watching(&self) -> bool {
        self.left > 0
    }

    /// A masked packet (`silence`) is released: the agent decodes it.
    pub(crate) fn masked(&mut self, silence: &[u8]) {
        if self.left == 0 || self.decoder.is_none() {
            // Idle: start from a fresh decoder, which the silence frame puts in the agent's state.
            self.decoder = Decoder8k::new().ok();
            self.detector = DtmfDetector::default();
            self.window.clear();
            self.window.resize(WINDOW, 0.0);
        }
        self.left = WATCH_SAMPLES;
        self.decode(silence);
    }

    /// A packet about to be released unmasked: true if what the agent would hear from it is
    /// flagged (the caller masks it and reports it with [`AgentView::masked`]). False when idle.
    pub(crate) fn flags(&mut self, payload: &[u8], flagger: &Flagger) -> bool {
        if self.left == 0 {
            return false;
        }
        let Some(n) = self.decode(payload) else {
            return true; // the agent's decoder refuses what the masker's decoded: fail closed
        };
        self.left = self.left.saturating_sub(n as u64);
        flagger.flag(&self.window) || self.detector.take_may_be_keying()
    }

    /// Decodes `payload` into the window and the detector; the number of samples, or `None`
    /// when it does not decode.
    fn decode(&mut self, payload: &[u8]) -> Option<usize> {
        let pcm = self.decoder.as_mut()?.decode(payload).ok()?;
        self.window.drain(..self.window.len().saturating_sub(HOP));
        self.window.extend(pcm.iter().map(|&s| f32::from(s)));
        self.scratch.clear();
        self.detector.process(pcm, &mut self.scratch);
        Some(pcm.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Digit;
    use crate::opus_codec::{Encoder, silence_packet};
    use crate::signal::{TonePair, append_silence};

    fn encode(enc: &mut Encoder, pcm: &[i16], frame: usize) -> Vec<Vec<u8>> {
        pcm.chunks_exact(frame)
            .filter_map(|c| enc.encode(c).ok())
            .collect()
    }

    fn tones(key: char, ms: f32) -> Vec<i16> {
        let Some(digit) = Digit::from_char(key) else {
            panic!("a key");
        };
        let mut pcm = Vec::new();
        TonePair {
            digit,
            low_dbm0: -3.0,
            high_dbm0: 0.0,
            low_offset: 0.0,
            high_offset: 0.0,
            ms,
        }
        .append(48_000, &mut pcm);
        pcm
    }

    /// The property the module stands on: after a silence frame, libopus's output depends only
    /// on what follows (SILK, hybrid and CELT streams; 10 and 20 ms packets).
    #[test]
    fn after_a_silence_frame_the_output_does_not_depend_on_the_history() {
        for (band, ms) in [(16_000, 20), (16_000, 10), (48_000, 20), (8_000, 20)] {
            let Ok(mut enc) = Encoder::new(48_000, 32_000) else {
                panic!("encoder");
            };
            assert!(enc.set_max_playback_rate(band).is_ok());
            let frame = 48 * ms;
            let mut history = tones('5', 200.0);
            append_silence(40.0, 48_000, &mut history);
            let history = encode(&mut enc, &history, frame);
            let mut rest = tones('0', 300.0);
            rest.extend(tones('9', 100.0));
            let rest = encode(&mut enc, &rest, frame);
            let silence = silence_packet(frame as u32);

            let decode_all = |packets: &[&Vec<u8>]| {
                let Ok(mut d) = Decoder8k::new() else {
                    panic!("decoder");
                };
                let mut tail = Vec::new();
                for (i, p) in packets.iter().enumerate() {
                    let Ok(pcm) = d.decode(p) else {
                        panic!("decode")
                    };
                    if i + rest.len() >= packets.len() {
                        tail.extend_from_slice(pcm);
                    }
                }
                tail
            };
            let with_history: Vec<&Vec<u8>> =
                history.iter().chain([&silence]).chain(&rest).collect();
            let fresh: Vec<&Vec<u8>> = [&silence].into_iter().chain(&rest).collect();
            assert_eq!(
                decode_all(&with_history),
                decode_all(&fresh),
                "band {band}, {ms} ms"
            );
            // Control: without the silence frame the history does change the output.
            let spliced: Vec<&Vec<u8>> = history.iter().chain(&rest).collect();
            let alone: Vec<&Vec<u8>> = rest.iter().collect();
            assert_ne!(
                decode_all(&spliced),
                decode_all(&alone),
                "band {band}, {ms} ms"
            );
        }
    }
}
