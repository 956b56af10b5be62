//! The operator's commands on the real binary: `hushpay --version` names the version and the
//! commit of the checkout it was built from; `hushpay doctor` passes good configurations (a
//! production one on SQLite; a cluster node on PostgreSQL with a real NATS and coturn) and
//! names what to fix in broken ones, exiting non-zero.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hushpay_auth::KeyOrigin;
use hushpay_store::{PgStore, ScratchSchema, SqliteStore};

const BIN: &str = env!("CARGO_BIN_EXE_hushpay");

/// The checkout's HEAD (12 digits), or `unknown` outside a git checkout.
fn head_commit() -> String {
    let out = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8(o.stdout).unwrap().trim().to_owned(),
        _ => "unknown".to_owned(),
    }
}

#[test]
fn version_names_the_crate_version_and_the_commit_built() {
    let out = Command::new(BIN).arg("--version").output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let line = String::from_utf8(out.stdout).unwrap();
    let expected = format!(
        "hushpay {} (commit {})\n",
        env!("CARGO_PKG_VERSION"),
        head_commit()
    );
    assert_eq!(line, expected);
    // `-V` is the same line.
    let short = Command::new(BIN).arg("-V").output().unwrap();
    assert_eq!(String::from_utf8(short.stdout).unwrap(), expected);
}

/// `hushpay tenant update --default-locale`: normalised and stored (the tenant's payments that
/// name no locale take it); an unsupported one is refused, changing nothing.
#[test]
fn tenant_update_sets_a_default_locale_and_refuses_an_unsupported_one() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .current_dir(dir.path())
            .env("HUSHPAY__DATA_DIR", dir.path())
            .env("HUSHPAY_LOG", "warn")
            .output()
            .unwrap()
    };
    let created = run(&["tenant", "create", "clinica"]);
    assert!(created.status.success(), "{created:?}");
    let refused = run(&["tenant", "update", "clinica", "--default-locale", "fr"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("en, es"),
        "{refused:?}"
    );
    let set = run(&["tenant", "update", "clinica", "--default-locale", "ES-us"]);
    assert!(set.status.success(), "{set:?}");
    assert!(String::from_utf8_lossy(&set.stderr).contains("default_locale=es-US"));
    let store = SqliteStore::open(&dir.path().join("hushpay.db")).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let t = rt
        .block_on(hushpay_store::TenantStore::tenant_by_name(
            &store, "clinica",
        ))
        .unwrap()
        .unwrap();
    assert_eq!(t.default_locale.as_deref(), Some("es-US"));
}

// ---------------------------------------------------------------------------------------------
// hushpay doctor

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A production deployment in a scratch directory: real key files (mode 0600), a migrated
/// SQLite store, the web assets where `[widget]` points, free ports.
struct Deployment {
    dir: tempfile::TempDir,
    config: PathBuf,
    udp_port: u16,
}

