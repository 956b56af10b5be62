//! Strict DTMF detector meeting ITU-T Q.24 (AT&T column) on 8 kHz PCM.
//!
//! The signal is cut into blocks of 102 samples (12.75 ms). For each block and each of the 8 DTMF
//! frequencies we correlate three sub-blocks of 34 samples with the nominal frequency; the
//! strongest bin of each group picks the key candidate. For that pair, a least-squares fit of both
//! tones on each sub-block (exact, so the two tones do not leak into each other) gives:
//!
//! * the tone power over the block (corrected for the measured offset),
//! * the frequency offset (phase advance from one sub-block to the next), which separates a
//!   1.5 % offset (accept) from 3.5 % (reject) far better than magnitude alone can in 12.75 ms,
//! * whether the tone fills the block (neither edge sub-block more than 4 dB below the middle
//!   one: speech may raise or lower any sub-block, a partial fill only shortens an edge), which is what lets a
//!   two-block rule reject tones of 23 ms while accepting 40 ms tones at any alignment.
//!
//! A block is a "hit" for a key when: one low and one high tone dominate their groups by
//! [`DetectorConfig::min_relative_peak`], each is at least [`DetectorConfig::min_tone_dbm0`], the
//! twist is within Q.24's +8/-4 dB (plus a margin for speech under the key), the two tones carry at least [`DetectorConfig::min_energy_ratio`] of the
//! block energy, both frequencies are within [`DetectorConfig::max_block_freq_offset`], both fill
//! the block, and neither has a second harmonic above [`DetectorConfig::max_harmonic_ratio`]
//! (voices and instruments do; DTMF generators do not). A key starts after two consecutive hits
//! whose mean frequency offsets are within [`DetectorConfig::max_freq_offset`] (2 %, between
//! Q.24's 1.5 % accept and 3.5 % reject) and whose frequencies agree within
//! [`DetectorConfig::max_freq_drift_hz`] (and the block before or after shows the pair, see
//! [`DetectorConfig::min_neighbour_presence`]), or after two such hits one block apart whose
//! middle block is no hit of that key but shows its pair (speech over a key fails one block's
//! tests; the two filled outer blocks put the tone at >= 38 ms). It ends after two consecutive
//! non-hits; it is reported when it ends, with its start and end sample.

use std::f32::consts::PI;

use crate::Digit;
use crate::goertzel::{ALL_FREQS, SAMPLE_RATE};
use crate::level::power_for_dbm0;

/// Block length in samples (12.75 ms at 8 kHz).
pub const BLOCK: usize = 102;
/// Sub-blocks per block (34 samples each) for the fill and frequency measures.
const SUBS: usize = 3;
const SUB: usize = BLOCK / SUBS;

/// Thresholds of the strict detector. The defaults meet Q.24's AT&T column.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DetectorConfig {
    /// Weakest accepted tone, dBm0 (Q.24: accept down to -25).
    pub min_tone_dbm0: f32,
    /// Largest accepted "low tone louder" twist, dB (Q.24: 8, plus 3 dB: speech under the
    /// weaker tone moves the measured twist).
    pub max_normal_twist_db: f32,
    /// Largest accepted "high tone louder" twist, dB (Q.24: 4, plus 3 dB).
    pub max_reverse_twist_db: f32,
    /// Share of the block energy the two tones must carry.
    pub min_energy_ratio: f32,
    /// Each tone must exceed the other tones of its group by this factor (power; 3.5 = 5.4 dB:
    /// a vowel's harmonic in the same group under a key must not hide it. 6.3, 8 dB, until
    /// the Q.24 keys under speech of issue 18).
    pub min_relative_peak: f32,
    /// Largest accepted relative frequency offset, averaged over the two blocks that start a
    /// key (Q.24: accept 1.5 %, reject 3.5 %).
    pub max_freq_offset: f32,
    /// Largest relative frequency offset of any single block.
    pub max_block_freq_offset: f32,
    /// Largest change of either tone's frequency between the two blocks that start a key, Hz
    /// (keypads are crystal-stable; voices glide).
    pub max_freq_drift_hz: f32,
    /// Largest second-harmonic to fundamental power ratio (talk-off guard; 0.06 = -12 dB: speech
    /// under a key adds to the measured harmonic. 0.1 let a digit through on the talk-off
    /// speech, issue 18).
    pub max_harmonic_ratio: f32,
    /// Largest power ratio of the middle sub-block of a block to its weaker edge sub-block (the
    /// tone fills the block: one that starts or stops inside it leaves an edge short).
    pub max_fill_imbalance: f32,
    /// The block before or after the two that start a key must carry the same pair in at least
    /// one sub-block at this share of their power: together with the fill test this puts a
    /// key at >= 3 sub-blocks beyond two blocks (~29 ms), so tones of 23 ms are rejected with a
    /// margin while 40 ms tones pass at any alignment, even with a codec-smeared onset.
    pub min_neighbour_presence: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            min_tone_dbm0: -33.0,
            max_normal_twist_db: 11.0,
            max_reverse_twist_db: 7.0,
            min_energy_ratio: 0.6,
            min_relative_peak: 3.5,
            max_freq_offset: 0.02,
            max_block_freq_offset: 0.025,
            max_freq_drift_hz: 11.0,
            max_harmonic_ratio: 0.06,
            max_fill_imbalance: 2.5,
            min_neighbour_presence: 0.4,
        }
    }
}

