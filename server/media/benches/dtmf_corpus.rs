//! Writes the shared DTMF comparison corpus (raw 8 kHz s16le files + manifest.tsv) into the
//! directory given as the first argument and runs Hushpay's strict detector over it, writing
//! `hushpay.tsv` (`file<TAB>digits<TAB>cpu seconds<TAB>audio seconds`), the format
//! `bench/dtmf-compare/spandsp_rx.c` prints, so `scripts/bench-media.sh` can compare.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use hushpay_media::Digit;
use hushpay_media::signal::{Rng, TonePair, add_noise, append_silence, append_tone};

mod corpus_io;
use corpus_io::write_raw;

#[path = "../tests/media/talk_off.rs"]
#[allow(dead_code, unused_imports)]
mod talk_off;

struct Case {
    name: String,
    class: &'static str,
    expected: String,
    pcm: Vec<i16>,
}

fn all16(f: impl Fn(Digit) -> TonePair, lead_ms: f32, pause_ms: f32) -> (String, Vec<i16>) {
    let mut pcm = Vec::new();
    append_silence(lead_ms, 8000, &mut pcm);
    let mut s = String::new();
    for d in Digit::all() {
        f(d).append(8000, &mut pcm);
        append_silence(pause_ms, 8000, &mut pcm);
        s.push(d.as_char());
    }
    (s, pcm)
}

fn corpus() -> Vec<Case> {
    let mut v = Vec::new();
    let mut push =
        |name: String, class: &'static str, expect: bool, (s, pcm): (String, Vec<i16>)| {
            v.push(Case {
                name,
                class,
                expected: if expect { s } else { String::new() },
                pcm,
            });
        };
    push(
        "nominal-10dBm0".into(),
        "accept",
        true,
        all16(|d| TonePair::new(d, -10.0, 50.0), 10.0, 50.0),
    );
    for lo in [-0.015f32, 0.015] {
        for hi in [-0.015f32, 0.015] {
            push(
                format!("freq{lo:+}{hi:+}"),
                "accept",
                true,
                all16(
                    |d| TonePair {
                        low_offset: lo,
                        high_offset: hi,
                        ..TonePair::new(d, -10.0, 50.0)
                    },
                    10.0,
                    50.0,
                ),
            );
        }
    }
    for (lo, hi) in [
        (-0.035f32, 0.0f32),
        (0.035, 0.0),
        (0.0, -0.035),
        (0.0, 0.035),
        (0.035, 0.035),
        (-0.035, -0.035),
    ] {
        push(
            format!("freq{lo:+}{hi:+}"),
            "reject",
            false,
            all16(
                |d| TonePair {
                    low_offset: lo,
                    high_offset: hi,
                    ..TonePair::new(d, -10.0, 50.0)
                },
                10.0,
                50.0,
            ),
        );
    }
    for (l, h) in [(-10.0f32, -18.0f32), (-14.0, -10.0)] {
        push(
            format!("twist{l}/{h}"),
            "accept",
            true,
            all16(
                |d| TonePair {
                    low_dbm0: l,
                    high_dbm0: h,
                    ..TonePair::new(d, 0.0, 50.0)
                },
                10.0,
                50.0,
            ),
        );
    }
    for lvl in [0.0f32, -5.0, -10.0, -15.0, -20.0, -25.0] {
        push(
            format!("level{lvl}"),
            "accept",
            true,
            all16(|d| TonePair::new(d, lvl, 50.0), 10.0, 50.0),
        );
    }
    push(
        "level-55".into(),
        "reject",
        false,
        all16(|d| TonePair::new(d, -55.0, 50.0), 10.0, 50.0),
    );
    for off in [0usize, 25, 50, 75] {
        push(
            format!("40on40off@{off}"),
            "accept",
            true,
            all16(|d| TonePair::new(d, -10.0, 40.0), off as f32 / 8.0, 40.0),
        );
    }
    for ms in [23.0f32, 20.0, 15.0] {
        for off in [0usize, 51] {
            push(
                format!("{ms}ms@{off}"),
                "reject",
                false,
                all16(|d| TonePair::new(d, -10.0, ms), off as f32 / 8.0, 60.0),
            );
        }
    }
    let mut single = Vec::new();
    for f in hushpay_media::goertzel::ALL_FREQS {
        for lvl in [0.0f32, -10.0, -20.0] {
            append_tone(f, lvl, 100.0, 8000, &mut single);
            append_silence(50.0, 8000, &mut single);
        }
    }
    v.push(Case {
        name: "single-tones".into(),
        class: "reject",
        expected: String::new(),
        pcm: single,
    });
    let mut rng = Rng::new(99);
    for lvl in [-6.0f32, -13.0, -20.0] {
        let (s, mut pcm) = all16(|d| TonePair::new(d, lvl, 50.0), 10.0, 50.0);
        add_noise(&mut pcm, lvl + 3.01 - 15.0, &mut rng);
        v.push(Case {
            name: format!("snr15@{lvl}"),
            class: "accept",
            expected: s,
            pcm,
        });
    }
    for (name, pcm) in talk_off::speech_corpus() {
        v.push(Case {
            name: format!("speech-{name}"),
            class: "talkoff",
            expected: String::new(),
            pcm: pcm.clone(),
        });
        let loud: Vec<i16> = pcm
            .iter()
            .map(|&s| (f32::from(s) * 2.8).clamp(-32768.0, 32767.0) as i16)
            .collect();
        v.push(Case {
            name: format!("speech-{name}-loud"),
            class: "talkoff",
            expected: String::new(),
            pcm: loud,
        });
    }
    for seed in 1..=4 {
        v.push(Case {
            name: format!("music-{seed}"),
            class: "talkoff",
            expected: String::new(),
            pcm: talk_off::synthetic_music(seed),
        });
    }
    v
}

