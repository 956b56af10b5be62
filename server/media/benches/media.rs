//! Per-packet cost of the media path on 20 ms Opus packets (48 kHz, 32 kbit/s) in the two bands
//! a browser may send: `wideband` (SILK, what browsers encode for Hushpay's SDP
//! `maxplaybackrate=16000`) and `fullband` (hybrid/CELT, what they send without it). Per band:
//! decode to 8 kHz; decode + detect (strict detector + sensitive flag); the whole masker step
//! (parse, decode, detect, flag, hold, rewrite). Detection alone is band-independent. Audio:
//! espeak-ng speech with DTMF keys mixed in, so both the quiet and the tone paths are exercised.
//!
//! The phone leg (issue 15), on 20 ms PCMU packets of the same audio at 8 kHz: the masker's
//! G.711 step, and the two transcodes a phone caller in a room costs (its masked G.711 to Opus
//! for the agents and the recorder, the agents' Opus back to G.711).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use hushpay_media::Digit;
use hushpay_media::detector::{DetectedDigit, DtmfDetector};
use hushpay_media::flagger::Flagger;
use hushpay_media::g711::Law;
use hushpay_media::masker::{G711Audio, Masker, MaskerConfig, Output};
use hushpay_media::opus_codec::{Decoder8k, Encoder};
use hushpay_media::resample::resample;
use hushpay_media::rtp::RtpBuilder;
use hushpay_media::signal::TonePair;
use hushpay_media::transcode::{G711ToOpus, OpusToG711};
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

/// 20 ms payloads at 32 kbit/s as a browser encodes them when the receiver's SDP says
/// `maxplaybackrate = max_playback_rate`.
fn payloads(pcm: &[i16], max_playback_rate: u32) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    enc.set_max_playback_rate(max_playback_rate).unwrap();
    pcm.chunks_exact(960)
        .map(|f| enc.encode(f).unwrap())
        .collect()
}

fn rtp(payloads: &[Vec<u8>]) -> Vec<Vec<u8>> {
    payloads
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
        .collect()
}

/// Strict detector + sensitive flagger over one 20 ms frame of 8 kHz PCM.
struct Detect {
    det: DtmfDetector,
    flagger: Flagger,
    out: Vec<DetectedDigit>,
    window: Vec<f32>,
}

impl Detect {
    fn new() -> Self {
        Self {
            det: DtmfDetector::default(),
            flagger: Flagger::default(),
            out: Vec::new(),
            window: vec![0f32; 200],
        }
    }

    fn run(&mut self, pcm: &[i16]) {
        self.det.process(pcm, &mut self.out);
        self.window.drain(..160);
        self.window.extend(pcm.iter().map(|&s| f32::from(s)));
        black_box(self.flagger.flag(&self.window));
        self.out.clear();
    }
}

fn bench_band(c: &mut Criterion, band: &str, payloads: &[Vec<u8>]) {
    let n = payloads.len();
    let packets = rtp(payloads);

    c.bench_function(&format!("decode_opus_20ms_to_8k/{band}"), |b| {
        let mut d = Decoder8k::new().unwrap();
        let mut i = 0;
        b.iter(|| {
            let pcm = d.decode(black_box(&payloads[i % n])).unwrap();
            black_box(pcm.len());
            i += 1;
        })
    });

    c.bench_function(&format!("decode_detect_20ms/{band}"), |b| {
        let mut d = Decoder8k::new().unwrap();
        let mut detect = Detect::new();
        let mut i = 0;
        b.iter(|| {
            detect.run(d.decode(black_box(&payloads[i % n])).unwrap());
            i += 1;
        })
    });

    c.bench_function(&format!("masker_packet_decode_detect_mask/{band}"), |b| {
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

/// The masker step on a PCMU leg, and the transcodes both ways.
fn bench_phone(c: &mut Criterion, audio48: &[i16], wideband: &[Vec<u8>]) {
    let pcm8 = resample(audio48, 48_000, 8_000);
    let g711: Vec<Vec<u8>> = pcm8
        .chunks_exact(160)
        .map(|f| {
            let mut g = Vec::new();
            Law::Mu.encode(f, &mut g);
            g
        })
        .collect();
    let n = g711.len();
    let packets: Vec<Vec<u8>> = g711
        .iter()
        .enumerate()
        .map(|(i, p)| {
            RtpBuilder {
                marker: false,
                payload_type: 0,
                sequence: i as u16,
                timestamp: 160 * i as u32,
                ssrc: 1,
            }
            .build(p)
        })
        .collect();

    c.bench_function("phone/masker_packet_g711_decode_detect_mask", |b| {
        let base = Instant::now();
        let mut m = Masker::new(MaskerConfig {
            g711: Some(G711Audio {
                pt: 0,
                law: Law::Mu,
            }),
            event_pts: vec![(101, 8_000)],
            ..MaskerConfig::default()
        })
        .unwrap();
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

    c.bench_function("phone/transcode_g711_to_opus_20ms", |b| {
        let mut t = G711ToOpus::new(Law::Mu).unwrap();
        let mut i = 0;
        b.iter(|| {
            black_box(t.transcode(black_box(&g711[i % n]), false).unwrap());
            i += 1;
        })
    });

    c.bench_function("phone/transcode_opus_to_g711_20ms/wideband", |b| {
        let mut t = OpusToG711::new(Law::Mu).unwrap();
        let mut i = 0;
        b.iter(|| {
            black_box(
                t.transcode(black_box(&wideband[i % wideband.len()]))
                    .unwrap(),
            );
            i += 1;
        })
    });
}

fn bench(c: &mut Criterion) {
    let audio = audio48();
    let wideband = payloads(&audio, 16_000);
    let fullband = payloads(&audio, 48_000);

    let pcm8: Vec<Vec<i16>> = {
        let mut d = Decoder8k::new().unwrap();
        wideband
            .iter()
            .map(|p| d.decode(p).unwrap().to_vec())
            .collect()
    };
    c.bench_function("detect_20ms_strict_and_flag", |b| {
        let mut detect = Detect::new();
        let mut i = 0;
        b.iter(|| {
            detect.run(black_box(&pcm8[i % pcm8.len()]));
            i += 1;
        })
    });

    bench_phone(c, &audio, &wideband);
    bench_band(c, "wideband", &wideband);
    bench_band(c, "fullband", &fullband);
}

criterion_group!(benches, bench);
criterion_main!(benches);
