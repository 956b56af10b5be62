//! ITU-T Q.24 (AT&T column) receiver conformance, modelled on the Mitel/Bellcore side-1 tests as
//! spandsp's `dtmf_rx_tests` runs them. Every signal is generated here (level reference in
//! `hushpay_media::level`). Accept classes must give 100 %, reject classes 0.

use hushpay_media::Digit;
use hushpay_media::goertzel::{HIGH_FREQS, LOW_FREQS};
use hushpay_media::signal::{Rng, TonePair, add_noise, append_silence, append_tone};

use crate::common::{detect, sequence};

const ALL: &str = "123A456B789C*0#D";

fn pairs(dbm0: f32, ms: f32) -> Vec<TonePair> {
    Digit::all().map(|d| TonePair::new(d, dbm0, ms)).collect()
}

fn expect_all(pcm: &[i16], expected: &str, what: &str) {
    let got = detect(pcm);
    assert_eq!(
        got, expected,
        "{what}: detected {got:?}, expected {expected:?}"
    );
}

#[test]
fn all_sixteen_digits_at_nominal_frequencies() {
    let ps = pairs(-10.0, 50.0);
    let expected: String = Digit::all().map(|d| d.as_char()).collect();
    expect_all(&sequence(&ps, 20.0, 50.0, 8000), &expected, "nominal");
    assert_eq!(expected.len(), ALL.len());
}

#[test]
fn frequency_offsets_of_1_5_percent_are_accepted() {
    for lo in [-0.015f32, 0.015] {
        for hi in [-0.015f32, 0.015] {
            let ps: Vec<_> = pairs(-10.0, 50.0)
                .into_iter()
                .map(|p| TonePair {
                    low_offset: lo,
                    high_offset: hi,
                    ..p
                })
                .collect();
            let expected: String = Digit::all().map(|d| d.as_char()).collect();
            expect_all(
                &sequence(&ps, 7.0, 50.0, 8000),
                &expected,
                &format!("offsets {lo} {hi}"),
            );
        }
    }
}

#[test]
fn frequency_offsets_of_3_5_percent_are_rejected() {
    for (lo, hi) in [
        (-0.035f32, 0.0f32),
        (0.035, 0.0),
        (0.0, -0.035),
        (0.0, 0.035),
        (0.035, 0.035),
        (-0.035, -0.035),
    ] {
        let ps: Vec<_> = pairs(-10.0, 50.0)
            .into_iter()
            .map(|p| TonePair {
                low_offset: lo,
                high_offset: hi,
                ..p
            })
            .collect();
        expect_all(
            &sequence(&ps, 7.0, 50.0, 8000),
            "",
            &format!("offsets {lo} {hi}"),
        );
    }
}

#[test]
fn twist_of_8_db_low_louder_and_4_db_high_louder_is_accepted() {
    let expected: String = Digit::all().map(|d| d.as_char()).collect();
    for (low, high) in [
        (-10.0f32, -18.0f32),
        (-14.0, -10.0),
        (-17.0, -25.0),
        (-25.0, -21.0),
    ] {
        let ps: Vec<_> = pairs(0.0, 50.0)
            .into_iter()
            .map(|p| TonePair {
                low_dbm0: low,
                high_dbm0: high,
                ..p
            })
            .collect();
        expect_all(
            &sequence(&ps, 3.0, 50.0, 8000),
            &expected,
            &format!("twist {low}/{high}"),
        );
    }
}

#[test]
fn dynamic_range_0_to_minus_25_dbm0_is_accepted() {
    let expected: String = Digit::all().map(|d| d.as_char()).collect();
    for level in 0..=25 {
        let ps = pairs(-(level as f32), 50.0);
        expect_all(
            &sequence(&ps, 11.0, 50.0, 8000),
            &expected,
            &format!("level -{level} dBm0"),
        );
    }
}

#[test]
fn levels_below_minus_55_dbm0_are_rejected() {
    for level in [55.0f32, 60.0, 70.0] {
        expect_all(
            &sequence(&pairs(-level, 50.0), 0.0, 50.0, 8000),
            "",
            &format!("level -{level}"),
        );
    }
}

