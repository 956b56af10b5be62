//! SIPp (Debian `sip-tester`, installed by scripts/setup.sh) as a test's SIP peer: one call of
//! a scenario against a target, with its exit status and everything it printed (and its
//! `*_errors.log`, where `-trace_err` puts the messages that failed it).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A UDP port free on 127.0.0.1 when asked.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scenario of `server/gateway/tests/sipp/`.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/sipp")
        .join(name)
}

/// One SIPp call: `sipp -sf SCENARIO -m 1 -i 127.0.0.1 -s SERVICE -t TRANSPORT -p PORT -mp PORT
/// -timeout T -timeout_error -nostdin -trace_err [EXTRA...] TARGET`, run in `dir`.
#[derive(Debug, Clone)]
pub struct Sipp {
    scenario: PathBuf,
    service: String,
    transport: &'static str,
    port: Option<u16>,
    timeout: Duration,
    dir: PathBuf,
    extra: Vec<String>,
}

impl Sipp {
    /// `scenario` calling `service` over UDP (`u1`), from free ports, within 10 s, in the
    /// system's temporary directory.
    pub fn new(scenario: impl Into<PathBuf>, service: &str) -> Self {
        Self {
            scenario: scenario.into(),
            service: service.to_owned(),
            transport: "u1",
            port: None,
            timeout: Duration::from_secs(10),
            dir: std::env::temp_dir(),
            extra: Vec::new(),
        }
    }

    /// SIPp's transport flag (`u1`, `t1`).
    pub fn transport(mut self, transport: &'static str) -> Self {
        self.transport = transport;
        self
    }

    /// The SIP port SIPp listens on (a free one otherwise).
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// SIPp's own `-timeout`; the test waits 10 s longer for it to exit.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The working directory (where `play_pcap_audio` files and SIPp's logs are).
    pub fn dir(mut self, dir: &Path) -> Self {
        self.dir = dir.to_owned();
        self
    }

    /// More arguments, before the target.
    pub fn args(mut self, extra: &[&str]) -> Self {
        self.extra.extend(extra.iter().map(|a| (*a).to_owned()));
        self
    }

    /// Runs the call against `target`: (SIPp passed, its output and error log).
    pub async fn call(&self, target: SocketAddr) -> (bool, String) {
        let port = self.port.unwrap_or_else(free_udp_port);
        let mut cmd = tokio::process::Command::new("sipp");
        cmd.arg("-sf")
            .arg(&self.scenario)
            .args(["-m", "1", "-i", "127.0.0.1", "-s", &self.service])
            .args(["-t", self.transport])
            .args(["-p", &port.to_string()])
            .args(["-mp", &free_udp_port().to_string()])
            .args(["-timeout", &format!("{}s", self.timeout.as_secs())])
            .args(["-timeout_error", "-nostdin", "-trace_err"])
            .args(&self.extra)
            .arg(target.to_string())
            .current_dir(&self.dir)
            .kill_on_drop(true);
        let out = tokio::time::timeout(self.timeout + Duration::from_secs(10), cmd.output())
            .await
            .expect("SIPp finished within its timeout")
            .expect("sipp runs (apt-get install sip-tester; scripts/setup.sh does)");
        let mut text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let name = self
            .scenario
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy();
        for entry in std::fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(name.as_ref()) && file.ends_with("_errors.log") {
                text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
            }
        }
        (out.status.success(), text)
    }
}
