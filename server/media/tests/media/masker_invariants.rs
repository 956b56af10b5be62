//! Property tests of the masker: whatever the mix of audio, events and garbage, every audio
//! packet comes out once, in order, with gap-free sequence numbers and its own timestamp; every
//! packet the sensitive flag marks is masked together with the one before, and with the one
//! after when what it flagged may run on into it; nothing panics.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use hushpay_media::flagger::{Flag, Flagger, HOP};
use hushpay_media::masker::{Masker, MaskerConfig};
use hushpay_media::opus_codec::{Decoder8k, Encoder, SILENCE_20MS};
use hushpay_media::rfc4733::TelephoneEvent;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::signal::{Rng, TonePair, add_noise, append_silence};
use proptest::prelude::*;

use crate::common::{SSRC, digit, run_masker_at};

/// 3 s of mixed audio (silence, DTMF at several levels, noise) encoded once, 20 ms per payload.
fn pool() -> &'static Vec<Vec<u8>> {
    static POOL: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    POOL.get_or_init(|| {
        let mut pcm = Vec::new();
        let mut rng = Rng::new(7);
        for (i, k) in "159#*0D".chars().enumerate() {
            append_silence(90.0 + 7.0 * i as f32, 48_000, &mut pcm);
            TonePair::new(digit(k), -5.0 - 4.0 * i as f32, 40.0 + 20.0 * i as f32)
                .append(48_000, &mut pcm);
        }
        let mut noise = vec![0i16; 48_000 / 2];
        add_noise(&mut noise, -20.0, &mut rng);
        pcm.extend(noise);
        let mut enc = Encoder::new(48_000, 32_000).unwrap();
        pcm.chunks(960)
            .filter(|c| c.len() == 960)
            .map(|c| enc.encode(c).unwrap())
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Item {
    /// Audio frame: how far to skip ahead in the pool (0 = the next frame).
    Audio(usize),
    Event {
        code: u8,
        end: bool,
        duration: u16,
        marker: bool,
    },
}

fn item() -> impl Strategy<Value = Item> {
    prop_oneof![
        6 => prop_oneof![4 => Just(0usize), 1 => 0usize..150].prop_map(Item::Audio),
        1 => (0u8..20, any::<bool>(), any::<u16>(), any::<bool>())
            .prop_map(|(code, end, duration, marker)| Item::Event { code, end, duration, marker }),
    ]
}

fn flagged_by_rule(payloads: &[Vec<u8>]) -> Vec<Flag> {
    let mut dec = Decoder8k::new().unwrap();
    let flagger = Flagger::default();
    let mut window: Vec<f32> = vec![0.0; 80];
    payloads
        .iter()
        .map(|p| {
            let pcm = dec.decode(p).unwrap().to_vec();
            window.drain(..window.len() - HOP);
            window.extend(pcm.iter().map(|&s| f32::from(s)));
            flagger.assess(&window)
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn audio_is_forwarded_once_in_order_and_flagged_packets_are_masked(
        items in proptest::collection::vec(item(), 1..120),
        seq0 in any::<u16>(),
        ts0 in any::<u32>(),
        start in 0usize..150,
    ) {
        let pool = pool();
        let base = Instant::now();
        let (mut packets, mut arrivals, mut audio) = (Vec::new(), Vec::new(), Vec::new());
        let (mut ts, mut now, mut k) = (ts0, base, start);
        for (i, it) in items.iter().enumerate() {
            let seq = seq0.wrapping_add(i as u16);
            match it {
                Item::Audio(skip) => {
                    k += skip;
                    let payload = pool[k % pool.len()].clone();
                    k += 1;
                    now += Duration::from_millis(20);
                    let b = RtpBuilder { marker: false, payload_type: 111, sequence: seq, timestamp: ts, ssrc: SSRC };
                    packets.push(b.build(&payload));
                    audio.push((ts, payload));
                    ts = ts.wrapping_add(960);
                }
                Item::Event { code, end, duration, marker } => {
                    let ev = TelephoneEvent { code: *code, end: *end, volume: 10, duration: *duration };
                    let b = RtpBuilder { marker: *marker, payload_type: 110, sequence: seq, timestamp: ts, ssrc: SSRC };
                    packets.push(b.build(&ev.build()));
                }
            }
            arrivals.push(now);
        }
        let mut masker = Masker::new(MaskerConfig::default()).unwrap();
        let run = run_masker_at(&mut masker, &packets, &arrivals);
        prop_assert_eq!(run.forwarded.len(), audio.len(), "every audio packet forwarded exactly once");
        let flagged = flagged_by_rule(&audio.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>());
        let mut first_seq = None;
        for (i, f) in run.forwarded.iter().enumerate() {
            let p = RtpPacket::parse(&f.bytes).unwrap();
            prop_assert_eq!(p.payload_type, 111);
            let s0 = *first_seq.get_or_insert(p.sequence);
            prop_assert_eq!(p.sequence.wrapping_sub(s0), i as u16, "gap-free sequence numbers");
            prop_assert_eq!(p.timestamp, audio[i].0, "timestamps kept");
            if f.masked {
                prop_assert_eq!(p.payload, &SILENCE_20MS[..]);
            } else {
                prop_assert_eq!(p.payload, &audio[i].1[..]);
            }
            let after_one_running_on = i > 0 && flagged[i - 1] == Flag::RunsOn;
            let flagged_or_before_one = flagged[i..flagged.len().min(i + 2)]
                .iter()
                .any(|&f| f != Flag::Clear);
            if after_one_running_on || flagged_or_before_one {
                prop_assert!(f.masked, "packet {} is flagged, or before a flagged one or after one running on, but not masked", i);
            }
        }
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..60), 1..40)) {
        let mut masker = Masker::new(MaskerConfig::default()).unwrap();
        let base = Instant::now();
        for (i, p) in packets.iter().enumerate() {
            let mut bytes = p.clone();
            if i % 2 == 0 && bytes.len() >= 2 {
                bytes[0] = 0x80; // make half of them parse as RTP
                bytes[1] = if i % 4 == 0 { 111 } else { 110 };
            }
            let _ = masker.handle_rtp(base + Duration::from_millis(20 * i as u64), &bytes);
            while let Some(o) = masker.poll_output() {
                if matches!(o, hushpay_media::masker::Output::Timeout(_)) { break; }
            }
        }
        masker.flush(base + Duration::from_secs(5));
    }
}
