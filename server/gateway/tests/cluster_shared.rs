//! Issue 14, shared work done once: two full gateway instances (each with its own PostgreSQL
//! pool and its own webhook worker) on one PostgreSQL schema made for the test, under a
//! tokenization load spread over both nodes' APIs. Every `token.created` event reaches the
//! receiver exactly once (none missing, none twice: the receiver here counts every request,
//! it does not de-duplicate), no tokenization is refused (`audit_unavailable` or any other
//! error), and the audit chain both nodes appended to verifies as one chain (in process and
//! with `hushpay audit verify`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::TestGateway;
use common::cards::{seal_card, tracer_pan, vault_public_key};
use hushpay_store::ScratchSchema;
use serde_json::{Value, json};

/// Tokenizations per node, and requests in flight per node. At this load the former audit
/// log (each node caching the chain's head, three tries on a conflict) refused some
/// tokenizations with `audit_unavailable` in every run tried; without delivery leases most
/// events arrived twice.
const PER_NODE: usize = 96;
const CONCURRENCY: usize = 16;

/// Every webhook request the receiver got, as (webhook-id, body), in arrival order.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A receiver that answers 204 to every delivery and keeps them all, duplicates included.
async fn counting_receiver() -> (String, Received) {
    let got: Received = Arc::default();
    let sink = Arc::clone(&got);
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let sink = Arc::clone(&sink);
            async move {
                let id = headers
                    .get("webhook-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                sink.lock().unwrap().push((id, body));
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

async fn node(schema: &ScratchSchema, data_dir: &str) -> TestGateway {
    TestGateway::start(&[
        ("HUSHPAY__STORE", schema.url()),
        // One data directory: both nodes use the same development KEK and sealing key, as
        // every node of a cluster must.
        ("HUSHPAY__DATA_DIR", data_dir),
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "20"),
        ("HUSHPAY__WEBHOOKS__RETRY_BASE_SECS", "1"),
    ])
    .await
}

/// Tokenizes `PER_NODE` tracer cards through `gw`, `CONCURRENCY` at a time; returns the
/// token ids and every refusal (status and body).
async fn tokenize_load(gw: &TestGateway, key: &str, tenant: &str) -> (Vec<String>, Vec<String>) {
    let (public, kid) = vault_public_key(&gw.client, &gw.url("")).await;
    let mut ids = Vec::new();
    let mut refusals = Vec::new();
    for batch in 0..PER_NODE.div_ceil(CONCURRENCY) {
        let requests = (0..CONCURRENCY.min(PER_NODE - batch * CONCURRENCY)).map(|i| {
            let session = format!("sess-{batch}-{i}");
            let sealed = seal_card(&public, &kid, tenant, &session, &tracer_pan());
            gw.client
                .post(gw.url("/v1/tokens"))
                .bearer_auth(key)
                .json(&json!({ "sealed": sealed, "session": session }))
                .send()
        });
        for resp in futures_util::future::join_all(requests).await {
            let resp = resp.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            match (status, body["id"].as_str()) {
                (201, Some(id)) => ids.push(id.to_owned()),
                _ => refusals.push(format!("{status} {body}")),
            }
        }
    }
    (ids, refusals)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_every_event_once_and_keep_one_audit_chain() {
    let schema = ScratchSchema::create("gwcluster").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let a = node(&schema, &data_dir).await;
    let b = node(&schema, &data_dir).await;
    assert!(format!("{:?}", a.state.store).starts_with("PgStore"));
    let (ka, kb) = (
        vault_public_key(&a.client, &a.url("")).await,
        vault_public_key(&b.client, &b.url("")).await,
    );
    assert_eq!(ka.1, kb.1, "both nodes seal to one key");

    let (tenant, key) = a.tenant("cluster-shared").await;
    let (url, received) = counting_receiver().await;
    let resp = b
        .client
        .post(b.url("/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({ "url": url }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    let t = tenant.id.as_str();
    let ((ids_a, refused_a), (ids_b, refused_b)) =
        tokio::join!(tokenize_load(&a, &key, t), tokenize_load(&b, &key, t));
    let refusals: Vec<String> = refused_a.into_iter().chain(refused_b).collect();
    assert!(refusals.is_empty(), "refused: {refusals:?}");
    let tokens: BTreeSet<String> = ids_a.into_iter().chain(ids_b).collect();
    assert_eq!(tokens.len(), 2 * PER_NODE);

    // Wait for every event, then a while longer for any second copy.
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.lock().unwrap().len() < tokens.len() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let got = received.lock().unwrap().clone();
    let mut copies: BTreeMap<&str, usize> = BTreeMap::new();
    let mut delivered_tokens = BTreeSet::new();
    for (id, body) in &got {
        *copies.entry(id.as_str()).or_default() += 1;
        let event: Value = serde_json::from_str(body).unwrap();
        assert_eq!(event["type"], "token.created", "{event}");
        delivered_tokens.insert(event["data"]["id"].as_str().unwrap().to_owned());
    }
    let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(delivered_tokens, tokens, "every token's event delivered");
    assert_eq!(got.len(), tokens.len());

    for gw in [&a, &b] {
        let report = hushpay_vault::audit::verify(gw.state.store.as_ref())
            .await
            .unwrap();
        assert_eq!(report.problem, None);
        assert!(report.entries >= tokens.len() as u64, "{report:?}");
    }
    // And as an operator would check it: `hushpay audit verify` on the same schema.
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_hushpay"))
        .args(["audit", "verify"])
        .current_dir(data.path())
        .env("HUSHPAY__STORE", schema.url())
        .env("HUSHPAY__DATA_DIR", &data_dir)
        .env("HUSHPAY_LOG", "warn")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&cli.stdout);
    assert!(
        cli.status.success() && out.starts_with("audit log intact: "),
        "{out} {}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let entries: u64 = out["audit log intact: ".len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(entries >= tokens.len() as u64, "{out}: the schema's chain");
    for id in &tokens {
        b.state
            .vault
            .vault
            .verify_token_decrypts(&tenant.id, id)
            .await
            .unwrap();
    }
}
