//! The `hushpay` binary as a user runs it: first start on embedded defaults prints the address
//! and a demo API key; the key mints a token that verifies against the JWKS; SIGTERM stops it
//! cleanly; a restart keeps tenants and keys; the admin commands work beside it; production
//! mode refuses development shortcuts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

mod common;

const BIN: &str = env!("CARGO_BIN_EXE_hushpay");

struct Server {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// `hushpay serve --listen 127.0.0.1:0` in `dir` (so `./hushpay-data` lands there).
    fn start(dir: &Path) -> Self {
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env("HUSHPAY_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Self { child, lines }
    }

    /// Reads stdout until the listening line; returns (base url, all lines so far).
    fn wait_ready(&self) -> (String, Vec<String>) {
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(30))
                .expect("server output");
            if let Some(addr) = line.strip_prefix("Hushpay listening on ") {
                let url = addr.trim().to_owned();
                seen.push(line);
                return (url, seen);
            }
            seen.push(line);
        }
    }

    fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        assert!(
            Command::new("kill")
                .args(["-TERM", &pid])
                .status()
                .unwrap()
                .success()
        );
        for _ in 0..100 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        panic!("server did not stop within 5 s of SIGTERM");
    }
}

fn admin(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .env("HUSHPAY_LOG", "warn")
        .output()
        .unwrap()
}

fn stdout(o: &std::process::Output) -> String {
    assert!(
        o.status.success(),
        "command failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

async fn verify_with_jwks(client: &reqwest::Client, url: &str, token: &str) -> Value {
    let jwks: jsonwebtoken::jwk::JwkSet = client
        .get(format!("{url}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(&kid).unwrap()).unwrap();
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::EdDSA);
    v.set_audience(&["hushpay"]);
    v.set_issuer(&["hushpay"]);
    jsonwebtoken::decode::<Value>(token, &key, &v)
        .unwrap()
        .claims
}

#[tokio::test(flavor = "multi_thread")]
async fn first_start_restart_and_admin_commands() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();

    let server = Server::start(dir.path());
    let (url, lines) = server.wait_ready();
    let api_key = lines
        .iter()
        .find_map(|l| l.strip_prefix("Demo tenant API key (shown once, store it now): "))
        .expect("first start prints the demo API key")
        .to_owned();
    assert!(
        dir.path().join("hushpay-data/hushpay.db").exists(),
        "SQLite store in ./hushpay-data"
    );
    assert!(
        dir.path()
            .join("hushpay-data/keys/dev-signing-key.pem")
            .exists()
    );
    let health = client.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);

    let body = json!({"identity":"nurse-1","room":"intake","role":"agent"});
    let minted: Value = client
        .post(format!("{url}/v1/access-tokens"))
        .bearer_auth(&api_key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = minted["token"].as_str().unwrap().to_owned();
    let claims = verify_with_jwks(&client, &url, &token).await;
    assert_eq!(claims["sub"], "nurse-1");
    let kid_before = jsonwebtoken::decode_header(&token).unwrap().kid;

    // Admin commands beside the running server.
    let created = stdout(&admin(
        dir.path(),
        &[
            "tenant",
            "create",
            "clinic",
            "--allowed-origin",
            "https://portal.example",
        ],
    ));
    assert!(created.starts_with("ten_"), "{created}");
    let listing = stdout(&admin(dir.path(), &["tenant", "list"]));
    assert!(
        listing.contains("demo") && listing.contains("clinic\thttps://portal.example"),
        "{listing}"
    );
    let clinic_key = stdout(&admin(
        dir.path(),
        &["apikey", "create", "--tenant", "clinic"],
    ));
    assert!(clinic_key.starts_with("hpk_"));
    let cli_token = stdout(&admin(
        dir.path(),
        &[
            "token",
            "mint",
            "--tenant",
            "clinic",
            "--identity",
            "dr-who",
            "--room",
            "r1",
            "--role",
            "agent",
            "--ttl",
            "10m",
        ],
    ));
    let cli_claims = verify_with_jwks(&client, &url, &cli_token).await;
    assert_eq!(cli_claims["tenant"], created.as_str());
    assert_eq!(
        cli_claims["exp"].as_u64().unwrap() - cli_claims["iat"].as_u64().unwrap(),
        600
    );
    let clinic_ok = client
        .get(format!("{url}/v1/tenants/{created}"))
        .bearer_auth(&clinic_key);
    assert_eq!(clinic_ok.send().await.unwrap().status(), 200);
    let keys = stdout(&admin(
        dir.path(),
        &["apikey", "list", "--tenant", "clinic"],
    ));
    let key_id = keys.split('\t').next().unwrap().to_owned();
    stdout(&admin(
        dir.path(),
        &["apikey", "revoke", "--tenant", "clinic", &key_id],
    ));
    let revoked = client
        .get(format!("{url}/v1/tenants/{created}"))
        .bearer_auth(&clinic_key);
    assert_eq!(revoked.send().await.unwrap().status(), 401);
    let again = admin(
        dir.path(),
        &["apikey", "revoke", "--tenant", "clinic", &key_id],
    );
    assert!(!again.status.success(), "revoking twice is an error");
    // Every admin operation is in the hash-chained audit log (demo tenant and key at first
    // start, tenant create, key create, revoke, and the refused second revoke: ok + error).
    let verified = stdout(&admin(dir.path(), &["audit", "verify"]));
    assert!(
        verified.starts_with("audit log intact: 7 entries"),
        "{verified}"
    );
    let bad_role = admin(
        dir.path(),
        &[
            "token",
            "mint",
            "--tenant",
            "clinic",
            "--identity",
            "x",
            "--room",
            "r",
            "--role",
            "root",
        ],
    );
    assert!(!bad_role.status.success());

    let status = server.terminate();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");

    // Restart: tenants, keys and the signing key survive.
    let server = Server::start(dir.path());
    let (url, lines) = server.wait_ready();
    assert!(
        lines.iter().all(|l| !l.contains("hpk_")),
        "the key is shown once: {lines:?}"
    );
    let again: Value = client
        .post(format!("{url}/v1/access-tokens"))
        .bearer_auth(&api_key)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token2 = again["token"].as_str().unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(token2).unwrap().kid,
        kid_before,
        "same signing key"
    );
    verify_with_jwks(&client, &url, &token).await;
    let listing = stdout(&admin(dir.path(), &["tenant", "list"]));
    assert!(listing.contains("clinic"));
    assert!(server.terminate().success());
}

#[test]
fn production_mode_refuses_development_shortcuts() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("HUSHPAY__MODE", "production")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused in production mode"), "{err}");
    assert!(
        !dir.path().join("hushpay-data/keys").exists(),
        "no development key generated"
    );
}