/// A digit found in PCM, with sample positions (8 kHz) counted from the detector's first sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DetectedDigit {
    /// The key.
    pub digit: Digit,
    /// First sample of the first block that carried it.
    pub start_sample: u64,
    /// One past the last sample of the last block that carried it.
    pub end_sample: u64,
}

impl DetectedDigit {
    /// Start in milliseconds.
    pub fn start_ms(&self) -> u64 {
        self.start_sample / 8
    }
    /// End in milliseconds.
    pub fn end_ms(&self) -> u64 {
        self.end_sample / 8
    }
}

/// The streaming strict detector. Feed PCM with [`DtmfDetector::process`].
#[derive(Debug, Clone)]
pub struct DtmfDetector {
    config: DetectorConfig,
    min_tone_power: f32,
    cos: Box<[[f32; BLOCK]; 8]>,
    sin: Box<[[f32; BLOCK]; 8]>,
    gram_inv: Vec<Gram>,
    block: [f32; BLOCK],
    fill: usize,
    /// Sample index of `block[0]`.
    block_start: u64,
    last_hit: Option<Hit>,
    /// The hit of the block before `last_hit`'s.
    hit_before: Option<Hit>,
    /// A block was a hit since [`DtmfDetector::take_may_be_keying`] last ran.
    hit_seen: bool,
    /// Presence of a key's pair in the last block and the one before it.
    last_presence: Option<(Digit, f32)>,
    before_presence: Option<(Digit, f32)>,
    /// Two blocks agreed; waiting for the next block to show the pair too.
    pending: Option<(Digit, u64, u64, f32)>,
    current: Option<(Digit, u64, u64)>,
    misses: u8,
}

impl Default for DtmfDetector {
    fn default() -> Self {
        Self::new(DetectorConfig::default())
    }
}

impl DtmfDetector {
    /// A detector with `config`.
    pub fn new(config: DetectorConfig) -> Self {
        let mut cos = Box::new([[0f32; BLOCK]; 8]);
        let mut sin = Box::new([[0f32; BLOCK]; 8]);
        for (k, f) in ALL_FREQS.iter().enumerate() {
            let w = 2.0 * PI * f / SAMPLE_RATE;
            for n in 0..BLOCK {
                cos[k][n] = (w * n as f32).cos();
                sin[k][n] = (w * n as f32).sin();
            }
        }
        Self {
            config,
            min_tone_power: power_for_dbm0(config.min_tone_dbm0),
            cos,
            sin,
            gram_inv: gram_inverses(),
            block: [0.0; BLOCK],
            fill: 0,
            block_start: 0,
            last_hit: None,
            hit_before: None,
            hit_seen: false,
            last_presence: None,
            before_presence: None,
            pending: None,
            current: None,
            misses: 0,
        }
    }

    /// True while a key is being heard (declared and not yet ended).
    pub fn in_progress(&self) -> bool {
        self.current.is_some() || self.pending.is_some()
    }

