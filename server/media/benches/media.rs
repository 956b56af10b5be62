//! Per-packet cost of the media path on 20 ms Opus packets (48 kHz, 32 kbit/s, the browser's
//! settings): decode to 8 kHz; detect (strict detector + sensitive flag); the whole masker step
//! (parse, decode, detect, flag, hold, rewrite) per packet. Audio: espeak-ng speech with DTMF
//! keys mixed in, so both the quiet and the tone paths are exercised.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use hushpay_media::Digit;
use hushpay_media::detector::{DetectedDigit, DtmfDetector};
use hushpay_media::flagger::Flagger;
use hushpay_media::masker::{Masker, MaskerConfig, Output};
use hushpay_media::opus_codec::{Decoder8k, Encoder};
use hushpay_media::resample::resample;
use hushpay_media::rtp::RtpBuilder;
use hushpay_media::signal::TonePair;
use hushpay_media::wav::Wav;

/// 48 kHz speech with a key every second.
fn audio48() -> Vec<i16> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/speech/en-male-1.wav"
    );
    let speech = Wav::parse(&std::fs::read(path).unwrap()).unwrap();
    let mut pcm = resample(&speech.samples, 8000, 48_000);
    for (i, k) in "1234567890*#ABCD".chars().enumerate() {
        let mut tone = Vec::new();
        TonePair::new(Digit::from_char(k).unwrap(), -10.0, 80.0).append(48_000, &mut tone);
        let at = 48_000 * (i + 1);
        if at + tone.len() < pcm.len() {
            for (j, t) in tone.iter().enumerate() {
                pcm[at + j] = pcm[at + j].saturating_add(*t);
            }
        }
    }
    pcm
}

fn payloads(pcm: &[i16]) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    pcm.chunks_exact(960)
        .map(|f| enc.encode(f).unwrap())
        .collect()
}

fn bench(c: &mut Criterion) {
    let payloads = payloads(&audio48());
    let packets: Vec<Vec<u8>> = payloads
        .iter()
        .enumerate()
        .map(|(i, p)| {
            RtpBuilder {
                marker: false,
                payload_type: 111,
                sequence: i as u16,
                timestamp: 960 * i as u32,
                ssrc: 1,
            }
            .build(p)
        })
        .collect();
    let mut pcm8 = Vec::new();
    {
        let mut d = Decoder8k::new().unwrap();
        for p in &payloads {
            pcm8.push(d.decode(p).unwrap().to_vec());
        }
    }
    let n = payloads.len();

    c.bench_function("decode_opus_20ms_to_8k", |b| {
        let mut d = Decoder8k::new().unwrap();
        let mut i = 0;
        b.iter(|| {
            let pcm = d.decode(black_box(&payloads[i % n])).unwrap();
            black_box(pcm.len());
            i += 1;
        })
    });

    c.bench_function("detect_20ms_strict_and_flag", |b| {
        let mut det = DtmfDetector::default();
        let flagger = Flagger::default();
        let mut out: Vec<DetectedDigit> = Vec::new();
        let mut window = vec![0f32; 200];
        let mut i = 0;
        b.iter(|| {
            let pcm = &pcm8[i % n];
            det.process(black_box(pcm), &mut out);
            window.drain(..160);
            window.extend(pcm.iter().map(|&s| f32::from(s)));
            black_box(flagger.flag(&window));
            out.clear();
            i += 1;
        })
    });

    c.bench_function("decode_detect_20ms", |b| {
        let mut d = Decoder8k::new().unwrap();
        let mut det = DtmfDetector::default();
        let flagger = Flagger::default();
        let mut out: Vec<DetectedDigit> = Vec::new();
        let mut window = vec![0f32; 200];
        let mut i = 0;
        b.iter(|| {
            let pcm = d.decode(black_box(&payloads[i % n])).unwrap();
            det.process(pcm, &mut out);
            window.drain(..160);
            window.extend(pcm.iter().map(|&s| f32::from(s)));
            black_box(flagger.flag(&window));
            out.clear();
            i += 1;
        })
    });

    c.bench_function("masker_packet_decode_detect_mask", |b| {
        let base = Instant::now();
        let mut m = Masker::new(MaskerConfig::default()).unwrap();
        let mut i = 0usize;
        b.iter(|| {
            let now = base + Duration::from_millis(20 * i as u64);
            let mut pkt = packets[i % n].clone();
            let seq = (i as u16).to_be_bytes();
            pkt[2] = seq[0];
            pkt[3] = seq[1];
            m.handle_rtp(now, black_box(&pkt)).unwrap();
            while let Some(o) = m.poll_output() {
                if matches!(o, Output::Timeout(_)) {
                    break;
                }
                black_box(&o);
            }
            i += 1;
        })
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
