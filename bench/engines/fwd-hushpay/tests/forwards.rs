//! End to end over loopback: the `fwd-hushpay` binary forwards two call pairs of loadgen bots both
//! ways with no loss, and the generator's report reads the forwarder's CPU and memory.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use loadgen::fleet::{self, Config};

#[test]
fn forwards_two_pairs_both_ways() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fwd-hushpay"))
        .args(["--http", "127.0.0.1:0"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    let http = ready
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http="))
        .expect("ready line names the signalling address")
        .parse()
        .unwrap();
    let report = fleet::run(&Config {
        engine: "hushpay".into(),
        signal: http,
        forwarder_pid: child.id(),
        pairs: 2,
        window: Duration::from_secs(2),
        warmup: Duration::from_millis(500),
        drain: Duration::from_millis(500),
        setup_timeout: Duration::from_secs(30),
        concurrency: 2,
        payload_len: 80,
        max_load: f64::INFINITY,
    });
    child.kill().unwrap();
    child.wait().unwrap();
    let report = report.unwrap();
    // 4 bots x 50 packets/s x 2 s, give or take the window's edges
    assert!(report.sent >= 380, "{report}");
    assert_eq!(report.lost(), 0, "{report}");
    assert!(report.forwarded >= 380, "{report}");
    assert!(report.p50_ms < 20.0, "{report}");
    assert!(report.rss_mb > 1.0, "{report}");
}