    /// True if a key is being heard or may be starting: [`Self::in_progress`], or a block
    /// passed every test of a hit since the last call. A key's reported start is the start
    /// of a hit block, known only when the block ends (12.75 ms later) and declared one or two
    /// blocks after that; a masker that holds one packet must act on the first hit, not on
    /// the declaration, to silence the packet the key starts in. Call once per packet, after
    /// [`Self::process`].
    pub fn take_may_be_keying(&mut self) -> bool {
        self.take_hit_seen() || self.in_progress()
    }

    /// True if a block passed every test of a hit since the last call (see
    /// [`Self::take_may_be_keying`]).
    pub fn take_hit_seen(&mut self) -> bool {
        std::mem::take(&mut self.hit_seen)
    }

    /// Feeds samples; pushes every digit that ended into `out`.
    pub fn process(&mut self, pcm: &[i16], out: &mut Vec<DetectedDigit>) {
        for &s in pcm {
            self.block[self.fill] = f32::from(s);
            self.fill += 1;
            if self.fill == BLOCK {
                let mut presence = None;
                let hit = self.classify(&mut presence);
                self.step(hit, presence, out);
                self.fill = 0;
                self.block_start += BLOCK as u64;
            }
        }
    }

    /// Ends the stream: reports a digit still in progress.
    pub fn flush(&mut self, out: &mut Vec<DetectedDigit>) {
        if let Some((digit, start_sample, end_sample)) = self.current.take() {
            out.push(DetectedDigit {
                digit,
                start_sample,
                end_sample,
            });
        }
        self.misses = 0;
        self.last_hit = None;
        self.hit_before = None;
        self.last_presence = None;
        self.before_presence = None;
        self.pending = None;
    }

    fn step(
        &mut self,
        hit: Option<Hit>,
        presence: Option<(Digit, f32)>,
        out: &mut Vec<DetectedDigit>,
    ) {
        let min_presence = self.config.min_neighbour_presence;
        let shows = |p: Option<(Digit, f32)>, d: Digit, level: f32| {
            p.is_some_and(|(pd, power)| pd == d && power >= min_presence * level)
        };
        let block_end = self.block_start + BLOCK as u64;
        let max = self.config.max_freq_offset;
        let drift = self.config.max_freq_drift_hz;
        match self.current {
            Some((d, start, _)) if hit.is_some_and(|h| h.digit == d) => {
                self.current = Some((d, start, block_end));
                self.misses = 0;
            }
            Some((digit, start_sample, end_sample)) => {
                self.misses += 1;
                if self.misses >= 2 {
                    out.push(DetectedDigit {
                        digit,
                        start_sample,
                        end_sample,
                    });
                    self.current = None;
                    self.misses = 0;
                }
            }
            None if self.pending.is_some() => {
                if let Some((d, start, end, level)) = self.pending.take()
                    && shows(presence, d, level)
                {
                    let hit_here = hit.is_some_and(|h| h.digit == d);
                    self.current = Some((d, start, if hit_here { block_end } else { end }));
                    self.misses = u8::from(!hit_here);
                }
            }
            None => {
                // Two consecutive blocks agree on the key, and their mean offsets are in range.
                let agree = |h: &Hit, l: &Hit| {
                    let (r, c) = h.digit.row_col();
                    h.digit == l.digit
                        && (h.low + l.low).abs() / 2.0 <= max
                        && (h.high + l.high).abs() / 2.0 <= max
                        && (h.low - l.low).abs() * ALL_FREQS[r] <= drift
                        && (h.high - l.high).abs() * ALL_FREQS[4 + c] <= drift
                };
                let start = hit.zip(self.last_hit).filter(|(h, l)| agree(h, l));
                if let Some((h, l)) = start {
                    let level = h.level.min(l.level);
                    let first = self.block_start - BLOCK as u64;
                    if shows(self.before_presence, h.digit, level) {
                        self.current = Some((h.digit, first, block_end));
                        self.misses = 0;
                    } else {
                        self.pending = Some((h.digit, first, block_end, level));
                    }
                } else if let Some((h, _)) = hit.zip(self.hit_before).filter(|(h, b)| {
                    agree(h, b)
                        && self.last_hit.is_none_or(|l| l.digit != h.digit)
                        && shows(self.last_presence, h.digit, h.level.min(b.level))
                }) {
                    // A block between two that agree failed a test (speech over the key) but
                    // still shows the pair: both outer blocks are filled, so the tone spans
                    // all three (>= 38 ms), more than the two-block start with its neighbour.
                    self.current = Some((h.digit, self.block_start - 2 * BLOCK as u64, block_end));
                    self.misses = 0;
                }
            }
        }
        self.hit_seen |= hit.is_some();
        self.hit_before = self.last_hit;
        self.last_hit = hit;
        self.before_presence = self.last_presence;
        self.last_presence = presence;
    }

