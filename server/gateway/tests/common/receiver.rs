//! The example webhook receiver (`examples/webhook-receiver`, Node) as a test receiver: it
//! verifies every signature and appends each event to a JSON-lines file.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// The example's directory.
pub fn receiver_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/webhook-receiver")
}

/// A running receiver; killed on drop.
pub struct Receiver {
    child: Child,
    pub port: u16,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Receiver {
    /// Starts the receiver on a free port: events go to `out`, the secret is read from
    /// `secret_file` at each request, the first `fail_first` valid deliveries get a 503.
    pub fn start(out: &Path, secret_file: &Path, fail_first: u32) -> Receiver {
        let mut child = Command::new("node")
            .arg(receiver_dir().join("receiver.mjs"))
            .env("PORT", "0")
            .env("OUT", out)
            .env("SECRET_FILE", secret_file)
            .env("FAIL_FIRST", fail_first.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node (Node 20) is needed for the webhook receiver example");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line
            .trim()
            .strip_prefix("listening ")
            .unwrap()
            .parse()
            .unwrap();
        Receiver { child, port }
    }

    /// The URL to register.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }
}
