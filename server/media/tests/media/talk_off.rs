//! Talk-off: speech (espeak-ng corpus in tests/data/speech, made by tests/data/make-speech.sh)
//! and synthetic music must not produce digits from the strict detector. The share of 20 ms
//! packets the sensitive flag would mask (speech the agent would lose) is reported and bounded.

use std::path::PathBuf;

use hushpay_media::detector::detect_all;
use hushpay_media::flagger::{Flagger, HOP};
use hushpay_media::signal::Rng;
use hushpay_media::wav::Wav;

pub fn speech_corpus() -> Vec<(String, Vec<i16>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/speech");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .map(|p| {
            let w = Wav::parse(&std::fs::read(&p).unwrap()).unwrap();
            assert_eq!(w.rate, 8000);
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                w.samples,
            )
        })
        .collect()
}

/// Synthetic music at 8 kHz: chords and melodies of harmonic-rich notes (equal temperament,
/// A4 = 440 Hz), including notes close to DTMF frequencies (F5 ~ 698 Hz, D6 ~ 1175 Hz, ...),
/// with vibrato and decay, 30 s.
pub fn synthetic_music(seed: u64) -> Vec<i16> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    let note = |n: i32| 440.0 * 2f64.powf(f64::from(n) / 12.0);
    for _ in 0..120 {
        let len = 1000 + (rng.uniform() * 2000.0) as usize; // 125..375 ms
        let root = -12 + (rng.uniform() * 30.0) as i32;
        let chord = [
            root,
            root + 4 + (rng.uniform() * 2.0) as i32 - 1,
            root + 7,
            root + 12 + (rng.uniform() * 8.0) as i32,
        ];
        let voices = 1 + (rng.uniform() * 4.0) as usize;
        let vib = rng.uniform() * 6.0;
        let level = 3000.0 + rng.uniform() * 9000.0;
        for i in 0..len {
            let t = i as f64 / 8000.0;
            let env = (-t * 3.0).exp();
            let mut v = 0.0;
            for &n in chord.iter().take(voices) {
                let f = note(n) * (1.0 + 0.003 * (2.0 * std::f64::consts::PI * vib * t).sin());
                for h in 1..=4 {
                    let hf = f * f64::from(h);
                    if hf < 3800.0 {
                        v += (2.0 * std::f64::consts::PI * hf * t).sin() / f64::from(h * h);
                    }
                }
            }
            out.push((level * env * v / voices as f64).clamp(-32768.0, 32767.0) as i16);
        }
    }
    out
}

fn flagged_packets(pcm: &[i16]) -> (usize, usize) {
    let f = Flagger::default();
    let mut window = vec![0f32; 80];
    let mut flagged = 0;
    let mut total = 0;
    for p in pcm.chunks_exact(160) {
        window.drain(..window.len() - HOP);
        window.extend(p.iter().map(|&s| f32::from(s)));
        flagged += usize::from(f.flag(&window));
        total += 1;
    }
    (flagged, total)
}

#[test]
fn speech_produces_no_digits() {
    let mut report = Vec::new();
    let (mut digits, mut flagged, mut packets) = (0, 0, 0);
    for (name, pcm) in speech_corpus() {
        for gain in [1.0f32, 2.8] {
            let scaled: Vec<i16> = pcm
                .iter()
                .map(|&s| (f32::from(s) * gain).clamp(-32768.0, 32767.0) as i16)
                .collect();
            let d = detect_all(&scaled);
            let (f, t) = flagged_packets(&scaled);
            digits += d.len();
            flagged += f;
            packets += t;
            report.push(format!(
                "{name} x{gain}: {} digits, {f}/{t} packets flagged",
                d.len()
            ));
        }
    }
    eprintln!(
        "{}\nspeech total: {digits} digits, {flagged}/{packets} packets flagged",
        report.join("\n")
    );
    assert_eq!(digits, 0, "talk-off on speech");
    assert!(
        flagged * 100 <= packets,
        "the sensitive flag masks more than 1 % of speech: {flagged}/{packets}"
    );
}

#[test]
fn music_produces_no_digits() {
    let (mut digits, mut flagged, mut packets) = (0, 0, 0);
    for seed in 1..=4 {
        let pcm = synthetic_music(seed);
        digits += detect_all(&pcm).len();
        let (f, t) = flagged_packets(&pcm);
        flagged += f;
        packets += t;
    }
    eprintln!("music: {digits} digits, {flagged}/{packets} packets flagged");
    assert_eq!(digits, 0, "talk-off on music");
}

#[test]
fn speech_through_the_browser_path_is_forwarded_almost_untouched() {
    // Opus 48 kHz -> masker -> agent: no digit captured, and few speech packets replaced.
    let (mut masked, mut forwarded, mut digits) = (0, 0, 0);
    for (name, pcm) in speech_corpus() {
        let pcm48 = hushpay_media::resample::resample(&pcm, 8000, 48_000);
        let r = hushpay_media::offline::mask_pcm(
            std::time::Instant::now(),
            &pcm48,
            48_000,
            20,
            32_000,
            48_000,
        )
        .unwrap();
        masked += r.stats.masked;
        forwarded += r.stats.forwarded;
        digits += r.digits.len();
        if !r.digits.is_empty() {
            eprintln!("{name}: {:?}", r.digits);
        }
    }
    eprintln!("speech through the masker: {digits} digits, {masked}/{forwarded} packets masked");
    assert_eq!(digits, 0);
    assert!(
        masked * 100 <= forwarded * 3,
        "more than 3 % of speech masked: {masked}/{forwarded}"
    );
}
