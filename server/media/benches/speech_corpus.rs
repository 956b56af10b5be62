//! Keypad tones under speech (issue 18): builds the corpus from the sources written by
//! `bench/dtmf-compare/make-speech-sources.sh` and scores Hushpay on it; spandsp and multimon-ng
//! are run on the same files by `scripts/bench-dtmf-speech.sh`, which scores all three with
//! `bench/dtmf-compare/speech_table.py`.
//!
//! Usage: `cargo bench -p hushpay-media --bench speech_corpus -- SRC_DIR OUT_DIR`
//!
//! Writes into `OUT_DIR`:
//! * `*.raw` (8 kHz s16le) and `manifest.tsv`
//!   (`file<TAB>class<TAB>expected<TAB>snr<TAB>tone spans in samples "start-end,..."`):
//!   class `speech` = digits keyed over speech or babble at 10/15/20/25 dB SNR (pair power over
//!   active speech power), `talkoff` = pure speech, babble and music;
//! * `hushpay.tsv`: `hushpay media detect`'s strict detector on each file (the format of
//!   `bench/dtmf-compare/spandsp_rx.c`);
//! * `masked/*.raw` and `mask.tsv`: each file through the browser path (48 kHz, Opus 32 kbit/s
//!   wideband, 20 ms, as `hushpay media mask` runs it) and the masker, what the agent hears (8 kHz)
//!   and `file<TAB>captured digits<TAB>active frames<TAB>muted frames<TAB>muted frames without
//!   the masker (codec only)<TAB>masked packets<TAB>packets` where active frames are
//!   20 ms frames of the input within 40 dB of its loudest frame and above -50 dBm0, outside the
//!   digit windows (each tone extended by 40 ms both sides: the masker mutes the packet before
//!   and after a key by design), and muted ones are those the agent hears >= 10 dB quieter.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hushpay_media::Digit;
use hushpay_media::detector::detect_all;
use hushpay_media::level::power_for_dbm0;
use hushpay_media::offline::mask_pcm;
use hushpay_media::resample::resample;
use hushpay_media::signal::{Rng, TonePair};
use hushpay_media::wav::Wav;

#[path = "../tests/media/talk_off.rs"]
#[allow(dead_code, unused_imports)]
mod talk_off;

pub const SNRS: [f32; 4] = [10.0, 15.0, 20.0, 25.0];
/// Digits keyed per file.
const DIGITS_PER_FILE: usize = 14;
/// Guard around each tone excluded from the "speech muted" count, ms.
const GUARD_MS: usize = 40;

#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub class: &'static str,
    pub snr: Option<f32>,
    pub expected: String,
    /// Tone spans in samples.
    pub spans: Vec<(usize, usize)>,
    pub pcm: Vec<i16>,
}

