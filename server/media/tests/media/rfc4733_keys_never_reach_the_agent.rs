//! RFC 4733 keys: event packets are consumed, the stream is renumbered without holes, each key is
//! one digit, and with a gateway that also sends the tone in-band, nothing leaks and the key is
//! still one digit.

use std::time::Instant;

use hushpay_media::masker::{DigitSource, Masker, MaskerConfig};
use hushpay_media::resample::resample;
use hushpay_media::rtp::RtpPacket;
use hushpay_media::signal::{TonePair, append_silence};

use crate::common::{
    OPUS_PT, StreamBuilder, agent_audio, digit, multimon, run_masker_at, sensitive_hits,
};

fn speechless(ms: f32) -> Vec<i16> {
    let mut v = Vec::new();
    append_silence(ms, 48_000, &mut v);
    v
}

fn check(inband: bool, pt: u8, clock: u32, seq0: u16, ts0: u32) {
    let keys = "4111#";
    let mut s = StreamBuilder::new(Instant::now(), seq0, ts0);
    s.audio(&speechless(200.0));
    for k in keys.chars() {
        let mut tone = Vec::new();
        TonePair::new(digit(k), -8.0, 100.0).append(48_000, &mut tone);
        s.key(pt, clock, digit(k), 100, inband.then_some(&tone[..]));
        s.audio(&speechless(100.0));
    }
    s.audio(&speechless(200.0));
    let mut masker = Masker::new(MaskerConfig::default()).unwrap();
    let run = run_masker_at(&mut masker, &s.packets, &s.arrivals);

    let got: String = run.digits.iter().map(|d| d.digit.as_char()).collect();
    assert_eq!(got, keys, "one digit per key (inband {inband}, pt {pt})");
    assert!(
        run.digits
            .iter()
            .all(|d| d.source == DigitSource::Rfc4733 || inband)
    );
    let audio_sent = s
        .packets
        .iter()
        .filter(|p| RtpPacket::parse(p).unwrap().payload_type == OPUS_PT)
        .count();
    assert_eq!(
        run.forwarded.len(),
        audio_sent,
        "every audio packet forwarded, no event packet"
    );
    let mut seqs: Vec<u16> = run
        .forwarded
        .iter()
        .map(|f| {
            let p = RtpPacket::parse(&f.bytes).unwrap();
            assert_eq!(p.payload_type, OPUS_PT, "telephone-event forwarded");
            p.sequence
        })
        .collect();
    let first = seqs[0];
    for (i, s) in seqs.iter_mut().enumerate() {
        assert_eq!(
            s.wrapping_sub(first),
            i as u16,
            "sequence numbers continuous"
        );
    }
    let agent = agent_audio(&run.forwarded, 48_000);
    assert_eq!(
        multimon(&agent, 48_000),
        "",
        "multimon-ng found digits on the agent side"
    );
    assert_eq!(sensitive_hits(&resample(&agent, 48_000, 8000)), 0);
}

#[test]
fn chrome_48k_events_only() {
    check(false, 110, 48_000, 100, 0);
}

#[test]
fn events_8k_across_sequence_and_timestamp_wrap() {
    check(false, 126, 8000, 65_530, u32::MAX - 20_000);
}

#[test]
fn events_and_inband_tones_together_are_one_digit_and_do_not_leak() {
    check(true, 110, 48_000, 7, 1234);
}