    /// The key this block carries, if it passes every test.
    /// Also reports in `presence` the strongest pair's key and its strongest sub-block power.
    fn classify(&self, presence: &mut Option<(Digit, f32)>) -> Option<Hit> {
        let x = &self.block;
        let energy: f32 = x.iter().map(|v| v * v).sum::<f32>() / BLOCK as f32;
        if energy < self.min_tone_power {
            return None;
        }
        let corr: [[(f32, f32); SUBS]; 8] = std::array::from_fn(|k| self.correlate(k));
        let raw: [f32; 8] = std::array::from_fn(|k| {
            let (c, s) = corr[k]
                .iter()
                .fold((0f32, 0f32), |(a, b), &(c, s)| (a + c, b + s));
            c * c + s * s
        });
        let row = strongest(&raw[..4]);
        let col = strongest(&raw[4..]);
        let (lo, hi) = self.fit(row, col, &corr);
        // Presence is judged before the whole-block tests: a partly filled block has a wide
        // spectrum and fails them, but its full sub-blocks still show the pair.
        *presence = Digit::from_row_col(row, col).map(|d| (d, lo.peak_third.min(hi.peak_third)));
        let c = &self.config;
        for (group, best) in [(&raw[..4], row), (&raw[4..], col)] {
            let peak = group[best];
            if peak <= 0.0
                || group
                    .iter()
                    .enumerate()
                    .any(|(i, &p)| i != best && p * c.min_relative_peak > peak)
            {
                return None;
            }
        }
        for (t, f) in [(&lo, ALL_FREQS[row]), (&hi, ALL_FREQS[4 + col])] {
            if t.power < self.min_tone_power
                || (t.offset_hz / f).abs() > c.max_block_freq_offset
                || t.imbalance > c.max_fill_imbalance
            {
                return None;
            }
        }
        let twist_db = 10.0 * (lo.power / hi.power).log10();
        if twist_db > c.max_normal_twist_db || -twist_db > c.max_reverse_twist_db {
            return None;
        }
        if (lo.power + hi.power) < c.min_energy_ratio * energy {
            return None;
        }
        let fl = f64::from(ALL_FREQS[row] + lo.offset_hz);
        let fh = f64::from(ALL_FREQS[4 + col] + hi.offset_hz);
        if self.harmonic_ratio(fl, fh) > c.max_harmonic_ratio {
            return None;
        }
        Some(Hit {
            digit: Digit::from_row_col(row, col)?,
            level: lo.power.min(hi.power),
            low: lo.offset_hz / ALL_FREQS[row],
            high: hi.offset_hz / ALL_FREQS[4 + col],
        })
    }

