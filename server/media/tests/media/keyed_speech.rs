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
    /// Power of the file's keys (a pair at the file's level), 0 for files without keys.
    pub pair_power: f32,
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

/// How keys are drawn: each value uniform in its range, per key (the level per file).
#[derive(Clone, Copy, Debug)]
pub struct Keying {
    /// Tone duration, ms.
    pub ms: (f32, f32),
    /// Pause from the end of one key to the start of the next, ms (the tone counted in whole
    /// ms, so up to 1 ms shorter).
    pub gap_ms: (f32, f32),
    /// Mean tone level per file, dBm0 (the pair's power is that of two tones at this level).
    pub level_dbm0: (f32, f32),
    /// Twist, dB, low tone minus high tone (negative: high louder, "forward" twist).
    pub twist_db: (f32, f32),
    /// Largest relative frequency offset of each tone (0.015 = +/-1.5 %).
    pub offset: f32,
    /// Twist split keeping the pair's power at the key's level (so twist does not change a
    /// key's SNR); otherwise +/- half the twist around the level.
    pub equal_power: bool,
    /// Share of draws (duration, twist, each offset) put at one end of their range instead of
    /// uniform within it: keys at the limits, as a conformance corpus keys them.
    pub at_limits: f32,
    /// Each key's level (both tones) varies by up to this many dB either side of the file's
    /// level: keys under louder or softer stretches of speech than the file's mean.
    pub key_level_spread_db: f32,
}

impl Keying {
    /// The first corpus of issue 18 (and `tests/media/speech_keys.rs`): 45-120 ms, 250-900 ms
    /// apart, -16 to -6 dBm0 per tone, twist within +/-3 dB, offsets within +/-1 %.
    pub const NARROW: Self = Self {
        ms: (45.0, 120.0),
        gap_ms: (250.0, 900.0),
        level_dbm0: (-16.0, -6.0),
        twist_db: (-3.0, 3.0),
        offset: 0.01,
        equal_power: false,
        at_limits: 0.0,
        key_level_spread_db: 0.0,
    };
    /// To the ITU-T Q.24 accept limits `tests/media/conformance_q24.rs` holds the detector to,
    /// with half the draws at a limit: 40-120 ms tones, pauses from 40 ms, offsets up to
    /// +/-1.5 %, twist from 4 dB high louder to 8 dB low louder, each key's level within 6 dB of
    /// the file's (-13 to -8.5 dBm0), so tones from -24.6 to 0 dBm0.
    pub const Q24: Self = Self {
        ms: (40.0, 120.0),
        gap_ms: (41.0, 900.0),
        level_dbm0: (-13.0, -8.5),
        twist_db: (-4.0, 8.0),
        offset: 0.015,
        equal_power: true,
        at_limits: 0.5,
        key_level_spread_db: 6.0,
    };
}

fn draw(rng: &mut Rng, (lo, hi): (f32, f32)) -> f32 {
    lo + (hi - lo) * rng.uniform() as f32
}

/// Uniform in the range, or with probability `at_limits` one of its ends.
fn draw_edge(rng: &mut Rng, range: (f32, f32), at_limits: f32) -> f32 {
    if at_limits > 0.0 && (rng.uniform() as f32) < at_limits {
        if rng.uniform() < 0.5 {
            range.0
        } else {
            range.1
        }
    } else {
        draw(rng, range)
    }
}

/// Digits keyed over `speech` (looped as needed) at `snr` dB (pair power over active speech
/// power), 14 keys drawn by `keying`.
pub fn keyed_over(name: &str, speech: &[i16], snr: f32, variant: u64, keying: Keying) -> Case {
    let mut rng = Rng::new(seed_of(name, variant * 1000 + snr as u64));
    let keys: Vec<Digit> = Digit::all().collect();
    let mut pairs = Vec::new();
    let mut at = 2400 + (rng.uniform() * 4000.0) as usize;
    let mut spans = Vec::new();
    let level = draw(&mut rng, keying.level_dbm0);
    for _ in 0..DIGITS_PER_FILE {
        let d = keys[(rng.uniform() * keys.len() as f64) as usize % keys.len()];
        let ms = draw_edge(&mut rng, keying.ms, keying.at_limits);
        let twist = draw_edge(&mut rng, keying.twist_db, keying.at_limits);
        let spread = keying.key_level_spread_db;
        let level = if spread > 0.0 {
            level + draw(&mut rng, (-spread, spread))
        } else {
            level
        };
        let (low_dbm0, high_dbm0) = if keying.equal_power {
            // p_low + p_high = 2 p_level with p_low / p_high = 10^(twist / 10).
            let high = level + 10.0 * (2.0 / (1.0 + 10f32.powf(twist / 10.0))).log10();
            (high + twist, high)
        } else {
            (level + twist / 2.0, level - twist / 2.0)
        };
        let off = (-keying.offset, keying.offset);
        let low_offset = draw_edge(&mut rng, off, keying.at_limits);
        let high_offset = draw_edge(&mut rng, off, keying.at_limits);
        let p = TonePair {
            digit: d,
            low_dbm0,
            high_dbm0,
            low_offset,
            high_offset,
            ms,
        };
        let mut tone = Vec::new();
        p.append(8000, &mut tone);
        spans.push((at, at + tone.len()));
        pairs.push((at, tone, d));
        // Whole ms of the tone, then the pause (NARROW's files as they were).
        at += (ms as usize) * 8 + (draw(&mut rng, keying.gap_ms) * 8.0) as usize;
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
        pair_power,
    }
}

/// Adds `noise` (looped, started `offset` samples in) under `case` at `snr` dB below its keys'
/// power (active power, as for the speech): a room's babble behind the talker, the same at every
/// speech SNR.
pub fn add_background(case: &mut Case, noise: &[i16], offset: usize, snr: f32) {
    let len = case.pcm.len();
    let mut bed = Vec::with_capacity(len + noise.len());
    let start = offset % noise.len().max(1);
    bed.extend_from_slice(&noise[start..]);
    while bed.len() < len {
        bed.extend_from_slice(noise);
    }
    bed.truncate(len);
    let gain = (case.pair_power / 10f32.powf(snr / 10.0) / active_power(&bed)).sqrt();
    for (s, n) in case.pcm.iter_mut().zip(scale(&bed, gain)) {
        *s = s.saturating_add(n);
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
