//! The real `hushpay serve` binary in a data directory of its own: started on `127.0.0.1:0`,
//! its URL and (on the first start) the demo tenant's API key read from its stdout, killed
//! and reaped when dropped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running gateway process.
pub struct Binary {
    pub child: Child,
    pub url: String,
    /// The demo tenant's API key, printed on the first start only.
    pub api_key: Option<String>,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Binary {
    /// Starts `hushpay serve` in `dir` with `env` (`HUSHPAY__SECTION__KEY` overrides); its
    /// stdout goes to `dir/stdout-{run}.log`, stderr to `dir/stderr-{run}.log`.
    pub fn start(dir: &Path, run: usize, env: &[(&str, &str)]) -> Self {
        let out = dir.join(format!("stdout-{run}.log"));
        let err = dir.join(format!("stderr-{run}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_hushpay"))
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env("HUSHPAY_LOG", "warn")
            .envs(env.iter().copied())
            .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
            .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
            .spawn()
            .unwrap();
        // Owned by `Binary` at once, so a failed start is still killed and reaped.
        let mut gw = Binary {
            child,
            url: String::new(),
            api_key: None,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let text = std::fs::read_to_string(&out).unwrap_or_default();
            let url = text
                .lines()
                .find_map(|l| l.strip_prefix("Hushpay listening on "));
            if let Some(url) = url {
                gw.url = url.trim().to_owned();
                gw.api_key = text
                    .lines()
                    .find_map(|l| {
                        l.strip_prefix("Demo tenant API key (shown once, store it now): ")
                    })
                    .map(|k| k.trim().to_owned());
                return gw;
            }
            assert!(Instant::now() < deadline, "gateway did not start: {text}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The WebSocket signalling URL.
    pub fn rtc_url(&self) -> String {
        format!("{}/v1/rtc", self.url.replace("http://", "ws://"))
    }
}

/// The writable memory of process `pid` (its heap, anonymous mappings and stacks), read from
/// `/proc/PID/mem`: what a core dump or an attacker with the process's memory would see.
/// Regions that cannot be read (guard pages) are skipped.
pub fn writable_memory(pid: u32) -> Vec<u8> {
    use std::io::{Read, Seek, SeekFrom};
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    let mut mem = std::fs::File::open(format!("/proc/{pid}/mem")).unwrap();
    let mut image = Vec::new();
    for line in maps.lines() {
        let mut cols = line.split_whitespace();
        let (Some(range), Some(perms)) = (cols.next(), cols.next()) else {
            continue;
        };
        if !perms.starts_with("rw") {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else {
            continue;
        };
        let (a, b) = (
            u64::from_str_radix(a, 16).unwrap(),
            u64::from_str_radix(b, 16).unwrap(),
        );
        if b - a > 1 << 30 || mem.seek(SeekFrom::Start(a)).is_err() {
            continue;
        }
        let mut region = vec![0u8; (b - a) as usize];
        if mem.read_exact(&mut region).is_ok() {
            image.extend_from_slice(&region);
        }
    }
    image
}
