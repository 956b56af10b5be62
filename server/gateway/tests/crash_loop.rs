//! Crash loop: the real `hushpay` binary is SIGKILLed 50 times in the middle of a
//! tokenization load (several clients posting sealed cards to `POST /v1/tokens`) and
//! restarted on the same data directory each time. Afterwards every token a client saw
//! acknowledged (`201`) is present: its masked lookup answers over HTTP with the right last 4
//! digits, it decrypts inside the vault (opened on the same files with the same KEK), it has
//! its `token.create` audit entry, and the audit chain verifies.
//!
//! It was checked to fail (a token "lost" after a kill, on both stores) against a build whose
//! vault acknowledged a tokenization before its group commit was durable.
//!
//! Both stores: SQLite (the default, a file in the data directory) and PostgreSQL (the real
//! server, a scratch schema dropped afterwards). About 5 s each on 2 cores (debug build).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use common::cards::{seal_card, tracer_pan, vault_public_key};
use hushpay_store::{PgStore, ScratchSchema, SqliteStore, Store, TenantId};
use hushpay_vault::{Kek, Vault};
use rand::Rng;
use serde_json::{Value, json};

/// The binary under test: cargo's, or `HUSHPAY_TEST_BIN` (a build kept elsewhere; with a
/// target directory shared between work trees, cargo's path holds whichever tree built last).
fn bin() -> String {
    std::env::var("HUSHPAY_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hushpay").to_owned())
}
const ROUNDS: usize = 50;
const CLIENTS: usize = 6;
/// Acknowledgements to see in a round before the kill is armed (the load is running).
const ACKS_BEFORE_KILL: usize = 4;

struct Gateway {
    child: Child,
    url: String,
    /// Lines printed before the listening line (the demo tenant on first start).
    banner: Vec<String>,
}

