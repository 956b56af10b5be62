//! DTMF frequencies and the single-bin DFT tools the detectors use.

use std::f32::consts::PI;

/// Sample rate of all detection (Hz).
pub const SAMPLE_RATE: f32 = 8000.0;

/// Low group (rows) in Hz.
pub const LOW_FREQS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
/// High group (columns) in Hz.
pub const HIGH_FREQS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The 8 DTMF frequencies, low group first.
pub const ALL_FREQS: [f32; 8] = [697.0, 770.0, 852.0, 941.0, 1209.0, 1336.0, 1477.0, 1633.0];

/// Goertzel coefficients (`2 cos(w)`) for the 8 DTMF frequencies.
#[derive(Debug, Clone, Copy)]
pub struct Goertzel8 {
    coeffs: [f32; 8],
}

impl Default for Goertzel8 {
    fn default() -> Self {
        Self::new()
    }
}

impl Goertzel8 {
    /// Coefficients for the nominal DTMF frequencies at 8 kHz.
    pub fn new() -> Self {
        Self {
            coeffs: ALL_FREQS.map(|f| 2.0 * (2.0 * PI * f / SAMPLE_RATE).cos()),
        }
    }

    /// `|X(f)|^2` for each of the 8 frequencies over `x`, and the block energy `sum x^2`.
    /// The 8 filters run in one pass over the samples.
    pub fn powers(&self, x: &[f32]) -> ([f32; 8], f32) {
        let mut s1 = [0f32; 8];
        let mut s2 = [0f32; 8];
        let mut energy = 0f32;
        for &v in x {
            energy += v * v;
            for k in 0..8 {
                let s0 = v + self.coeffs[k] * s1[k] - s2[k];
                s2[k] = s1[k];
                s1[k] = s0;
            }
        }
        let mut p = [0f32; 8];
        for k in 0..8 {
            p[k] = s1[k] * s1[k] + s2[k] * s2[k] - self.coeffs[k] * s1[k] * s2[k];
        }
        (p, energy)
    }
}

/// Mean-square power of a sine that gives DFT power `p` over `n` samples (`A^2/2 = 2|X|^2/n^2`).
pub fn tone_power(p: f32, n: usize) -> f32 {
    let n = n as f32;
    2.0 * p / (n * n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goertzel_measures_a_sine() {
        let n = 160;
        let x: Vec<f32> = (0..n)
            .map(|i| 1000.0 * (2.0 * PI * 770.0 * i as f32 / 8000.0).sin())
            .collect();
        let (p, e) = Goertzel8::new().powers(&x);
        let power = tone_power(p[1], n);
        assert!((power / 500_000.0 - 1.0).abs() < 0.05, "{power}");
        assert!((e / n as f32 / 500_000.0 - 1.0).abs() < 0.05);
        assert!(p[0] < p[1] / 15.0 && p[4] < p[1] / 100.0);
    }
}