fn main() {
    let dir = std::env::args()
        .nth(1)
        .filter(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/dtmf-corpus"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut manifest = String::from("file\tclass\texpected\n");
    let mut results = String::new();
    for c in corpus() {
        let file = dir.join(format!("{}.raw", c.name.replace('/', "_")));
        write_raw(&file, &c.pcm);
        writeln!(manifest, "{}\t{}\t{}", file.display(), c.class, c.expected).unwrap();
        corpus_io::detect_row(&mut results, &file, &c.pcm);
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).unwrap();
    std::fs::write(dir.join("hushpay.tsv"), results).unwrap();
    println!("corpus and hushpay.tsv written to {}", dir.display());
    packet_costs();
}

/// CPU time of this thread in ns (Linux `/proc/thread-self/schedstat`, first field): unlike wall
/// time it does not count time the scheduler gave to other processes on this shared machine.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

/// Per-20 ms-packet CPU cost of each stage over 3000 packets of speech with keys (Opus 48 kHz,
/// 32 kbit/s, wideband and fullband): decode to 8 kHz; strict detector + flag; both; the whole
/// masker step. Best of five passes each.
fn packet_costs() {
    let speech: Vec<i16> = talk_off::speech_corpus()
        .into_iter()
        .flat_map(|(_, p)| p)
        .collect();
    let mut pcm = hushpay_media::resample::resample(&speech[..8000 * 60], 8000, 48_000);
    for (i, k) in "1234567890*#ABCD".chars().cycle().take(50).enumerate() {
        let mut tone = Vec::new();
        TonePair::new(Digit::from_char(k).unwrap(), -10.0, 80.0).append(48_000, &mut tone);
        let at = 48_000 * (i + 1) + 4_321 * (i % 7);
        for (j, t) in tone.iter().enumerate() {
            pcm[at + j] = pcm[at + j].saturating_add(*t);
        }
    }
    for (band, max_playback_rate) in [("wideband", 16_000), ("fullband", 48_000)] {
        packet_costs_band(&pcm, band, max_playback_rate);
    }
}

/// [`packet_costs`] for packets encoded as a browser does when the receiver's SDP says
/// `maxplaybackrate = max_playback_rate`.
fn packet_costs_band(pcm: &[i16], band: &str, max_playback_rate: u32) {
    use hushpay_media::detector::DtmfDetector;
    use hushpay_media::flagger::Flagger;
    use hushpay_media::masker::{Masker, MaskerConfig, Output};
    use hushpay_media::opus_codec::{Decoder8k, Encoder};
    use hushpay_media::rtp::RtpBuilder;

    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    enc.set_max_playback_rate(max_playback_rate).unwrap();
    let payloads: Vec<Vec<u8>> = pcm
        .chunks_exact(960)
        .map(|f| enc.encode(f).unwrap())
        .collect();
    let n = payloads.len();
    let mut pcm8 = Vec::new();
    let mut d = Decoder8k::new().unwrap();
    for p in &payloads {
        pcm8.push(d.decode(p).unwrap().to_vec());
    }
    let measure = |name: &str, f: &mut dyn FnMut(usize)| {
        for i in 0..200 {
            f(i); // warm up
        }
        // Best of 5 passes: the co-tenants of this shared machine only ever add time.
        let mut best = (u64::MAX, Duration::MAX);
        for _ in 0..5 {
            let (c0, w0) = (thread_cpu_ns(), Instant::now());
            for i in 0..n {
                f(i);
            }
            let (cpu, wall) = (thread_cpu_ns() - c0, w0.elapsed());
            best = (best.0.min(cpu), best.1.min(wall));
        }
        let (cpu, wall) = best;
        println!(
            "{name}\t{:.1} us CPU\t{:.1} us wall",
            cpu as f64 / n as f64 / 1e3,
            wall.as_secs_f64() * 1e6 / n as f64
        );
    };
    println!("{band}: per 20 ms packet over {n} packets (speech with 50 keys):");
    let mut dec = Decoder8k::new().unwrap();
    measure("decode_opus_to_8k", &mut |i| {
        std::hint::black_box(dec.decode(&payloads[i % n]).unwrap().len());
    });
    let (mut det, flagger, mut out, mut window) = (
        DtmfDetector::default(),
        Flagger::default(),
        Vec::new(),
        vec![0f32; 200],
    );
    measure("detect_strict_and_flag", &mut |i| {
        let p = &pcm8[i % n];
        det.process(p, &mut out);
        window.drain(..160);
        window.extend(p.iter().map(|&s| f32::from(s)));
        std::hint::black_box(flagger.flag(&window));
        out.clear();
    });
    let mut dec = Decoder8k::new().unwrap();
    let (mut det, mut out, mut window) = (DtmfDetector::default(), Vec::new(), vec![0f32; 200]);
    measure("decode_and_detect", &mut |i| {
        let p = dec.decode(&payloads[i % n]).unwrap();
        det.process(p, &mut out);
        window.drain(..160);
        window.extend(p.iter().map(|&s| f32::from(s)));
        std::hint::black_box(flagger.flag(&window));
        out.clear();
    });
    let base = Instant::now();
    let mut m = Masker::new(MaskerConfig::default()).unwrap();
    let mut k = 0usize;
    measure("masker_step_parse_decode_detect_mask_forward", &mut |i| {
        let pkt = RtpBuilder {
            marker: false,
            payload_type: 111,
            sequence: k as u16,
            timestamp: 960 * k as u32,
            ssrc: 1,
        }
        .build(&payloads[i % n]);
        k += 1;
        m.handle_rtp(base + Duration::from_millis(20 * k as u64), &pkt)
            .unwrap();
        while let Some(o) = m.poll_output() {
            if matches!(o, Output::Timeout(_)) {
                break;
            }
            std::hint::black_box(&o);
        }
    });
    let s = m.stats();
    println!(
        "masker: {} forwarded, {} masked, {} flagged",
        s.forwarded, s.masked, s.flagged
    );
}