fn seed_of(name: &str, salt: u64) -> u64 {
    // FNV-1a: stable across Rust versions, unlike DefaultHasher.
    name.bytes().fold(0xcbf2_9ce4_8422_2325 ^ salt, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn frame_powers(pcm: &[i16], frame: usize) -> Vec<f32> {
    pcm.chunks(frame)
        .map(|c| c.iter().map(|&s| f32::from(s) * f32::from(s)).sum::<f32>() / c.len() as f32)
        .collect()
}

/// Mean power of the active 20 ms frames (within 40 dB of the loudest, above -50 dBm0).
fn active_power(pcm: &[i16]) -> f32 {
    let p = frame_powers(pcm, 160);
    let max = p.iter().fold(0f32, |m, &v| m.max(v));
    let floor = (max * 1e-4).max(power_for_dbm0(-50.0));
    let act: Vec<f32> = p.into_iter().filter(|&v| v >= floor).collect();
    act.iter().sum::<f32>() / act.len().max(1) as f32
}

fn scale(pcm: &[i16], gain: f32) -> Vec<i16> {
    pcm.iter()
        .map(|&s| (f32::from(s) * gain).round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Digits keyed over `speech` (looped as needed) at `snr` dB: 14 keys of 45-120 ms, 250-900 ms
/// apart, -16 to -6 dBm0 per tone, twist within +/-3 dB, offsets within +/-1 %.
pub fn keyed_over(name: &str, speech: &[i16], snr: f32, variant: u64) -> Case {
    let mut rng = Rng::new(seed_of(name, variant * 1000 + snr as u64));
    let keys: Vec<Digit> = Digit::all().collect();
    let mut pairs = Vec::new();
    let mut at = 2400 + (rng.uniform() * 4000.0) as usize;
    let mut spans = Vec::new();
    let level = -16.0 + 10.0 * rng.uniform() as f32;
    for _ in 0..DIGITS_PER_FILE {
        let d = keys[(rng.uniform() * keys.len() as f64) as usize % keys.len()];
        let ms = 45.0 + 75.0 * rng.uniform() as f32;
        let twist = 6.0 * rng.uniform() as f32 - 3.0;
        let p = TonePair {
            digit: d,
            low_dbm0: level + twist / 2.0,
            high_dbm0: level - twist / 2.0,
            low_offset: (0.02 * rng.uniform() - 0.01) as f32,
            high_offset: (0.02 * rng.uniform() - 0.01) as f32,
            ms,
        };
        let mut tone = Vec::new();
        p.append(8000, &mut tone);
        spans.push((at, at + tone.len()));
        pairs.push((at, tone, d));
        at += (ms as usize) * 8 + 2000 + (rng.uniform() * 5200.0) as usize;
    }
    let len = at + 2400;
    let mut bed = Vec::with_capacity(len);
    while bed.len() < len {
        bed.extend_from_slice(speech);
    }
    bed.truncate(len);
    let pair_power = 2.0 * power_for_dbm0(level);
    let gain = (pair_power / 10f32.powf(snr / 10.0) / active_power(&bed)).sqrt();
    let mut pcm = scale(&bed, gain);
    let mut expected = String::new();
    for (start, tone, d) in pairs {
        for (s, t) in pcm[start..].iter_mut().zip(&tone) {
            *s = s.saturating_add(*t);
        }
        expected.push(d.as_char());
    }
    Case {
        name: format!("{name}-snr{snr}-v{variant}"),
        class: "speech",
        snr: Some(snr),
        expected,
        spans,
        pcm,
    }
}

pub fn load_sources(dir: &Path) -> Vec<(String, Vec<i16>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run bench/dtmf-compare/make-speech-sources.sh)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let w = Wav::parse(&std::fs::read(&p).unwrap()).unwrap();
            assert_eq!(w.rate, 8000, "{}", p.display());
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                w.samples,
            )
        })
        .collect()
}

fn corpus(src: &Path) -> Vec<Case> {
    let sources = load_sources(src);
    let mut v = Vec::new();
    for (name, pcm) in &sources {
        if name.starts_with("music") {
            continue;
        }
        for snr in SNRS {
            for variant in 0..2 {
                v.push(keyed_over(name, pcm, snr, variant));
            }
        }
    }
    for (name, pcm) in &sources {
        for gain in [1.0f32, 2.8] {
            v.push(Case {
                name: format!("{name}-x{gain}"),
                class: "talkoff",
                snr: None,
                expected: String::new(),
                spans: Vec::new(),
                pcm: scale(pcm, gain),
            });
        }
    }
    for seed in 5..=8 {
        v.push(Case {
            name: format!("music-synthetic-{seed}"),
            class: "talkoff",
            snr: None,
            expected: String::new(),
            spans: Vec::new(),
            pcm: talk_off::synthetic_music(seed),
        });
    }
    v
}

