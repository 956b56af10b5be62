//! Masker edge cases: hold-back timing, refused packets, late packets, 10 ms packets, jitter.

use std::time::{Duration, Instant};

use hushpay_media::MediaError;
use hushpay_media::masker::{Masker, MaskerConfig, Output};
use hushpay_media::opus_codec::{Encoder, SILENCE_10MS};
use hushpay_media::resample::resample;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::signal::TonePair;

use crate::common::{
    SSRC, agent_audio, digit, multimon, packetize, run_masker_at, sensitive_hits, sequence,
};

fn rtp(pt: u8, seq: u16, ts: u32, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    RtpBuilder {
        marker: false,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc,
    }
    .build(payload)
}

#[test]
fn holds_each_packet_one_packet_time_and_asks_for_the_timeout() {
    let t0 = Instant::now();
    let mut m = Masker::new(MaskerConfig::default()).unwrap();
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    let payload = enc.encode(&[0i16; 960]).unwrap();
    m.handle_rtp(t0, &rtp(111, 1, 0, SSRC, &payload)).unwrap();
    assert_eq!(
        m.poll_output(),
        Some(Output::Timeout(t0 + Duration::from_millis(20)))
    );
    m.handle_timeout(t0 + Duration::from_millis(19));
    assert!(
        matches!(m.poll_output(), Some(Output::Timeout(_))),
        "nothing released before the deadline"
    );
    m.handle_timeout(t0 + Duration::from_millis(20));
    assert!(matches!(m.poll_output(), Some(Output::Forward(f)) if !f.masked));
    assert_eq!(m.poll_output(), None);
}

#[test]
fn refuses_unknown_payload_types_and_foreign_ssrcs_and_closes_the_hole() {
    let t0 = Instant::now();
    let mut m = Masker::new(MaskerConfig::default()).unwrap();
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    let p = enc.encode(&[0i16; 960]).unwrap();
    m.handle_rtp(t0, &rtp(111, 10, 0, SSRC, &p)).unwrap();
    assert_eq!(
        m.handle_rtp(t0, &rtp(0, 11, 960, SSRC, &[0xff; 160])),
        Err(MediaError::UnknownPayloadType(0))
    );
    assert_eq!(
        m.handle_rtp(t0, &rtp(111, 12, 960, 7, &p)),
        Err(MediaError::UnexpectedSsrc(7))
    );
    assert!(matches!(
        m.handle_rtp(t0, &[0x80, 111, 0]),
        Err(MediaError::RtpTruncated { .. })
    ));
    m.handle_rtp(t0 + Duration::from_millis(20), &rtp(111, 12, 960, SSRC, &p))
        .unwrap();
    m.flush(t0 + Duration::from_secs(1));
    let seqs: Vec<u16> = std::iter::from_fn(|| m.poll_output())
        .filter_map(|o| match o {
            Output::Forward(f) => Some(RtpPacket::parse(&f.bytes).unwrap().sequence),
            _ => None,
        })
        .collect();
    assert_eq!(
        seqs,
        vec![10, 11],
        "the refused packet's sequence number is closed up"
    );
    assert_eq!(m.stats().refused, 3);
}

#[test]
fn late_and_duplicate_packets_are_masked_not_dropped() {
    let t0 = Instant::now();
    let mut m = Masker::new(MaskerConfig::default()).unwrap();
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    let p: Vec<Vec<u8>> = (0..4).map(|_| enc.encode(&[0i16; 960]).unwrap()).collect();
    for (i, seq) in [0u16, 2, 1, 2, 3].iter().enumerate() {
        let _ = m.handle_rtp(
            t0 + Duration::from_millis(20 * i as u64),
            &rtp(
                111,
                *seq,
                960 * u32::from(*seq),
                SSRC,
                &p[usize::from(*seq)],
            ),
        );
    }
    m.flush(t0 + Duration::from_secs(1));
    let out: Vec<(u16, bool)> = std::iter::from_fn(|| m.poll_output())
        .filter_map(|o| match o {
            Output::Forward(f) => Some((RtpPacket::parse(&f.bytes).unwrap().sequence, f.masked)),
            _ => None,
        })
        .collect();
    assert_eq!(out.len(), 5);
    assert!(
        out[2].1 && out[3].1,
        "late (1) and duplicate (2) are masked: {out:?}"
    );
}

#[test]
fn ten_ms_packets_are_masked_with_the_10_ms_silence_frame() {
    let mut pcm = Vec::new();
    TonePair::new(digit('7'), -10.0, 100.0).append(48_000, &mut pcm);
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    let base = Instant::now();
    let mut m = Masker::new(MaskerConfig {
        hold: Duration::from_millis(10),
        ..MaskerConfig::default()
    })
    .unwrap();
    let packets: Vec<Vec<u8>> = pcm
        .chunks(480)
        .enumerate()
        .map(|(i, f)| rtp(111, i as u16, 480 * i as u32, SSRC, &enc.encode(f).unwrap()))
        .collect();
    let arrivals: Vec<Instant> = (0..packets.len())
        .map(|i| base + Duration::from_millis(10 * (i as u64 + 1)))
        .collect();
    let run = run_masker_at(&mut m, &packets, &arrivals);
    let masked: Vec<_> = run.forwarded.iter().filter(|f| f.masked).collect();
    assert!(masked.len() >= 8, "{} masked", masked.len());
    assert!(
        masked
            .iter()
            .all(|f| RtpPacket::parse(&f.bytes).unwrap().payload == SILENCE_10MS)
    );
}

#[test]
fn jitter_below_the_hold_margin_does_not_leak() {
    // Hold 30 ms for a leg with up to +/-8 ms of jitter: the next packet always arrives while
    // its predecessor is still held.
    let pairs: Vec<TonePair> = "258#"
        .chars()
        .map(|k| TonePair::new(digit(k), -10.0, 60.0))
        .collect();
    let pcm = sequence(&pairs, 207.0, 180.0, 48_000);
    let packets = packetize(&pcm, 48_000, 32_000, 0, 0);
    let base = Instant::now();
    let arrivals: Vec<Instant> = (0..packets.len())
        .map(|i| base + Duration::from_millis(20 * (i as u64 + 1) + [0, 8, 3, 0, 7, 1][i % 6]))
        .collect();
    let mut m = Masker::new(MaskerConfig {
        hold: Duration::from_millis(30),
        ..MaskerConfig::default()
    })
    .unwrap();
    let run = run_masker_at(&mut m, &packets, &arrivals);
    let agent = agent_audio(&run.forwarded, 48_000);
    assert_eq!(multimon(&agent, 48_000), "");
    assert_eq!(sensitive_hits(&resample(&agent, 48_000, 8000)), 0);
    let got: String = run.digits.iter().map(|d| d.digit.as_char()).collect();
    assert_eq!(got, "258#");
}