impl Gateway {
    /// `hushpay serve` in `dir` (data in `dir/hushpay-data`), with `store` as `HUSHPAY__STORE`.
    fn start(dir: &Path, store: &str) -> Gateway {
        let mut child = Command::new(bin())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .current_dir(dir)
            .env("HUSHPAY__STORE", store)
            .env("HUSHPAY_LOG", "warn")
            .env(
                "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
                "true",
            )
            .env("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50")
            .env("HUSHPAY__WEBHOOKS__RETRY_BASE_SECS", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // Drain to EOF even after the caller stopped listening: a closed pipe would make
            // the gateway's next `println!` fail.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut banner = Vec::new();
        loop {
            let Ok(line) = rx.recv_timeout(Duration::from_secs(30)) else {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the gateway did not start: {banner:?}");
            };
            if let Some(url) = line.strip_prefix("Hushpay listening on ") {
                let url = url.trim().to_owned();
                return Gateway { child, url, banner };
            }
            banner.push(line);
        }
    }

    fn kill(mut self) {
        self.child.kill().unwrap(); // SIGKILL on Unix
        self.child.wait().unwrap();
    }
}

fn banner_value(banner: &[String], prefix: &str) -> String {
    let line = banner
        .iter()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no `{prefix}` in {banner:?}"));
    line.rsplit(' ').next().unwrap().to_owned()
}

/// Deliveries seen by the test's webhook receiver: (`webhook-id`, body).
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A webhook receiver on loopback that records every delivery and answers 200.
async fn receiver() -> (String, Received) {
    use axum::http::HeaderMap;
    let received: Received = Arc::default();
    let sink = Arc::clone(&received);
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let sink = Arc::clone(&sink);
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_owned();
                sink.lock().unwrap().push((id, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, received)
}

/// Waits until every acknowledged token's `token.created` event has been delivered, then
/// checks that each token's deliveries (retries after a kill included) carry one stable
/// `webhook-id`.
async fn assert_outbox_delivered(acked: &[(String, String)], received: &Received) {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let ids_by_token = webhook_ids_by_token(acked, &received.lock().unwrap());
        let missing: Vec<&str> = acked
            .iter()
            .map(|(id, _)| id.as_str())
            .filter(|id| !ids_by_token.contains_key(*id))
            .collect();
        if missing.is_empty() {
            for (token, ids) in &ids_by_token {
                assert_eq!(ids.len(), 1, "{token}: one stable webhook-id, got {ids:?}");
            }
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} token.created events never delivered, e.g. {:?}",
            missing.len(),
            acked.len(),
            &missing[..missing.len().min(3)]
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn webhook_ids_by_token(
    acked: &[(String, String)],
    received: &[(String, String)],
) -> std::collections::HashMap<String, HashSet<String>> {
    let wanted: HashSet<&str> = acked.iter().map(|(id, _)| id.as_str()).collect();
    let mut out: std::collections::HashMap<String, HashSet<String>> = Default::default();
    for (webhook_id, body) in received {
        let Ok(v) = serde_json::from_str::<Value>(body) else {
            continue;
        };
        let token = v["data"]["id"].as_str().unwrap_or("");
        if v["type"] == "token.created" && wanted.contains(token) {
            assert!(webhook_id.starts_with("evt_"), "{webhook_id}");
            out.entry(token.to_owned())
                .or_default()
                .insert(webhook_id.clone());
        }
    }
    out
}

/// An acknowledged token: id and the last 4 digits it must show.
type Acked = Arc<Mutex<Vec<(String, String)>>>;

/// Posts sealed cards until the connection fails (the gateway was killed).
async fn client(
    http: reqwest::Client,
    url: String,
    api_key: String,
    cards: Arc<Vec<(Value, String)>>,
    acked: Acked,
    round_acks: Arc<AtomicUsize>,
) -> Vec<u16> {
    let mut unexpected = Vec::new();
    let mut i = rand::thread_rng().gen_range(0..cards.len());
    loop {
        let (sealed, last4) = &cards[i % cards.len()];
        i += 1;
        let sent = http
            .post(format!("{url}/v1/tokens"))
            .bearer_auth(&api_key)
            .json(&json!({ "sealed": sealed, "session": "crash-loop" }))
            .send()
            .await;
        let Ok(resp) = sent else { break };
        let status = resp.status().as_u16();
        let Ok(body) = resp.json::<Value>().await else {
            break; // killed mid-response: not acknowledged
        };
        if status != 201 {
            unexpected.push(status);
            continue;
        }
        let id = body["id"].as_str().unwrap().to_owned();
        acked.lock().unwrap().push((id, last4.clone()));
        round_acks.fetch_add(1, Ordering::SeqCst);
    }
    unexpected
}

/// The loop itself: returns the demo tenant and every acknowledged token.
async fn crash_loop(dir: &Path, store: &str) -> (TenantId, Vec<(String, String)>) {
    let first = Gateway::start(dir, store);
    let tenant = banner_value(&first.banner, "Demo tenant `demo` created:");
    let api_key = banner_value(&first.banner, "Demo tenant API key");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let (public, kid) = vault_public_key(&http, &first.url).await;
    let (hook_url, received) = receiver().await;
    let endpoint = http
        .post(format!("{}/v1/webhooks", first.url))
        .bearer_auth(&api_key)
        .json(&json!({ "url": hook_url }))
        .send()
        .await
        .unwrap();
    assert_eq!(
        endpoint.status().as_u16(),
        201,
        "webhook endpoint registered"
    );
    let cards: Arc<Vec<(Value, String)>> = Arc::new(
        (0..8)
            .map(|_| {
                let pan = tracer_pan();
                let sealed = seal_card(&public, &kid, &tenant, "crash-loop", &pan);
                (sealed, pan[pan.len() - 4..].to_owned())
            })
            .collect(),
    );
    first.kill();

    let acked: Acked = Arc::default();
    let mut unexpected = Vec::new();
    for round in 0..ROUNDS {
        let gw = Gateway::start(dir, store);
        let round_acks = Arc::new(AtomicUsize::new(0));
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                tokio::spawn(client(
                    http.clone(),
                    gw.url.clone(),
                    api_key.clone(),
                    Arc::clone(&cards),
                    Arc::clone(&acked),
                    Arc::clone(&round_acks),
                ))
            })
            .collect();
        let armed = Instant::now();
        while round_acks.load(Ordering::SeqCst) < ACKS_BEFORE_KILL {
            assert!(
                armed.elapsed() < Duration::from_secs(20),
                "round {round}: no load"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let delay = rand::thread_rng().gen_range(0..40);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        gw.kill();
        for c in clients {
            unexpected.extend(c.await.unwrap());
        }
    }
    assert!(
        unexpected.is_empty(),
        "non-201 answers under load: {unexpected:?}"
    );
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= ROUNDS * ACKS_BEFORE_KILL, "{}", acked.len());
    let ids: HashSet<&str> = acked.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids.len(), acked.len(), "token ids are unique");

    // Every acknowledged token answers its masked lookup after the last restart.
    let gw = Gateway::start(dir, store);
    for (id, last4) in &acked {
        let resp = http
            .get(format!("{}/v1/tokens/{id}", gw.url))
            .bearer_auth(&api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 200, "{id} lost");
        let meta: Value = resp.json().await.unwrap();
        assert_eq!(meta["last4"], last4.as_str(), "{id}");
    }
    // ... and the outbox delivers its token.created event, at least once, with a stable id.
    assert_outbox_delivered(&acked, &received).await;
    gw.kill();
    (TenantId::new(tenant), acked)
}

/// Every acknowledged token decrypts inside the vault (same store, same KEK) and has its
/// audit entry; the chain verifies.
async fn verify_in_the_vault(
    dir: &Path,
    store: Arc<dyn Store>,
    tenant: &TenantId,
    acked: &[(String, String)],
) -> u64 {
    let kek = Kek::load_file(&dir.join("hushpay-data/keys/dev-vault-kek")).unwrap();
    let vault = Vault::new(kek, Arc::clone(&store) as _);
    for (id, last4) in acked {
        let meta = vault.verify_token_decrypts(tenant, id).await.unwrap();
        assert_eq!(&meta.last4, last4);
    }
    let report = hushpay_vault::audit::verify(&*store).await.unwrap();
    assert_eq!(report.problem, None, "audit chain after {ROUNDS} kills");
    let audited: HashSet<String> = store
        .audit_entries(0, usize::MAX >> 1)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "token.create" && e.outcome == "ok")
        .map(|e| e.resource)
        .collect();
    for (id, _) in acked {
        assert!(audited.contains(id), "{id} has no audit entry");
    }
    report.entries
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_tokens_survive_fifty_sigkills_during_load_on_sqlite() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (tenant, acked) = crash_loop(dir.path(), "sqlite").await;
    let db = dir.path().join("hushpay-data/hushpay.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&db).unwrap());
    let entries = verify_in_the_vault(dir.path(), store, &tenant, &acked).await;
    eprintln!(
        "crash loop (SQLite): {ROUNDS} SIGKILLs, {} acknowledged tokens, {entries} audit \
         entries, {:?}",
        acked.len(),
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_tokens_survive_fifty_sigkills_during_load_on_postgresql() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let schema = ScratchSchema::create("crashloop").await.unwrap();
    let (tenant, acked) = crash_loop(dir.path(), schema.url()).await;
    let store: Arc<dyn Store> = Arc::new(PgStore::open(&schema.pg_url().unwrap()).await.unwrap());
    let entries = verify_in_the_vault(dir.path(), store, &tenant, &acked).await;
    eprintln!(
        "crash loop (PostgreSQL): {ROUNDS} SIGKILLs, {} acknowledged tokens, {entries} audit \
         entries, {:?}",
        acked.len(),
        started.elapsed()
    );
}