    /// Largest ratio of second-harmonic power to fundamental power of the two tones, from a
    /// least-squares fit of `fl`, `fh`, `2 fl`, `2 fh` (at the measured frequencies) over the
    /// block. DTMF generators are clean; voices and instruments carry harmonics.
    #[allow(clippy::needless_range_loop)] // matrix code reads best with indices
    fn harmonic_ratio(&self, fl: f64, fh: f64) -> f32 {
        let freqs = [fl, fh, 2.0 * fl, 2.0 * fh];
        let mut gram = [[0f64; 8]; 8];
        let mut rhs = [0f64; 8];
        let mut basis = [0f64; 8];
        // Rotators instead of trigonometry per sample: (cos, sin) of w n, stepped by w.
        let step: [(f64, f64); 4] = freqs.map(|f| {
            let w = 2.0 * std::f64::consts::PI * f / f64::from(SAMPLE_RATE);
            (w.cos(), w.sin())
        });
        let mut rot = [(1f64, 0f64); 4];
        for &x in self.block.iter() {
            for i in 0..4 {
                let (c, s) = rot[i];
                basis[2 * i] = c;
                basis[2 * i + 1] = s;
                rot[i] = (c * step[i].0 - s * step[i].1, s * step[i].0 + c * step[i].1);
            }
            for i in 0..8 {
                rhs[i] += f64::from(x) * basis[i];
                for j in i..8 {
                    gram[i][j] += basis[i] * basis[j];
                }
            }
        }
        for i in 0..8 {
            for j in 0..i {
                gram[i][j] = gram[j][i];
            }
        }
        let inv = invert(gram);
        let sol: [f64; 8] = std::array::from_fn(|i| (0..8).map(|j| inv[i][j] * rhs[j]).sum());
        let power = |i: usize| sol[2 * i] * sol[2 * i] + sol[2 * i + 1] * sol[2 * i + 1];
        let ratio = (power(2) / power(0).max(1e-9)).max(power(3) / power(1).max(1e-9));
        ratio as f32
    }

    /// `(sum x cos, sum x sin)` at frequency `k` over each sub-block.
    fn correlate(&self, k: usize) -> [(f32, f32); SUBS] {
        let (c, s, x) = (&self.cos[k], &self.sin[k], &self.block);
        let part = |r: std::ops::Range<usize>| {
            let (mut a, mut b) = (0f32, 0f32);
            for n in r {
                a += x[n] * c[n];
                b += x[n] * s[n];
            }
            (a, b)
        };
        std::array::from_fn(|i| part(i * SUB..(i + 1) * SUB))
    }

    /// Least-squares fit of both tones on each sub-block (cancels the leakage of each tone into
    /// the other's bin and of the negative-frequency images), then the per-tone measures.
    fn fit(&self, row: usize, col: usize, corr: &[[(f32, f32); SUBS]; 8]) -> (Tone, Tone) {
        let mut amp = [[(0f32, 0f32); SUBS]; 2]; // [tone][sub-block] = (p, q)
        for h in 0..SUBS {
            let rhs = [
                corr[row][h].0,
                corr[row][h].1,
                corr[4 + col][h].0,
                corr[4 + col][h].1,
            ];
            let g = &self.gram_inv[row * 4 + col][h];
            let sol: [f32; 4] = std::array::from_fn(|i| (0..4).map(|j| g[i][j] * rhs[j]).sum());
            amp[0][h] = (sol[0], sol[1]);
            amp[1][h] = (sol[2], sol[3]);
        }
        let tone = |t: usize| {
            // x = A cos(w n + phi) = p cos(w n) + q sin(w n), as the complex z = p - j q.
            let z = amp[t];
            let a: [f32; SUBS] = std::array::from_fn(|i| z[i].0 * z[i].0 + z[i].1 * z[i].1);
            // Phase advance per sub-block: arg(sum z[i+1] conj(z[i])).
            let (mut re, mut im) = (0f32, 0f32);
            for i in 1..SUBS {
                let ((p1, q1), (p2, q2)) = (z[i - 1], z[i]);
                let (r1, i1, r2, i2) = (p1, -q1, p2, -q2);
                re += r2 * r1 + i2 * i1;
                im += i2 * r1 - r2 * i1;
            }
            // Coarse (unambiguous to +/-117 Hz) from consecutive sub-blocks, then refined with
            // the first-to-last phase advance (twice the baseline, half the noise).
            let coarse = im.atan2(re) * (SUBS - 1) as f32;
            let ((p1, q1), (p3, q3)) = (z[0], z[SUBS - 1]);
            let fine = (-q3 * p1 + p3 * q1).atan2(p3 * p1 + q3 * q1);
            let fine = fine + 2.0 * PI * ((coarse - fine) / (2.0 * PI)).round();
            let offset_hz = fine * SAMPLE_RATE / (2.0 * PI * ((SUBS - 1) * SUB) as f32);
            let x = PI * offset_hz * SUB as f32 / SAMPLE_RATE;
            let gain = if x.abs() < 1e-3 {
                1.0
            } else {
                (x.sin() / x).abs().max(0.2)
            };
            let power = a.iter().sum::<f32>() / (2.0 * SUBS as f32) / (gain * gain);
            let max = a.iter().fold(0f32, |m, &v| m.max(v));
            // Fill: a tone that starts or stops inside the block leaves its first or last
            // sub-block short, never the middle one; so the edges are compared with the middle.
            // (max/min over all three also failed on full tones whose middle sub-block speech
            // had pushed up: 10 dB SNR speech made ~9 % of keys miss, issue 18.)
            let imbalance = a[1] / a[0].min(a[SUBS - 1]).max(1e-6);
            Tone {
                power,
                offset_hz,
                imbalance,
                peak_third: max / 2.0 / (gain * gain),
            }
        };
        (tone(0), tone(1))
    }
}