#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.toml");
    std::fs::write(&path, "[server]\nlisten = 12\n").unwrap();
    let out = Command::new(BIN)
        .args(["--config", path.to_str().unwrap(), "serve"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid config"), "{err}");
}

/// Issue 12, finding 7: `[server] metrics_listen` serves `/metrics` on a listener of its own
/// (printed at start) and takes it off the public one.
#[tokio::test]
async fn metrics_listen_moves_the_counters_off_the_public_listener() {
    let dir = tempfile::tempdir().unwrap();
    let gw = common::binary::Binary::start(
        dir.path(),
        0,
        &[("HUSHPAY__SERVER__METRICS_LISTEN", "127.0.0.1:0")],
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let metrics_url = loop {
        let out = std::fs::read_to_string(dir.path().join("stdout-0.log")).unwrap();
        if let Some(url) = out.lines().find_map(|l| l.trim().strip_prefix("metrics: ")) {
            break url.to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no metrics line: {out}"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        !metrics_url.starts_with(&gw.url),
        "its own address: {metrics_url} vs {}",
        gw.url
    );
    let c = reqwest::Client::new();
    let own = c.get(&metrics_url).send().await.unwrap();
    assert_eq!(own.status(), 200);
    assert!(
        own.text()
            .await
            .unwrap()
            .contains("hushpay_http_requests_total")
    );
    let public = c.get(format!("{}/metrics", gw.url)).send().await.unwrap();
    assert_eq!(public.status(), 404);
}

/// The media engine's one UDP port: `serve` prints it, and a development gateway whose
/// `rtc.udp_port` is taken (another gateway, a test) takes a free one and says so; an admin
/// command never binds it (it would fail beside a running production gateway).
#[test]
fn the_media_port_is_printed_and_admin_commands_leave_it_alone() {
    let held = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = held.local_addr().unwrap().port().to_string();
    let dir = tempfile::tempdir().unwrap();

    let out = Command::new(BIN)
        .args(["tenant", "create", "clinic"])
        .current_dir(dir.path())
        .env("HUSHPAY_LOG", "warn")
        .env("HUSHPAY__RTC__UDP_PORT", &port)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("rtc.udp_port is taken"),
        "an admin command tried the media port: {stderr}"
    );

    let mut child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("HUSHPAY_LOG", "warn")
        .env("HUSHPAY__RTC__UDP_PORT", &port)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let media = stdout
        .lines()
        .map_while(Result::ok)
        .take(40)
        .find_map(|l| l.trim().strip_prefix("media:").map(|m| m.trim().to_owned()));
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let media = media.expect("serve prints the media address");
    assert!(media.starts_with("udp 127.0.0.1:"), "{media}");
    assert!(
        !media.ends_with(&format!(":{port}")),
        "the taken port is not reused: {media}"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("rtc.udp_port is taken"), "{stderr}");
    drop(held);
}