#[test]
fn forty_ms_tones_with_forty_ms_pauses_are_accepted_at_every_alignment() {
    let expected: String = Digit::all().map(|d| d.as_char()).collect();
    // Every sample offset within the detector's 102-sample block.
    for offset in 0..102 {
        let ps = pairs(-10.0, 40.0);
        let pcm = sequence(&ps, offset as f32 / 8.0, 40.0, 8000);
        expect_all(&pcm, &expected, &format!("40/40 at offset {offset}"));
    }
}

#[test]
fn tones_of_23_ms_or_less_are_rejected_at_every_alignment() {
    for ms in [23.0f32, 20.0, 15.0, 10.0] {
        for offset in 0..102 {
            let ps = pairs(-10.0, ms);
            let pcm = sequence(&ps, offset as f32 / 8.0, 60.0, 8000);
            expect_all(&pcm, "", &format!("{ms} ms at offset {offset}"));
        }
    }
}

#[test]
fn single_tones_are_rejected() {
    for f in LOW_FREQS.iter().chain(HIGH_FREQS.iter()) {
        let mut pcm = Vec::new();
        for level in 0..=25 {
            append_tone(*f, -(level as f32), 100.0, 8000, &mut pcm);
            append_silence(50.0, 8000, &mut pcm);
        }
        expect_all(&pcm, "", &format!("single tone {f} Hz"));
    }
}

#[test]
fn noise_at_15_db_snr_is_accepted() {
    let expected: String = Digit::all()
        .map(|d| d.as_char())
        .collect::<String>()
        .repeat(4);
    let mut rng = Rng::new(24);
    for tone_dbm0 in [-6.0f32, -13.0, -20.0] {
        // Two tones at `tone_dbm0` each: signal power tone_dbm0 + 3 dB; noise 15 dB below it.
        let noise_dbm0 = tone_dbm0 + 3.01 - 15.0;
        let ps: Vec<_> = (0..4).flat_map(|_| pairs(tone_dbm0, 50.0)).collect();
        let mut pcm = sequence(&ps, 5.0, 50.0, 8000);
        add_noise(&mut pcm, noise_dbm0, &mut rng);
        expect_all(
            &pcm,
            &expected,
            &format!("SNR 15 dB at {tone_dbm0} dBm0 per tone"),
        );
    }
}

#[test]
fn reports_start_and_end() {
    let pcm = sequence(
        &[TonePair::new(
            Digit::from_char('5').unwrap_or_else(|| unreachable!()),
            -10.0,
            100.0,
        )],
        120.0,
        100.0,
        8000,
    );
    let d = hushpay_media::detector::detect_all(&pcm);
    assert_eq!(d.len(), 1);
    assert!(
        (d[0].start_ms() as i64 - 120).abs() <= 15,
        "start {}",
        d[0].start_ms()
    );
    assert!(
        (d[0].end_ms() as i64 - 220).abs() <= 15,
        "end {}",
        d[0].end_ms()
    );
}

#[test]
fn offsets_of_1_5_percent_with_noise_at_15_db_snr_are_accepted() {
    // Not a Q.24 test case on its own (it combines two), kept to show the margin of the
    // frequency measurement.
    let expected: String = Digit::all()
        .map(|d| d.as_char())
        .collect::<String>()
        .repeat(2);
    let mut rng = Rng::new(5);
    for (lo, hi) in [
        (-0.015f32, -0.015f32),
        (0.015, 0.015),
        (-0.015, 0.015),
        (0.015, -0.015),
    ] {
        let ps: Vec<_> = (0..2)
            .flat_map(|_| pairs(-20.0, 50.0))
            .map(|p| TonePair {
                low_offset: lo,
                high_offset: hi,
                ..p
            })
            .collect();
        let mut pcm = sequence(&ps, 5.0, 50.0, 8000);
        add_noise(&mut pcm, -20.0 + 3.01 - 15.0, &mut rng);
        expect_all(&pcm, &expected, &format!("offsets {lo} {hi} with noise"));
    }
}

#[test]
fn tones_of_23_ms_in_noise_are_rejected_at_every_alignment() {
    // Margin check: 15 dB SNR noise must not push a 23 ms tone over the duration tests.
    let mut rng = Rng::new(23);
    for offset in (0..102).step_by(3) {
        let mut pcm = sequence(&pairs(-10.0, 23.0), offset as f32 / 8.0, 60.0, 8000);
        add_noise(&mut pcm, -10.0 + 3.01 - 15.0, &mut rng);
        expect_all(&pcm, "", &format!("23 ms in noise at offset {offset}"));
    }
}
