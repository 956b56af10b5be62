//! Resampling helpers between the rates the CLI and tests meet (8, 16, 22.05, 48 kHz).
//! Down-sampling uses a windowed-sinc low-pass; quality is ample for DTMF and speech checks.

use std::f64::consts::PI;

/// Resamples `pcm` from `from` Hz to `to` Hz with a windowed-sinc interpolator whose cut-off is
/// 0.45 of the lower rate. Cost is O(n * taps); fine for files, not meant for the packet path.
pub fn resample(pcm: &[i16], from: u32, to: u32) -> Vec<i16> {
    if from == to || pcm.is_empty() || from == 0 || to == 0 {
        return pcm.to_vec();
    }
    let ratio = f64::from(to) / f64::from(from);
    let cutoff = 0.45 * f64::from(from.min(to)) / f64::from(from); // in cycles per input sample
    let half_taps = (8.0 / cutoff).ceil() as i64;
    let out_len = (pcm.len() as f64 * ratio).floor() as usize;
    let mut out = Vec::with_capacity(out_len);
    for j in 0..out_len {
        let t = j as f64 / ratio;
        let center = t.floor() as i64;
        let mut acc = 0.0;
        for i in (center - half_taps + 1)..=(center + half_taps) {
            let Some(&s) = usize::try_from(i).ok().and_then(|i| pcm.get(i)) else {
                continue;
            };
            let x = t - i as f64;
            let sinc = if x.abs() < 1e-9 {
                1.0
            } else {
                (2.0 * PI * cutoff * x).sin() / (PI * x)
            };
            let sinc = if x.abs() < 1e-9 { 2.0 * cutoff } else { sinc };
            let w = 0.5 + 0.5 * (PI * x / half_taps as f64).cos();
            acc += f64::from(s) * sinc * w;
        }
        out.push(acc.round().clamp(-32768.0, 32767.0) as i16);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_a_tone_and_its_level() {
        let x: Vec<i16> = (0..4800)
            .map(|i| (10000.0 * (2.0 * PI * 1000.0 * i as f64 / 48000.0).sin()) as i16)
            .collect();
        let y = resample(&x, 48000, 8000);
        assert_eq!(y.len(), 800);
        let rms = (y[100..700]
            .iter()
            .map(|&v| f64::from(v).powi(2))
            .sum::<f64>()
            / 600.0)
            .sqrt();
        assert!((rms / (10000.0 / 2f64.sqrt()) - 1.0).abs() < 0.03, "{rms}");
        let z = resample(&y, 8000, 22050);
        assert_eq!(z.len(), 2205);
    }
}
