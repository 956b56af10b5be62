//! What the corpus benches share: raw 8 kHz s16le files, and Hushpay's strict detector run on
//! one file with its result row (`file`, digits found, thread CPU seconds, audio seconds) for
//! `bench/dtmf-compare`'s scoring.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use hushpay_media::detector::detect_all;

/// Writes `pcm` as raw little-endian 16-bit samples.
pub fn write_raw(path: &Path, pcm: &[i16]) {
    let mut b = Vec::with_capacity(pcm.len() * 2);
    for s in pcm {
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b).unwrap();
}

/// Runs the strict detector on `pcm` (8 kHz) and appends its row for `file` to `results`.
pub fn detect_row(results: &mut String, file: &Path, pcm: &[i16]) {
    let t = Instant::now();
    let found: String = detect_all(pcm).iter().map(|d| d.digit.as_char()).collect();
    let cpu = t.elapsed().as_secs_f64();
    writeln!(
        results,
        "{}\t{}\t{:.6}\t{:.3}",
        file.display(),
        found,
        cpu,
        pcm.len() as f64 / 8000.0
    )
    .unwrap();
}