/// A block that carries a key, with the relative frequency offsets measured.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Hit {
    digit: Digit,
    /// Power of the weaker tone.
    level: f32,
    low: f32,
    high: f32,
}

/// Per-tone measures over one block.
#[derive(Debug, Clone, Copy)]
struct Tone {
    /// Mean-square power of the tone (A^2/2), corrected for the measured offset.
    power: f32,
    offset_hz: f32,
    /// Power of the middle sub-block over the weaker edge one (1 = the tone fills the block).
    imbalance: f32,
    /// Power in the strongest sub-block.
    peak_third: f32,
}

fn strongest(powers: &[f32]) -> usize {
    let mut best = 0;
    for (i, &p) in powers.iter().enumerate() {
        if p > powers[best] {
            best = i;
        }
    }
    best
}

type Gram = [[[f32; 4]; 4]; SUBS];

/// Inverse Gram matrices of the basis `[cos wl n, sin wl n, cos wh n, sin wh n]` on each
/// sub-block, for the 16 (row, col) pairs.
#[allow(clippy::needless_range_loop)] // matrix code reads best with indices
fn gram_inverses() -> Vec<Gram> {
    let mut out = Vec::with_capacity(16);
    for row in 0..4 {
        for col in 0..4 {
            let (wl, wh) = (
                2.0 * std::f64::consts::PI * f64::from(ALL_FREQS[row]) / 8000.0,
                2.0 * std::f64::consts::PI * f64::from(ALL_FREQS[4 + col]) / 8000.0,
            );
            let mut g: Gram = [[[0.0; 4]; 4]; SUBS];
            for h in 0..SUBS {
                let mut m = [[0f64; 4]; 4];
                for n in h * SUB..(h + 1) * SUB {
                    let n = n as f64;
                    let b = [
                        (wl * n).cos(),
                        (wl * n).sin(),
                        (wh * n).cos(),
                        (wh * n).sin(),
                    ];
                    for i in 0..4 {
                        for j in 0..4 {
                            m[i][j] += b[i] * b[j];
                        }
                    }
                }
                let inv = invert(m);
                for i in 0..4 {
                    for j in 0..4 {
                        g[h][i][j] = inv[i][j] as f32;
                    }
                }
            }
            out.push(g);
        }
    }
    out
}

/// Gauss-Jordan inverse (with partial pivoting) of a small symmetric positive-definite matrix.
#[allow(clippy::needless_range_loop)]
fn invert<const N: usize>(m: [[f64; N]; N]) -> [[f64; N]; N] {
    let mut a = m;
    let mut inv = [[0f64; N]; N];
    for (i, r) in inv.iter_mut().enumerate() {
        r[i] = 1.0;
    }
    for col in 0..N {
        let pivot = (col..N).fold(col, |b, r| {
            if a[r][col].abs() > a[b][col].abs() {
                r
            } else {
                b
            }
        });
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let d = a[col][col];
        if d.abs() < 1e-12 {
            continue;
        }
        for j in 0..N {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for r in 0..N {
            if r != col {
                let f = a[r][col];
                for j in 0..N {
                    a[r][j] -= f * a[col][j];
                    inv[r][j] -= f * inv[col][j];
                }
            }
        }
    }
    inv
}

/// Runs a fresh strict detector over a whole buffer and returns every digit.
pub fn detect_all(pcm: &[i16]) -> Vec<DetectedDigit> {
    let mut d = DtmfDetector::default();
    let mut out = Vec::new();
    d.process(pcm, &mut out);
    d.flush(&mut out);
    out
}
