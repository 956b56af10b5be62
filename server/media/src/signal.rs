//! Test-signal generators (8 kHz unless stated): DTMF pairs, single tones, silence, white noise
//! and a small deterministic PRNG, so conformance tests, benches and the CLI corpus share them.

use std::f64::consts::PI;

use crate::Digit;
use crate::goertzel::{HIGH_FREQS, LOW_FREQS};
use crate::level::amplitude_for_dbm0;

/// One DTMF tone pair.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TonePair {
    /// The key.
    pub digit: Digit,
    /// Level of the low tone, dBm0.
    pub low_dbm0: f32,
    /// Level of the high tone, dBm0.
    pub high_dbm0: f32,
    /// Relative frequency offset of the low tone (0.015 = +1.5 %).
    pub low_offset: f32,
    /// Relative frequency offset of the high tone.
    pub high_offset: f32,
    /// Duration in milliseconds (may be fractional).
    pub ms: f32,
}

impl TonePair {
    /// Nominal frequencies, `dbm0` per tone, `ms` long.
    pub fn new(digit: Digit, dbm0: f32, ms: f32) -> Self {
        Self {
            digit,
            low_dbm0: dbm0,
            high_dbm0: dbm0,
            low_offset: 0.0,
            high_offset: 0.0,
            ms,
        }
    }

    /// Frequencies (Hz) after offsets.
    pub fn freqs(&self) -> (f32, f32) {
        let (r, c) = self.digit.row_col();
        (
            LOW_FREQS[r] * (1.0 + self.low_offset),
            HIGH_FREQS[c] * (1.0 + self.high_offset),
        )
    }

    /// Appends the pair at `rate` Hz to `out`.
    pub fn append(&self, rate: u32, out: &mut Vec<i16>) {
        let (fl, fh) = self.freqs();
        let n = (f64::from(self.ms) * f64::from(rate) / 1000.0).round() as usize;
        let (al, ah) = (
            amplitude_for_dbm0(self.low_dbm0),
            amplitude_for_dbm0(self.high_dbm0),
        );
        for i in 0..n {
            let t = i as f64 / f64::from(rate);
            let v = f64::from(al) * (2.0 * PI * f64::from(fl) * t).sin()
                + f64::from(ah) * (2.0 * PI * f64::from(fh) * t).sin();
            out.push(v.round().clamp(-32768.0, 32767.0) as i16);
        }
    }
}

/// Appends a single sine of `freq` Hz at `dbm0`.
pub fn append_tone(freq: f32, dbm0: f32, ms: f32, rate: u32, out: &mut Vec<i16>) {
    let n = (f64::from(ms) * f64::from(rate) / 1000.0).round() as usize;
    let a = f64::from(amplitude_for_dbm0(dbm0));
    for i in 0..n {
        let t = i as f64 / f64::from(rate);
        out.push(
            (a * (2.0 * PI * f64::from(freq) * t).sin())
                .round()
                .clamp(-32768.0, 32767.0) as i16,
        );
    }
}

/// Appends `ms` of silence.
pub fn append_silence(ms: f32, rate: u32, out: &mut Vec<i16>) {
    let n = (f64::from(ms) * f64::from(rate) / 1000.0).round() as usize;
    out.extend(std::iter::repeat_n(0i16, n));
}

/// A small deterministic PRNG (xorshift64*), for reproducible noise.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded generator (seed 0 is replaced).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    /// Uniform in [0, 1).
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box-Muller).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = self.uniform().max(1e-12);
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
    }
}

/// Adds white Gaussian noise of mean power `dbm0` (full band) to `pcm`.
pub fn add_noise(pcm: &mut [i16], dbm0: f32, rng: &mut Rng) {
    let sigma = f64::from(crate::level::power_for_dbm0(dbm0)).sqrt();
    for s in pcm.iter_mut() {
        let v = f64::from(*s) + sigma * rng.gaussian();
        *s = v.round().clamp(-32768.0, 32767.0) as i16;
    }
}