/// (active frames, muted frames) outside the digit windows, comparing what the agent hears
/// (`out`, 48 kHz) with the input (`pcm48`), after aligning out the codec delay.
pub fn muted_frames(pcm48: &[i16], out: &[i16], spans8: &[(usize, usize)]) -> (usize, usize) {
    let frame = 960;
    // Codec delay: the lag (0-15 ms) that best correlates input and output.
    let probe = pcm48.len().min(48_000 * 4);
    let lag = (0..=720)
        .step_by(4)
        .max_by(|&a, &b| {
            let c = |l: usize| {
                pcm48[..probe.saturating_sub(l)]
                    .iter()
                    .zip(&out[l..])
                    .map(|(&x, &y)| f64::from(x) * f64::from(y))
                    .sum::<f64>()
            };
            c(a).total_cmp(&c(b))
        })
        .unwrap_or(0);
    let pin = frame_powers(pcm48, frame);
    let pout = frame_powers(&out[lag.min(out.len())..], frame);
    let max = pin.iter().fold(0f32, |m, &v| m.max(v));
    let floor = (max * 1e-4).max(power_for_dbm0(-50.0));
    let guard = GUARD_MS * 8;
    let (mut active, mut muted) = (0, 0);
    for (i, (&a, &b)) in pin.iter().zip(&pout).enumerate() {
        let (s, e) = (i * 160, (i + 1) * 160); // the frame in 8 kHz samples
        let near = spans8
            .iter()
            .any(|&(ts, te)| s < te + guard && ts < e + guard);
        if a < floor || near {
            continue;
        }
        active += 1;
        muted += usize::from(b * 10.0 <= a);
    }
    (active, muted)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let src = PathBuf::from(args.first().expect("usage: speech_corpus SRC_DIR OUT_DIR"));
    let dir = PathBuf::from(args.get(1).expect("usage: speech_corpus SRC_DIR OUT_DIR"));
    let no_mask = std::env::args().any(|a| a == "--no-mask");
    std::fs::create_dir_all(dir.join("masked")).unwrap();
    let mut manifest = String::from("file\tclass\texpected\tsnr\tspans\n");
    let mut results = String::new();
    let mut masks = String::new();
    let cases = corpus(&src);
    for c in &cases {
        let file = dir.join(format!("{}.raw", c.name));
        write_raw(&file, &c.pcm);
        let spans: Vec<String> = c.spans.iter().map(|(s, e)| format!("{s}-{e}")).collect();
        writeln!(
            manifest,
            "{}\t{}\t{}\t{}\t{}",
            file.display(),
            c.class,
            c.expected,
            c.snr.map_or(String::new(), |s| format!("{s}")),
            spans.join(",")
        )
        .unwrap();
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
        if no_mask {
            continue;
        }
        let pcm48 = resample(&c.pcm, 8000, 48_000);
        let r = mask_pcm(Instant::now(), &pcm48, 48_000, 20, 32_000, 16_000).unwrap();
        let (active, muted) = muted_frames(&pcm48, &r.audio, &c.spans);
        // Control: the same codec path without the masker (frames the codec alone attenuates).
        let (_, codec_muted) = muted_frames(&pcm48, &codec_only(&pcm48), &c.spans);
        let captured: String = r.digits.iter().map(|d| d.digit.as_char()).collect();
        writeln!(
            masks,
            "{}\t{captured}\t{active}\t{muted}\t{codec_muted}\t{}\t{}",
            file.display(),
            r.stats.masked,
            r.stats.forwarded
        )
        .unwrap();
        write_raw(
            &dir.join("masked").join(format!("{}.raw", c.name)),
            &resample(&r.audio, 48_000, 8000),
        );
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).unwrap();
    std::fs::write(dir.join("hushpay.tsv"), results).unwrap();
    if !no_mask {
        std::fs::write(dir.join("mask.tsv"), masks).unwrap();
    }
    println!("{} files written to {}", cases.len(), dir.display());
}

/// `pcm48` through the same Opus encoder settings as [`mask_pcm`] and a decoder, no masker.
fn codec_only(pcm48: &[i16]) -> Vec<i16> {
    use hushpay_media::opus_codec::{Decoder, Encoder};
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    enc.set_max_playback_rate(16_000).unwrap();
    let mut dec = Decoder::new(48_000).unwrap();
    let mut out = Vec::with_capacity(pcm48.len() + 960);
    let mut padded = pcm48.to_vec();
    padded.resize(pcm48.len().div_ceil(960) * 960, 0);
    for f in padded.chunks(960) {
        dec.decode_into(&enc.encode(f).unwrap(), &mut out).unwrap();
    }
    out.truncate(pcm48.len());
    out
}

fn write_raw(path: &Path, pcm: &[i16]) {
    let mut b = Vec::with_capacity(pcm.len() * 2);
    for s in pcm {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}
