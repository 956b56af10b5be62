//! Leak tests: tones starting at every 1 ms offset within a 20 ms packet go through the browser's
//! path (Opus at 48 kHz, 32 kbit/s, both wideband as Hushpay's SDP asks browsers for and
//! fullband) and the masker; what the agent decodes must give 0 digits from
//! the sensitive flagger and from multimon-ng. Positive control: the same audio unmasked is found.

use std::time::Instant;

use hushpay_media::masker::{Masker, MaskerConfig};
use hushpay_media::resample::resample;
use hushpay_media::signal::TonePair;

use crate::common::{
    agent_audio, digit, multimon, packetize_band, run_masker, sensitive_hits, sequence,
};

/// Three keys (40, 70 and 120 ms) at -10 dBm0 per tone, the first starting `offset_ms` into a
/// packet, at 48 kHz.
fn keyed_audio(offset_ms: u32) -> (Vec<i16>, String) {
    let keys = ["5", "1", "#", "9", "0", "*", "D", "3"];
    let k = |i: usize| {
        digit(
            keys[(offset_ms as usize + i) % keys.len()]
                .chars()
                .next()
                .unwrap_or('5'),
        )
    };
    let pairs = [
        TonePair::new(k(0), -10.0, 40.0),
        TonePair::new(k(1), -10.0, 70.0),
        TonePair::new(k(2), -10.0, 120.0),
    ];
    let pcm = sequence(&pairs, 200.0 + offset_ms as f32, 150.0, 48_000);
    let expected = pairs.iter().map(|p| p.digit.as_char()).collect();
    (pcm, expected)
}

#[test]
fn no_digit_reaches_the_agent_at_any_onset_offset() {
    let mut report = Vec::new();
    for (offset, band) in (0..20u32).flat_map(|o| [(o, 16_000), (o, 48_000)]) {
        let (pcm, expected) = keyed_audio(offset);
        let packets = packetize_band(&pcm, 48_000, 32_000, band, 1000, 5000);

        // Positive control: unmasked, the digits are there for both detectors.
        let mut plain = Vec::new();
        let mut dec = hushpay_media::opus_codec::Decoder::new(48_000).unwrap();
        for p in &packets {
            let rtp = hushpay_media::rtp::RtpPacket::parse(p).unwrap();
            dec.decode_into(rtp.payload, &mut plain).unwrap();
        }
        let control = multimon(&plain, 48_000);
        assert_eq!(
            control, expected,
            "control: multimon-ng must find the unmasked digits (offset {offset} ms)"
        );
        assert!(
            sensitive_hits(&resample(&plain, 48_000, 8000)) > 0,
            "control: sensitive detector"
        );

        let mut masker = Masker::new(MaskerConfig::default()).unwrap();
        let run = run_masker(&mut masker, &packets, Instant::now());
        assert_eq!(run.forwarded.len(), packets.len(), "no packet dropped");
        let agent = agent_audio(&run.forwarded, 48_000);
        let leaked = multimon(&agent, 48_000);
        let hits = sensitive_hits(&resample(&agent, 48_000, 8000));
        let found: String = run.digits.iter().map(|d| d.digit.as_char()).collect();
        report.push(format!(
            "offset {offset:2} ms, band {band}: multimon {leaked:?} sensitive {hits} captured {found:?}"
        ));
        assert_eq!(
            leaked, "",
            "multimon-ng recovered digits from masked audio at offset {offset} ms"
        );
        assert_eq!(
            hits, 0,
            "sensitive detector flagged masked audio at offset {offset} ms"
        );
        assert_eq!(
            found, expected,
            "masker must capture each key exactly once (offset {offset} ms)"
        );
    }
    eprintln!("{}", report.join("\n"));
}
