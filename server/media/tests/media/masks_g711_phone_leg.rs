//! A phone leg's G.711 stream (PCMU and PCMA) through the masker: in-band keys are captured and
//! masked with the law's silence code (packets keep their length and count), what the agent
//! hears gives 0 digits to the sensitive flagger and to multimon-ng, and RFC 4733 events on the
//! 8 kHz clock are consumed and captured. Positive control: the unmasked audio has the digits.

use std::time::{Duration, Instant};

use hushpay_media::g711::Law;
use hushpay_media::masker::{G711Audio, Masker, MaskerConfig};
use hushpay_media::rfc4733::TelephoneEvent;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::signal::{TonePair, append_silence};

use crate::common::{digit, multimon, run_masker, run_masker_at, sensitive_hits};

const SSRC: u32 = 0x5157_0001;

fn config(law: Law) -> MaskerConfig {
    MaskerConfig {
        g711: Some(G711Audio {
            pt: if law == Law::Mu { 0 } else { 8 },
            law,
        }),
        event_pts: vec![(101, 8_000)],
        ..MaskerConfig::default()
    }
}

/// 20 ms G.711 packets of 8 kHz `pcm`.
fn packetize(pcm: &[i16], law: Law, seq0: u16) -> Vec<Vec<u8>> {
    let pt = if law == Law::Mu { 0 } else { 8 };
    pcm.chunks(160)
        .enumerate()
        .map(|(i, f)| {
            let mut frame = f.to_vec();
            frame.resize(160, 0);
            let mut payload = Vec::new();
            law.encode(&frame, &mut payload);
            RtpBuilder {
                marker: i == 0,
                payload_type: pt,
                sequence: seq0.wrapping_add(i as u16),
                timestamp: 160 * i as u32,
                ssrc: SSRC,
            }
            .build(&payload)
        })
        .collect()
}

/// The payloads decoded in sequence order.
fn decode(packets: &[Vec<u8>], law: Law) -> Vec<i16> {
    let mut pkts: Vec<(u16, Vec<u8>)> = packets
        .iter()
        .map(|b| {
            let p = RtpPacket::parse(b).unwrap();
            (p.sequence, p.payload.to_vec())
        })
        .collect();
    pkts.sort_by_key(|(s, _)| *s);
    let mut pcm = Vec::new();
    for (_, p) in pkts {
        law.decode(&p, &mut pcm);
    }
    pcm
}

#[test]
fn in_band_keys_on_a_g711_leg_are_captured_and_never_reach_the_agent() {
    for law in [Law::Mu, Law::A] {
        let mut pcm = Vec::new();
        append_silence(210.0, 8_000, &mut pcm);
        for (i, c) in "41#7".chars().enumerate() {
            // 40 to 100 ms keys starting anywhere within a packet
            TonePair::new(digit(c), -10.0, 40.0 + 20.0 * i as f32).append(8_000, &mut pcm);
            append_silence(150.0 + 7.0 * i as f32, 8_000, &mut pcm);
        }
        let packets = packetize(&pcm, law, 1_000);
        let plain = decode(&packets, law);
        assert_eq!(multimon(&plain, 8_000), "41#7", "control ({law:?})");

        let mut masker = Masker::new(config(law)).unwrap();
        let run = run_masker(&mut masker, &packets, Instant::now());
        let captured: String = run.digits.iter().map(|d| d.digit.as_char()).collect();
        assert_eq!(captured, "41#7", "{law:?}");
        assert_eq!(run.forwarded.len(), packets.len(), "no packet dropped");
        let mut masked = 0;
        for f in &run.forwarded {
            let p = RtpPacket::parse(&f.bytes).unwrap();
            assert_eq!(p.payload.len(), 160, "length kept");
            if f.masked {
                masked += 1;
                assert!(p.payload.iter().all(|&b| b == law.silence()));
            }
        }
        assert!(
            masked >= 4 * 3,
            "each key masked with its neighbours ({masked})"
        );
        let bytes: Vec<Vec<u8>> = run.forwarded.iter().map(|f| f.bytes.clone()).collect();
        let agent = decode(&bytes, law);
        assert_eq!(
            multimon(&agent, 8_000),
            "",
            "multimon-ng on the agent's leg ({law:?})"
        );
        assert_eq!(sensitive_hits(&agent), 0, "sensitive detector ({law:?})");
    }
}

#[test]
fn rfc4733_keys_on_a_g711_leg_are_consumed_and_captured() {
    let law = Law::Mu;
    let mut pcm = Vec::new();
    append_silence(2_000.0, 8_000, &mut pcm);
    let audio = packetize(&pcm, law, 100);
    let base = Instant::now();
    let (mut packets, mut arrivals) = (Vec::new(), Vec::new());
    let mut seq = 100u16;
    let mut push = |packets: &mut Vec<Vec<u8>>, pt: u8, marker: bool, ts: u32, payload: &[u8]| {
        packets.push(
            RtpBuilder {
                marker,
                payload_type: pt,
                sequence: seq,
                timestamp: ts,
                ssrc: SSRC,
            }
            .build(payload),
        );
        seq = seq.wrapping_add(1);
    };
    for (i, a) in audio.iter().enumerate() {
        let p = RtpPacket::parse(a).unwrap();
        push(&mut packets, 0, p.marker, p.timestamp, p.payload);
        arrivals.push(base + Duration::from_millis(20 * (i as u64 + 1)));
        // a key at packets 20 and 60: four event packets (80 ms) then the end, three times
        if i == 20 || i == 60 {
            let d = digit(if i == 20 { '9' } else { '*' });
            for step in 0..7u16 {
                let ev = TelephoneEvent {
                    code: d.event_code(),
                    end: step >= 4,
                    volume: 10,
                    duration: 160 * (step.min(3) + 1),
                };
                push(&mut packets, 101, step == 0, p.timestamp, &ev.build());
                arrivals.push(base + Duration::from_millis(20 * (i as u64 + 1) + 1));
            }
        }
    }
    let mut masker = Masker::new(config(law)).unwrap();
    let run = run_masker_at(&mut masker, &packets, &arrivals);
    let captured: String = run.digits.iter().map(|d| d.digit.as_char()).collect();
    assert_eq!(captured, "9*");
    assert_eq!(
        run.forwarded.len(),
        audio.len(),
        "events consumed, audio kept"
    );
    for f in &run.forwarded {
        assert_eq!(RtpPacket::parse(&f.bytes).unwrap().payload_type, 0);
    }
    // sequence numbers close over the consumed events
    let seqs: Vec<u16> = run
        .forwarded
        .iter()
        .map(|f| RtpPacket::parse(&f.bytes).unwrap().sequence)
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
    assert!(run.forwarded.iter().filter(|f| f.masked).count() >= 2);
}

#[test]
fn opus_packets_on_a_g711_leg_are_refused() {
    let mut masker = Masker::new(config(Law::A)).unwrap();
    let opus = RtpBuilder {
        marker: false,
        payload_type: 111,
        sequence: 1,
        timestamp: 0,
        ssrc: SSRC,
    }
    .build(&[0xF8, 0xFF, 0xFE]);
    assert!(masker.handle_rtp(Instant::now(), &opus).is_err());
    assert!(
        Masker::new(MaskerConfig {
            event_pts: vec![(8, 8_000)],
            ..config(Law::A)
        })
        .is_err(),
        "an event payload type equal to the audio's is refused"
    );
}
