//! Replays every committed fuzz input (`fuzz/seeds/<target>/`, the corpus the fuzzer grew,
//! `fuzz/corpus/<target>/`, and the crashes it found, fixed, `fuzz/regressions/<target>/`)
//! through the same body the fuzz target runs, with plain `cargo test`:
//! a crash once found and fixed stays fixed, without a nightly build or sanitizers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use hushpay_fuzzing::{TARGETS, Target};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn target(name: &str) -> Target {
    *TARGETS
        .iter()
        .find(|t| t.name == name)
        .expect("a known target")
}

/// Runs every committed input of `name`; fails naming the inputs that crash.
fn replay(name: &str) {
    let t = target(name);
    let seeds = files(&fuzz_dir().join("seeds").join(name));
    assert!(!seeds.is_empty(), "target {name} has no committed seeds");
    let corpus = files(&fuzz_dir().join("corpus").join(name));
    let regressions = files(&fuzz_dir().join("regressions").join(name));
    let mut crashed = Vec::new();
    for path in seeds.iter().chain(&corpus).chain(&regressions) {
        let data = std::fs::read(path).unwrap();
        if catch_unwind(AssertUnwindSafe(|| (t.run)(&data))).is_err() {
            crashed.push(path.display().to_string());
        }
    }
    assert!(
        crashed.is_empty(),
        "{name}: inputs that crash: {crashed:#?}"
    );
}

#[test]
fn every_target_has_a_fuzz_target_file_and_a_test_here() {
    let listed = [
        "rtp",
        "masker",
        "signal",
        "chat_scan",
        "sealed_card",
        "recording",
        "jwt",
        "webhook_url",
        "rtc_endpoint",
        "sip",
        "sdp",
        "masker_g711",
    ];
    let names: Vec<&str> = TARGETS.iter().map(|t| t.name).collect();
    assert_eq!(names, listed);
    for name in names {
        let file = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains(&format!("hushpay_fuzzing::{name}::run(data)")),
            "{} must call the shared body",
            file.display()
        );
    }
}

/// The committed seeds are exactly what `seeds::all()` makes (real packets, envelopes, track
/// files from the crates' own code); `cargo run -p hushpay-fuzzing --example write_seeds`
/// rewrites them.
#[test]
fn committed_seeds_are_the_generated_ones() {
    for s in hushpay_fuzzing::seeds::all() {
        let path = fuzz_dir().join("seeds").join(s.target).join(&s.name);
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == s.bytes,
            "{} differs from seeds::all(): run the write_seeds example",
            path.display()
        );
    }
}

#[test]
fn rtp_inputs_replay() {
    replay("rtp");
}

#[test]
fn masker_inputs_replay() {
    replay("masker");
}

#[test]
fn signal_inputs_replay() {
    replay("signal");
}

#[test]
fn chat_scan_inputs_replay() {
    replay("chat_scan");
}

#[test]
fn sealed_card_inputs_replay() {
    replay("sealed_card");
}

#[test]
fn recording_inputs_replay() {
    replay("recording");
}

#[test]
fn jwt_inputs_replay() {
    replay("jwt");
}

#[test]
fn webhook_url_inputs_replay() {
    replay("webhook_url");
}

#[test]
fn rtc_endpoint_inputs_replay() {
    replay("rtc_endpoint");
}

/// The masker target's invariants are not vacuous: in the seed that keys a card number in-band,
/// the strict detector finds every key in the audio as sent (positive control), packets are
/// masked, and the agent's copy (checked inside `run`) holds none; RFC 4733 presses come out as
/// digits.
#[test]
fn masker_seeds_key_digits_the_detector_finds_and_the_masker_hides() {
    let seed = |name: &str| std::fs::read(fuzz_dir().join("seeds/masker").join(name)).unwrap();
    let r = hushpay_fuzzing::masker::run_and_report(&seed("inband-card-20ms"));
    assert_eq!(r.sent_digits, "4111111111111111#");
    assert!(r.masked >= 2 * 17 && r.masked < r.forwarded, "{r:?}");
    assert_eq!(r.digits_out, 17);
    let r = hushpay_fuzzing::masker::run_and_report(&seed("rfc4733-presses"));
    assert_eq!((r.sent_digits.as_str(), r.digits_out), ("", 2), "{r:?}");
    let r = hushpay_fuzzing::masker::run_and_report(&seed("secure-mode-noisy-keys"));
    assert_eq!(r.sent_digits, "42");
    assert_eq!(
        r.digits_out, 0,
        "secure mode: digits go to the collector only"
    );
}

#[test]
fn masker_g711_inputs_replay() {
    replay("masker_g711");
}

/// The phone-leg masker target's invariants are not vacuous: the in-band card number is found
/// by the strict detector in what the caller sent and masked for the agent (checked inside
/// `run`), 8 kHz RFC 4733 presses and SIP INFO keys come out as digits, none in secure mode.
#[test]
fn masker_g711_seeds_key_digits_the_detector_finds_and_the_masker_hides() {
    let seed = |name: &str| std::fs::read(fuzz_dir().join("seeds/masker_g711").join(name)).unwrap();
    for name in ["pcmu-inband-card", "pcma-inband-card"] {
        let r = hushpay_fuzzing::masker_g711::run_and_report(&seed(name));
        assert_eq!(r.sent_digits, "4111111111111111#", "{name}");
        assert!(
            r.masked >= 2 * 17 && r.masked < r.forwarded,
            "{name}: {r:?}"
        );
        assert_eq!(r.digits_out, 17, "{name}");
    }
    let r = hushpay_fuzzing::masker_g711::run_and_report(&seed("rfc4733-8k-presses"));
    assert_eq!((r.sent_digits.as_str(), r.digits_out), ("", 2), "{r:?}");
    let r = hushpay_fuzzing::masker_g711::run_and_report(&seed("sip-info-keys"));
    assert_eq!((r.sent_digits.as_str(), r.digits_out), ("", 3), "{r:?}");
    let r = hushpay_fuzzing::masker_g711::run_and_report(&seed("secure-mode-info-and-inband"));
    assert_eq!(r.sent_digits, "42");
    assert_eq!(
        r.digits_out, 0,
        "secure mode: digits go to the collector only"
    );
}

#[test]
fn sip_inputs_replay() {
    replay("sip");
}

#[test]
fn sdp_inputs_replay() {
    replay("sdp");
}
