//! Writes the shared DTMF comparison corpus (raw 8 kHz s16le files + manifest.tsv) into the
//! directory given as the first argument and runs Hushpay's strict detector over it, writing
//! `hushpay.tsv` (`file<TAB>digits<TAB>cpu seconds<TAB>audio seconds`), the format
//! `bench/dtmf-compare/spandsp_rx.c` prints, so `scripts/bench-media.sh` can compare.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hushpay_media::Digit;
use hushpay_media::detector::detect_all;
use hushpay_media::signal::{Rng, TonePair, add_noise, append_silence, append_tone};

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
        let t = Instant::now();
        let found: String = detect_all(&c.pcm)
            .iter()
            .map(|d| d.digit.as_char())
            .collect();
        let cpu = t.elapsed().as_secs_f64();
        writeln!(
            results,
            "{}\t{}\t{:.6}\t{:.3}",
            file.display(),
            found,
            cpu,
            c.pcm.len() as f64 / 8000.0
        )
        .unwrap();
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).unwrap();
    std::fs::write(dir.join("hushpay.tsv"), results).unwrap();
    println!("corpus and hushpay.tsv written to {}", dir.display());
}

fn write_raw(path: &Path, pcm: &[i16]) {
    let mut b = Vec::with_capacity(pcm.len() * 2);
    for s in pcm {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}