impl Deployment {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("keys")).unwrap();
        hushpay_auth::keyfile::load_or_generate(&d.join("keys/signing.pem"), KeyOrigin::Production)
            .unwrap();
        write_private(&d.join("keys/kek"), &"ab".repeat(32));
        write_private(&d.join("keys/hpke"), &"cd".repeat(32));
        for (sub, files) in [
            (
                "frame",
                &["card.wasm", "card-frame.js", "card-frame.css"][..],
            ),
            ("pages", &["pay.js", "console.js"][..]),
        ] {
            std::fs::create_dir_all(d.join(sub)).unwrap();
            for f in files {
                std::fs::write(d.join(sub).join(f), b"built").unwrap();
            }
        }
        drop(SqliteStore::open(&d.join("hushpay.db")).unwrap());
        let udp_port = free_udp_port();
        let text = format!(
            r#"mode = "production"
data_dir = "{d}/data"
store = "sqlite:{d}/hushpay.db"

[server]
listen = "127.0.0.1:{listen}"
public_url = "https://pay.example.test"
metrics_listen = "127.0.0.1:{metrics}"

[auth]
signing_key_file = "{d}/keys/signing.pem"

[vault]
kek_file = "{d}/keys/kek"
hpke_key_file = "{d}/keys/hpke"

[widget]
origin = "https://elements.example.test"
assets_dir = "{d}/frame"
pages_dir = "{d}/pages"

[rtc]
media_ip = "127.0.0.1"
udp_port = {udp_port}
tcp_port = {tcp}
"#,
            d = d.display(),
            listen = free_tcp_port(),
            metrics = free_tcp_port(),
            tcp = free_tcp_port(),
        );
        let config = d.join("hushpay.toml");
        std::fs::write(&config, text).unwrap();
        Deployment {
            dir,
            config,
            udp_port,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// `hushpay doctor --config FILE` with `env` overrides: exit code and stdout.
    fn doctor(&self, env: &[(&str, &str)]) -> (i32, String) {
        doctor(&self.config, env)
    }
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

fn doctor(config: &Path, env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(["doctor", "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .env("HUSHPAY_LOG", "warn")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), stdout)
}

/// The report's line for `subject` at `level` (`ok  `, `warn`, `FIX `) holds `text`.
fn has(report: &str, level: &str, subject: &str, text: &str) -> bool {
    report.lines().any(|l| {
        let l = l.trim_start();
        l.starts_with(level) && l[4..].trim_start().starts_with(subject) && l.contains(text)
    })
}

#[test]
fn doctor_passes_a_good_production_config() {
    let d = Deployment::new();
    let (code, out) = d.doctor(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\n0 to fix, 0 warnings\n"), "{out}");
    assert!(has(&out, "ok", "config", "production mode"), "{out}");
    assert!(
        has(&out, "ok", "auth.signing_key_file", "an Ed25519 key"),
        "{out}"
    );
    assert!(has(&out, "ok", "vault.kek_file", "a 256-bit key"), "{out}");
    assert!(
        has(&out, "ok", "vault.hpke_key_file", "an X25519 key"),
        "{out}"
    );
    let version = format!("schema version {}", SqliteStore::SCHEMA_VERSION);
    assert!(has(&out, "ok", "store", &version), "{out}");
    assert!(has(&out, "ok", "rtc.udp_port", "is free"), "{out}");
    assert!(
        has(&out, "ok", "widget.origin", "https://elements.example.test"),
        "{out}"
    );
    // Nothing was created, generated or migrated.
    assert!(
        !d.path("data").exists(),
        "doctor created the data directory"
    );
}

#[test]
fn doctor_names_an_unreadable_or_wrong_kind_of_key() {
    let d = Deployment::new();
    let missing = d.path("keys/nope.pem");
    let (code, out) = d.doctor(&[("HUSHPAY__AUTH__SIGNING_KEY_FILE", missing.to_str().unwrap())]);
    assert_eq!(code, 1, "{out}");
    assert!(
        has(&out, "FIX", "auth.signing_key_file", "cannot read"),
        "{out}"
    );
    assert!(out.contains("1 to fix"), "{out}");

    // A KEK where the signing key goes, a PEM where the KEK goes: each named, neither printed.
    let kek = d.path("keys/kek");
    let pem = d.path("keys/signing.pem");
    let (code, out) = d.doctor(&[
        ("HUSHPAY__AUTH__SIGNING_KEY_FILE", kek.to_str().unwrap()),
        ("HUSHPAY__VAULT__KEK_FILE", pem.to_str().unwrap()),
        ("HUSHPAY__VAULT__HPKE_KEY_FILE", pem.to_str().unwrap()),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        has(
            &out,
            "FIX",
            "auth.signing_key_file",
            "not a PKCS#8 PEM Ed25519"
        ),
        "{out}"
    );
    assert!(
        has(&out, "FIX", "vault.kek_file", "64 hex digits or base64"),
        "{out}"
    );
    assert!(
        has(&out, "FIX", "vault.hpke_key_file", "64 hex digits"),
        "{out}"
    );
    let pem_text = std::fs::read_to_string(&pem).unwrap();
    let pem_body = pem_text.lines().nth(1).unwrap();
    assert!(
        !out.contains(pem_body) && !out.contains(&"ab".repeat(32)),
        "{out}"
    );

    // A key others may read works, with a warning.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&kek, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, out) = d.doctor(&[]);
    assert_eq!(code, 0, "{out}");
    assert!(has(&out, "warn", "vault.kek_file", "chmod 600"), "{out}");
}

#[test]
fn doctor_names_an_unreachable_store() {
    let d = Deployment::new();
    let closed = free_tcp_port();
    let url = format!("postgres://hushpay:s3cret-pw@127.0.0.1:{closed}/hushpay");
    let (code, out) = d.doctor(&[("HUSHPAY__STORE", &url)]);
    assert_eq!(code, 1, "{out}");
    assert!(
        has(&out, "FIX", "store", "cannot reach PostgreSQL"),
        "{out}"
    );
    assert!(
        !out.contains("s3cret-pw"),
        "the password was printed: {out}"
    );
    let garbage = d.path("garbage.db");
    std::fs::write(
        &garbage,
        "not a database, just some text that is long enough",
    )
    .unwrap();
    let (code, out) = d.doctor(&[("HUSHPAY__STORE", &format!("sqlite:{}", garbage.display()))]);
    assert_eq!(code, 1, "{out}");
    assert!(has(&out, "FIX", "store", "cannot read SQLite"), "{out}");
}

#[test]
fn doctor_names_a_bad_public_url() {
    let d = Deployment::new();
    for (url, expected) in [
        ("https://0.0.0.0:8443", "unspecified address"),
        ("https://pay.example.test/?x=1", "query or fragment"),
        ("https://ops:hunter22@pay.example.test", "credentials"),
    ] {
        let (code, out) = d.doctor(&[("HUSHPAY__SERVER__PUBLIC_URL", url)]);
        assert_eq!(code, 1, "{url}: {out}");
        assert!(
            has(&out, "FIX", "server.public_url", expected),
            "{url}: {out}"
        );
        assert!(!out.contains("hunter22"), "{out}");
    }
    // Refused by the configuration itself (production): plain HTTP.
    let (code, out) = d.doctor(&[("HUSHPAY__SERVER__PUBLIC_URL", "http://pay.example.test")]);
    assert_eq!(code, 1, "{out}");
    assert!(has(&out, "FIX", "config", "plain-HTTP public URL"), "{out}");
    // A widget origin equal to the public URL's (configuration refuses it in production).
    let (code, out) = d.doctor(&[("HUSHPAY__WIDGET__ORIGIN", "https://pay.example.test")]);
    assert_eq!(code, 1, "{out}");
    assert!(has(&out, "FIX", "config", "widget.origin"), "{out}");
}

#[test]
fn doctor_names_a_media_port_in_use() {
    let d = Deployment::new();
    let holder = UdpSocket::bind(("127.0.0.1", d.udp_port)).unwrap();
    let (code, out) = d.doctor(&[]);
    assert_eq!(code, 1, "{out}");
    let addr = format!("UDP 127.0.0.1:{} is in use", d.udp_port);
    assert!(has(&out, "FIX", "rtc.udp_port", &addr), "{out}");
    // Development takes a free port instead: a warning.
    let (code, out) = d.doctor(&[("HUSHPAY__MODE", "development")]);
    assert_eq!(code, 0, "{out}");
    assert!(
        has(
            &out,
            "warn",
            "rtc.udp_port",
            "development takes a free port"
        ),
        "{out}"
    );
    drop(holder);
    // An address that is not this host's.
    let (code, out) = d.doctor(&[("HUSHPAY__RTC__MEDIA_IP", "192.0.2.77")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        has(&out, "FIX", "rtc.udp_port", "not one of this host's"),
        "{out}"
    );
}

/// A process killed when the test ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait_for_tcp(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "{what} did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_reaches_postgres_nats_and_coturn_of_a_cluster_node() {
    let d = Deployment::new();
    let schema = ScratchSchema::create("doctor")
        .await
        .expect("PostgreSQL at 127.0.0.1:5432");
    drop(PgStore::open(&schema.pg_url().unwrap()).await.unwrap());
    let nats_dir = tempfile::tempdir().unwrap();
    let nats_port = free_tcp_port();
    let nats = Server(
        Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &nats_port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(nats_dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (scripts/setup.sh installs it)"),
    );
    let turn_port = free_tcp_port();
    let secret = "doctor-test-turn-secret-0123456789abcdef";
    let turn_dir = tempfile::tempdir().unwrap();
    let coturn = Server(
        Command::new("turnserver")
            .args(["-n", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint"])
            .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
            .args(["--listening-port", &turn_port.to_string()])
            .args(["--use-auth-secret", "--static-auth-secret", secret])
            .args([
                "--realm",
                "hushpay.test",
                "--min-port",
                "41000",
                "--max-port",
                "41099",
            ])
            .arg("--userdb")
            .arg(turn_dir.path().join("turndb"))
            .arg("--pidfile")
            .arg(turn_dir.path().join("turnserver.pid"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver (coturn; scripts/setup.sh installs it)"),
    );
    wait_for_tcp(nats_port, "nats-server");
    wait_for_tcp(turn_port, "turnserver");
    let secret_file = d.path("keys/turn-secret");
    write_private(&secret_file, secret);
    let urls = format!(
        "[\"turn:127.0.0.1:{turn_port}?transport=udp\", \"turn:127.0.0.1:{turn_port}?transport=tcp\"]"
    );
    let store = schema.url().to_owned();
    let nats_url = format!("nats://127.0.0.1:{nats_port}");
    let base = [
        ("HUSHPAY__STORE", store.as_str()),
        ("HUSHPAY__CLUSTER__NODE_ID", "doctor-1"),
        ("HUSHPAY__TURN__URLS", urls.as_str()),
        (
            "HUSHPAY__TURN__SHARED_SECRET_FILE",
            secret_file.to_str().unwrap(),
        ),
    ];
    let mut env = base.to_vec();
    env.push(("HUSHPAY__CLUSTER__NATS_URL", nats_url.as_str()));
    let (code, out) = d.doctor(&env);
    assert_eq!(code, 0, "{out}");
    let version = format!("schema version {}", PgStore::SCHEMA_VERSION);
    assert!(has(&out, "ok", "store", &version), "{out}");
    assert!(
        has(&out, "ok", "cluster.nats_url", "NATS with JetStream"),
        "{out}"
    );
    assert!(
        has(&out, "ok", "turn.urls", "answers STUN over UDP"),
        "{out}"
    );
    assert!(
        has(&out, "ok", "turn.urls", "TCP connection accepted"),
        "{out}"
    );

    // A NATS without JetStream is named.
    let plain_port = free_tcp_port();
    let plain = Server(
        Command::new("nats-server")
            .args(["-a", "127.0.0.1", "-p", &plain_port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_for_tcp(plain_port, "nats-server");
    let plain_url = format!("nats://127.0.0.1:{plain_port}");
    let mut plain_env = base.to_vec();
    plain_env.push(("HUSHPAY__CLUSTER__NATS_URL", plain_url.as_str()));
    let (code, out) = d.doctor(&plain_env);
    assert_eq!(code, 1, "{out}");
    assert!(
        has(&out, "FIX", "cluster.nats_url", "without JetStream"),
        "{out}"
    );
    drop(plain);

    // The same node with NATS and coturn gone: both named.
    drop(nats);
    drop(coturn);
    let (code, out) = d.doctor(&env);
    assert_eq!(code, 1, "{out}");
    assert!(
        has(&out, "FIX", "cluster.nats_url", "cannot connect to NATS"),
        "{out}"
    );
    assert!(
        has(&out, "FIX", "turn.urls", "?transport=udp: no answer"),
        "{out}"
    );
    assert!(
        has(&out, "FIX", "turn.urls", "?transport=tcp: cannot connect"),
        "{out}"
    );
}
