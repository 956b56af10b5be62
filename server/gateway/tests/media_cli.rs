//! `hushpay media detect`, `hushpay media flag` and `hushpay media mask` on generated WAV files.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use hushpay_media::Digit;
use hushpay_media::signal::{TonePair, append_silence};
use hushpay_media::wav::Wav;

fn keyed(rate: u32) -> Vec<i16> {
    let mut pcm = Vec::new();
    append_silence(120.0, rate, &mut pcm);
    TonePair::new(Digit::from_char('5').unwrap(), -10.0, 100.0).append(rate, &mut pcm);
    append_silence(200.0, rate, &mut pcm);
    TonePair::new(Digit::from_char('#').unwrap(), -10.0, 80.0).append(rate, &mut pcm);
    append_silence(300.0, rate, &mut pcm);
    pcm
}

fn hushpay(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_hushpay"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn detect_prints_one_json_line_per_digit_at_8_16_and_48_khz() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [8000, 16_000, 48_000] {
        let path = dir.path().join(format!("in{rate}.wav"));
        std::fs::write(
            &path,
            Wav {
                rate,
                samples: keyed(rate),
            }
            .to_bytes(),
        )
        .unwrap();
        let out = hushpay(&["media", "detect", path.to_str().unwrap()]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2, "{out}");
        assert!(
            lines[0].starts_with(r#"{"digit":"5","start_ms":1"#),
            "{out}"
        );
        assert!(
            lines[1].starts_with(r##"{"digit":"#","start_ms":4"##),
            "{out}"
        );
        for l in lines {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert!(v["end_ms"].as_u64().unwrap() > v["start_ms"].as_u64().unwrap());
        }
    }
}

#[test]
fn flag_prints_the_stretches_with_tone_energy_and_nothing_for_speech_like_silence() {
    let dir = tempfile::tempdir().unwrap();
    for rate in [8000, 16_000, 48_000] {
        let path = dir.path().join(format!("in{rate}.wav"));
        std::fs::write(
            &path,
            Wav {
                rate,
                samples: keyed(rate),
            }
            .to_bytes(),
        )
        .unwrap();
        let out = hushpay(&["media", "flag", path.to_str().unwrap()]);
        let spans: Vec<(u64, u64)> = out
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (
                    v["start_ms"].as_u64().unwrap(),
                    v["end_ms"].as_u64().unwrap(),
                )
            })
            .collect();
        // `5` at 120-220 ms and `#` at 420-500 ms: one stretch each, around the tone.
        assert_eq!(spans.len(), 2, "{rate} Hz: {out}");
        assert!((105..=130).contains(&spans[0].0), "{rate} Hz: {out}");
        assert!((210..=235).contains(&spans[0].1), "{rate} Hz: {out}");
        assert!((405..=430).contains(&spans[1].0), "{rate} Hz: {out}");
        assert!((490..=515).contains(&spans[1].1), "{rate} Hz: {out}");
    }
    // A low hum with no DTMF pair: nothing.
    let hum: Vec<i16> = (0..8000)
        .map(|i| (3000.0 * (2.0 * std::f32::consts::PI * 150.0 * i as f32 / 8000.0).sin()) as i16)
        .collect();
    let path = dir.path().join("hum.wav");
    std::fs::write(
        &path,
        Wav {
            rate: 8000,
            samples: hum,
        }
        .to_bytes(),
    )
    .unwrap();
    assert_eq!(hushpay(&["media", "flag", path.to_str().unwrap()]), "");
    // A file at a rate it does not read: a clear error.
    let path = dir.path().join("in22.wav");
    std::fs::write(
        &path,
        Wav {
            rate: 22_050,
            samples: keyed(22_050),
        }
        .to_bytes(),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hushpay"))
        .args(["media", "flag", path.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("22050"),
        "{out:?}"
    );
}

#[test]
fn mask_writes_the_agent_audio_without_digits_and_prints_captured_digits() {
    // 16000: the wideband path browsers take for Hushpay's SDP; 48000: fullband.
    for max_playback_rate in ["16000", "48000"] {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in.wav");
        let output = dir.path().join("out.wav");
        std::fs::write(
            &input,
            Wav {
                rate: 48_000,
                samples: keyed(48_000),
            }
            .to_bytes(),
        )
        .unwrap();
        let out = hushpay(&[
            "media",
            "mask",
            input.to_str().unwrap(),
            output.to_str().unwrap(),
            "--ptime",
            "20",
            "--bitrate",
            "32000",
            "--max-playback-rate",
            max_playback_rate,
        ]);
        let digits: String = out
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["digit"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(digits, "5#", "at maxplaybackrate {max_playback_rate}");
        let agent = Wav::parse(&std::fs::read(&output).unwrap()).unwrap();
        assert_eq!(agent.rate, 48_000);
        assert_eq!(agent.samples.len(), keyed(48_000).len());
        let again = hushpay(&["media", "detect", output.to_str().unwrap()]);
        assert_eq!(
            again, "",
            "the masked audio still carries digits at {max_playback_rate}"
        );
    }
}
