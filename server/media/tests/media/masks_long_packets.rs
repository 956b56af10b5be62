//! Issue 12, finding 7: a peer that sends 40 or 60 ms packets (ignoring the answer's
//! `ptime=20`/`maxptime=20`) gets the same masking as one sending 20 ms packets.
//!
//! The masker holds each packet one packet time so that the next packet, when it flags a
//! tone, can still mask "the one before" (where a tone's onset hides below the flagger's
//! threshold). Before the fix the hold was a fixed 20 ms: a 40 or 60 ms packet was released
//! before its successor arrived, and the onset went through. Tones start at every 2.5 ms offset
//! within a packet; what the agent decodes must give 0 windows to the sensitive detector and 0
//! digits to multimon-ng.

use std::time::{Duration, Instant};

use hushpay_media::masker::{Masker, MaskerConfig};
use hushpay_media::opus_codec::Encoder;
use hushpay_media::resample::resample;
use hushpay_media::rtp::RtpBuilder;
use hushpay_media::signal::TonePair;

use crate::common::{
    OPUS_PT, SSRC, agent_audio, digit, multimon, run_masker_at, sensitive_hits, sequence,
};

/// `pcm` (48 kHz) as RTP packets of `ms` each, with their arrival times (one packet time apart).
fn packets_of(pcm: &[i16], ms: usize, base: Instant) -> (Vec<Vec<u8>>, Vec<Instant>) {
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    enc.set_max_playback_rate(16_000).unwrap();
    let frame = 48 * ms;
    let mut padded = pcm.to_vec();
    padded.resize(pcm.len().div_ceil(frame) * frame, 0);
    let mut packets = Vec::new();
    let mut arrivals = Vec::new();
    for (i, f) in padded.chunks(frame).enumerate() {
        let payload = enc.encode(f).unwrap();
        packets.push(
            RtpBuilder {
                marker: i == 0,
                payload_type: OPUS_PT,
                sequence: 100u16.wrapping_add(i as u16),
                timestamp: 7000u32.wrapping_add((frame * i) as u32),
                ssrc: SSRC,
            }
            .build(&payload),
        );
        arrivals.push(base + Duration::from_millis((ms * (i + 1)) as u64));
    }
    (packets, arrivals)
}

#[test]
fn forty_and_sixty_ms_packets_leak_no_onset() {
    for ms in [40usize, 60] {
        for step in 0..(ms * 2 / 5) {
            let offset = step as f32 * 2.5;
            let pairs = [
                TonePair::new(digit('5'), -10.0, 70.0),
                TonePair::new(digit('#'), -10.0, 120.0),
            ];
            let pcm = sequence(&pairs, 200.0 + offset, 200.0, 48_000);
            let (packets, arrivals) = packets_of(&pcm, ms, Instant::now());

            let mut masker = Masker::new(MaskerConfig::default()).unwrap();
            let run = run_masker_at(&mut masker, &packets, &arrivals);
            assert_eq!(run.forwarded.len(), packets.len(), "no packet dropped");
            let agent = agent_audio(&run.forwarded, 48_000);
            let hits = sensitive_hits(&resample(&agent, 48_000, 8000));
            assert_eq!(
                hits, 0,
                "{ms} ms packets, onset {offset} ms in: the agent's audio has tone windows"
            );
            assert_eq!(
                multimon(&agent, 48_000),
                "",
                "{ms} ms packets, onset {offset} ms in"
            );
            let found: String = run.digits.iter().map(|d| d.digit.as_char()).collect();
            assert_eq!(found, "5#", "{ms} ms packets: the keys are still heard");
        }
    }
}
