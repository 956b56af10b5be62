//! Keys under speech (issue 18), a small replay of `benches/speech_corpus.rs` built from the
//! committed talk-off speech (`tests/data/speech`, voices the bench corpus does not use): keys at
//! 10 dB SNR must be found, the masker must mute little speech outside the keys, and nothing of
//! the keys may reach the agent. The thresholds sit between the figures before issue 18 and after
//! (printed with `--nocapture`), so losing the gains fails here.

use std::time::Instant;

use hushpay_media::detector::detect_all;
use hushpay_media::offline::mask_pcm;
use hushpay_media::resample::resample;

use crate::common::multimon;
use crate::keyed_speech::{Keying, keyed_over, muted_frames};
use crate::talk_off::speech_corpus;

/// Length of the longest common subsequence: keys found in order.
fn matched(expected: &str, got: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (expected.chars().collect(), got.chars().collect());
    let mut row = vec![0usize; b.len() + 1];
    for &x in &a {
        let mut diag = 0;
        for (j, &y) in b.iter().enumerate() {
            let up = row[j + 1];
            row[j + 1] = if x == y { diag + 1 } else { up.max(row[j]) };
            diag = up;
        }
    }
    row[b.len()]
}

/// (found, keyed, extra) over the committed voices, 2 variants each, at 10 dB SNR.
fn keys_at_10_db(keying: Keying) -> (usize, usize, usize) {
    let (mut hit, mut expected, mut extra) = (0, 0, 0);
    for (name, pcm) in speech_corpus() {
        for variant in 0..2 {
            let case = keyed_over(&name, &pcm, 10.0, variant, keying);
            let got: String = detect_all(&case.pcm)
                .iter()
                .map(|d| d.digit.as_char())
                .collect();
            let m = matched(&case.expected, &got);
            hit += m;
            expected += case.expected.len();
            extra += got.len() - m;
        }
    }
    (hit, expected, extra)
}

#[test]
fn keys_over_speech_at_10_db_snr_are_detected() {
    let (hit, expected, extra) = keys_at_10_db(Keying::NARROW);
    eprintln!("keys over speech at 10 dB SNR: {hit}/{expected} found, {extra} extra");
    // Before issue 18: 301/336 (89.6 %), 5 extra. After: 319/336 (94.9 %), 1 extra; with the
    // Q.24 changes (one-block bridge, wider dominance and twist): 325/336 (96.7 %), 2 extra.
    assert!(hit * 1000 >= expected * 930, "{hit}/{expected} keys found");
    assert!(extra <= 3, "{extra} extra digits");
}

#[test]
fn q24_keys_over_speech_at_10_db_snr_are_detected() {
    // Keys to the Q.24 accept limits (40 ms, +/-1.5 %, twist +4/-8 dB, half the draws at a
    // limit), no background babble.
    let (hit, expected, extra) = keys_at_10_db(Keying::Q24);
    eprintln!("Q.24 keys over speech at 10 dB SNR: {hit}/{expected} found, {extra} extra");
    // Before issue 18 (a923217): 294/336 (87.5 %), 6 extra. Now: 320/336 (95.2 %), 3 extra.
    assert!(hit * 1000 >= expected * 920, "{hit}/{expected} keys found");
    assert!(extra <= 4, "{extra} extra digits");
}

#[test]
fn the_masker_mutes_little_speech_and_no_key_under_speech_reaches_the_agent() {
    // The browser path as `hushpay media mask` runs it (Opus 32 kbit/s wideband, 20 ms), fed at
    // 16 kHz rather than 48 kHz: the same wideband stream, 3 times less resampling in debug.
    let mask = |pcm8: &[i16]| {
        let pcm16 = resample(pcm8, 8000, 16_000);
        let r = mask_pcm(Instant::now(), &pcm16, 16_000, 20, 32_000, 16_000).unwrap();
        (pcm16, r)
    };
    let (mut active, mut muted) = ([0usize; 2], [0usize; 2]);
    let mut leaked = Vec::new();
    for (name, pcm) in speech_corpus().into_iter().step_by(2) {
        let (pcm16, r) = mask(&pcm);
        let (a, m) = muted_frames(&pcm16, &r.audio, 16_000, &[]);
        active[0] += a;
        muted[0] += m;
        let case = keyed_over(&name, &pcm, 10.0, 0, Keying::NARROW);
        let (pcm16, r) = mask(&case.pcm);
        let (a, m) = muted_frames(&pcm16, &r.audio, 16_000, &case.spans);
        active[1] += a;
        muted[1] += m;
        let agent = &r.audio;
        for (&(s, e), key) in case.spans.iter().zip(case.expected.chars()) {
            let around = &agent[(2 * s).saturating_sub(1600)..(2 * e + 1600).min(agent.len())];
            if multimon(around, 16_000).contains(key) {
                leaked.push(format!("{name}: {key} at {} ms", s / 8));
            }
        }
    }
    eprintln!(
        "speech muted: {}/{} frames of pure speech, {}/{} around keys; keys multimon-ng recovers \
         from the masked audio: {leaked:?}",
        muted[0], active[0], muted[1], active[1]
    );
    assert!(leaked.is_empty(), "keys reached the agent: {leaked:?}");
    // Before issue 18: 1.11 % and 1.86 %. Detector and flagger changes: 12/2614 (0.46 %) and
    // 18/1881 (0.96 %); with the masker also muting on the strict detector's first hit (so a
    // key it finds is masked from its first block): 21/2614 (0.80 %) and 23/1881 (1.22 %),
    // and without the packet after for a hit alone: 16/2614 (0.61 %) and 21/1881 (1.12 %).
    // The limits are the goals (< 1 % of pure speech) and the earlier 1.4 %.
    assert!(
        muted[0] * 1000 <= active[0] * 10,
        "pure speech muted: {muted:?} of {active:?}"
    );
    assert!(
        muted[1] * 1000 <= active[1] * 14,
        "speech around keys muted: {muted:?} of {active:?}"
    );
}
