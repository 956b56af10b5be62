//! Digits keyed over speech (issue 18), shared by `tests/media/speech_keys.rs` and
//! `benches/speech_corpus.rs`: the keyed signal and the "speech muted" measure.
#![allow(dead_code)]

use hushpay_media::Digit;
use hushpay_media::level::power_for_dbm0;
use hushpay_media::signal::{Rng, TonePair};

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

pub fn seed_of(name: &str, salt: u64) -> u64 {
    // FNV-1a: stable across Rust versions, unlike DefaultHasher.
    name.bytes().fold(0xcbf2_9ce4_8422_2325 ^ salt, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub fn frame_powers(pcm: &[i16], frame: usize) -> Vec<f32> {
    pcm.chunks(frame)
        .map(|c| c.iter().map(|&s| f32::from(s) * f32::from(s)).sum::<f32>() / c.len() as f32)
        .collect()
}

/// Mean power of the active 20 ms frames (within 40 dB of the loudest, above -50 dBm0).
pub fn active_power(pcm: &[i16]) -> f32 {
    let p = frame_powers(pcm, 160);
    let max = p.iter().fold(0f32, |m, &v| m.max(v));
    let floor = (max * 1e-4).max(power_for_dbm0(-50.0));
    let act: Vec<f32> = p.into_iter().filter(|&v| v >= floor).collect();
    act.iter().sum::<f32>() / act.len().max(1) as f32
}

pub fn scale(pcm: &[i16], gain: f32) -> Vec<i16> {
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

/// (active frames, muted frames) outside the digit windows, comparing what the agent hears
/// (`out`) with the input (`pcm`), both at `rate`, after aligning out the codec delay; `spans8`
/// are the keys in 8 kHz samples.
pub fn muted_frames(
    pcm: &[i16],
    out: &[i16],
    rate: usize,
    spans8: &[(usize, usize)],
) -> (usize, usize) {
    let frame = rate / 50;
    let pcm48 = pcm;
    // Codec delay: the lag (0-15 ms, in steps of 1/6 ms) that best correlates input and output
    // over the first second or two.
    let probe = pcm48.len().min(rate * 2);
    let lag = (0..=rate * 15 / 1000)
        .step_by((rate / 6000).max(1))
        .max_by(|&a, &b| {
            let c = |l: usize| {
                pcm48[..probe.saturating_sub(l)]
                    .iter()
                    .zip(&out[l..])
                    .step_by(2)
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
