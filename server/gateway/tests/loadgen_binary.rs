//! `hushpay loadgen` against a served gateway, as `bench/sfu.sh` runs it: both engines of bots
//! (str0m, the default, and the old webrtc-rs ones) connect every pair, their audio goes both
//! ways through the masker, and the result lines say so: no failed pair, packets received,
//! latency matched by RTP timestamp (patient → agent includes the masker's 20 ms hold), the
//! patient's in-band digits masked.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::process::Command;

mod common;

use common::binary::Binary;

/// Runs `hushpay loadgen` in `gw`'s data directory with `args`; its stdout.
fn loadgen(dir: &std::path::Path, gw: &Binary, args: &[&str]) -> String {
    let addr = gw.url.trim_start_matches("http://");
    let pid = gw.pid().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_hushpay"))
        .args(["loadgen", "--gateway", addr, "--gateway-pid", &pid])
        .args(args)
        .current_dir(dir)
        .env("HUSHPAY_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "loadgen failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `result key=value ...` line.
fn result(stdout: &str) -> HashMap<String, String> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("result "))
        .unwrap_or_else(|| panic!("no result line: {stdout}"));
    line.split_whitespace()
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn num(r: &HashMap<String, String>, k: &str) -> f64 {
    r.get(k)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{k} in {r:?}"))
}

/// The `gateway packets in A, forwarded B, masked C, digits captured D` line's numbers.
fn gateway_packets(stdout: &str) -> Vec<f64> {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("gateway packets in "))
        .unwrap_or_else(|| panic!("no packets line: {stdout}"));
    line.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn str0m_bots_load_a_served_gateway_and_report_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Binary::start(dir.path(), 0, &[("HUSHPAY__RTC__UDP_PORT", "0")]);
    let out = loadgen(
        dir.path(),
        &gw,
        &[
            "--pairs",
            "2",
            "--seconds",
            "3",
            "--warmup",
            "1",
            "--dtmf-every",
            "1",
            "--ramp-ms",
            "0",
            "--max-load",
            "1000",
        ],
    );
    assert!(
        out.starts_with("pairs 2 (0 failed), 3 s of audio each, wall "),
        "{out}"
    );
    assert!(out.contains("\naudio packets sent "), "{out}");
    assert!(
        out.contains("\nlatency patient->agent (masked) p50 "),
        "{out}"
    );
    assert!(out.contains("µs per forwarded packet"), "{out}");
    let r = result(&out);
    assert_eq!(r["engine"], "str0m");
    assert_eq!(num(&r, "failed"), 0.0, "{out}");
    let (sent, received) = (num(&r, "sent"), num(&r, "received"));
    // 4 bots, 50 packets a second, 3 s
    assert!(sent >= 500.0, "{out}");
    assert!(received > 0.0 && received >= sent * 0.95, "{out}");
    // the masker holds the patient's audio 20 ms; the agent's goes straight on
    assert!(num(&r, "p2a_p50_ms") >= 19.0, "{out}");
    assert!(num(&r, "a2p_p50_ms") < num(&r, "p2a_p50_ms"), "{out}");
    assert!(num(&r, "cpu_pct") > 0.0, "{out}");
    assert!(num(&r, "us_per_pkt") > 0.0, "{out}");
    assert!(num(&r, "setup_s") > 0.0, "{out}");
    assert!(num(&r, "rss_mb") > 0.0, "{out}");
    // in, forwarded, masked: the patient's digits (one a second) were masked
    let packets = gateway_packets(&out);
    assert!(packets[0] > 0.0 && packets[1] > 0.0, "{out}");
    assert!(packets[2] > 0.0, "no packet masked: {out}");
}

#[test]
fn the_webrtc_bots_still_work() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Binary::start(dir.path(), 0, &[("HUSHPAY__RTC__UDP_PORT", "0")]);
    let out = loadgen(
        dir.path(),
        &gw,
        &[
            "--engine",
            "webrtc",
            "--pairs",
            "1",
            "--seconds",
            "2",
            "--max-load",
            "1000",
        ],
    );
    assert!(
        out.starts_with("pairs 1 (0 failed), 2 s of audio each, wall "),
        "{out}"
    );
    let r = result(&out);
    assert_eq!(r["engine"], "webrtc");
    assert!(num(&r, "received") > 0.0, "{out}");
    assert!(num(&r, "p2a_p50_ms") >= 19.0, "{out}");
}

#[test]
fn a_busy_machine_is_refused_with_strict() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Binary::start(dir.path(), 0, &[("HUSHPAY__RTC__UDP_PORT", "0")]);
    let addr = gw.url.trim_start_matches("http://").to_owned();
    // a negative limit: any load average is above it
    let out = Command::new(env!("CARGO_BIN_EXE_hushpay"))
        .args([
            "loadgen",
            "--gateway",
            &addr,
            "--pairs",
            "1",
            "--max-load=-1",
            "--strict",
        ])
        .current_dir(dir.path())
        .env("HUSHPAY_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refusing to run"), "{err}");
    assert!(out.stdout.is_empty());
}
