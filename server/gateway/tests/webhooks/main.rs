//! Webhooks end to end: endpoints registered over HTTP, payment and token events delivered
//! from the outbox to the example receiver (`examples/webhook-receiver`, Node), which
//! verifies every Standard Webhooks signature; a failed first attempt is retried; the
//! delivery log shows both; no body holds card data; internal targets are refused unless
//! allowed; bad input gets a clear 4xx. Issue 12: fairness between tenants and the DNS
//! timeout (`fairness`), the endpoint cap and the circuit breaker (`limits`), and the
//! destination check against hostile URL forms and names that resolve inside (`ssrf`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod fairness;
mod fhir;
mod limits;
mod ssrf;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::cards::{seal, tracer_pan, vault_key};
use common::receiver::{Receiver, receiver_dir};
use common::{TestGateway, assert_error};
use hushpay_card::leak_scan::{self, Net, Tracers};
use serde_json::{Value, json};

fn start_receiver(out: &std::path::Path, secret_file: &std::path::Path) -> Receiver {
    Receiver::start(out, secret_file, 1)
}

pub(crate) async fn post_json(
    gw: &TestGateway,
    path: &str,
    key: &str,
    body: Value,
) -> reqwest::Response {
    gw.client
        .post(gw.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn new_payment(gw: &TestGateway, key: &str) -> (String, String) {
    let resp = gw
        .client
        .post(gw.url("/v1/payments"))
        .bearer_auth(key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"amount": 990, "currency": "GBP", "reference": "r", "mode": "charge", "method": "card-form"}))
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    (
        v["payment"]["id"].as_str().unwrap().to_owned(),
        v["client_secret"].as_str().unwrap().to_owned(),
    )
}

/// A card-form payment of `body` (a GBP 9.90 charge when `None`) paid with `pan` (CVC 735):
/// the payment's id and the card submission's HTTP status.
pub(crate) async fn paid(
    gw: &TestGateway,
    key: &str,
    tenant: &str,
    body: Option<Value>,
    pan: &str,
) -> (String, u16) {
    let body = body.unwrap_or_else(|| {
        json!({"amount": 990, "currency": "GBP", "reference": "r", "mode": "charge", "method": "card-form"})
    });
    let resp = gw
        .client
        .post(gw.url("/v1/payments"))
        .bearer_auth(key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let v: Value = resp.json().await.unwrap();
    let id = v["payment"]["id"].as_str().unwrap().to_owned();
    let (pk, kid) = vault_key(gw).await;
    let sealed = seal(&pk, &kid, tenant, &id, pan, Some("735"), None);
    let r = post_json(
        gw,
        &format!("/v1/payments/{id}/card"),
        v["client_secret"].as_str().unwrap(),
        json!({"sealed": sealed}),
    )
    .await;
    (id, r.status().as_u16())
}

#[test]
fn the_receiver_example_passes_its_own_tests() {
    let status = Command::new("node")
        .arg("--test")
        .arg(receiver_dir())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn events_reach_the_example_receiver_signed_retried_and_without_card_data() {
    let gw = TestGateway::start(&[
        ("HUSHPAY__STORE", "sqlite"),
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__RETRY_BASE_SECS", "1"),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ])
    .await;
    let (t, key) = gw.tenant("crm").await;
    let dir = tempfile::tempdir().unwrap();
    let (out, secret_file) = (dir.path().join("events.jsonl"), dir.path().join("secret"));
    let receiver = start_receiver(&out, &secret_file);

    let resp = post_json(
        &gw,
        "/v1/webhooks",
        &key,
        json!({"url": format!("http://127.0.0.1:{}/hook", receiver.port)}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(secret.starts_with("whsec_"));
    std::fs::write(&secret_file, secret).unwrap();
    let endpoint = created["endpoint"]["id"].as_str().unwrap().to_owned();
    let listed: Value = gw
        .client
        .get(gw.url("/v1/webhooks"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["endpoints"][0]["id"], endpoint.as_str());
    assert!(
        !listed.to_string().contains("whsec_"),
        "the secret is shown once"
    );

    // A success, a decline and a cancellation; the successes also create tokens.
    let mut tracers = Tracers::new();
    let pan = tracer_pan();
    tracers.add("pan", &pan).unwrap();
    tracers.add("cvc", "735").unwrap();
    let (ok_id, status) = paid(&gw, &key, t.id.as_str(), None, &pan).await;
    assert_eq!(status, 200);
    let (_, _) = paid(&gw, &key, t.id.as_str(), None, "4000000000000002").await;
    let (cancel_id, _) = new_payment(&gw, &key).await;
    let r = gw
        .client
        .post(gw.url(&format!("/v1/payments/{cancel_id}/cancel")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

    // Wait for the five events (the receiver refuses the very first delivery once).
    let deadline = Instant::now() + Duration::from_secs(20);
    let events: Vec<Value> = loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let events: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        if events.len() >= 5 || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let mut types: Vec<&str> = events
        .iter()
        .map(|e| e["event"]["type"].as_str().unwrap())
        .collect();
    types.sort();
    assert_eq!(
        types,
        [
            "payment.cancelled",
            "payment.failed",
            "payment.succeeded",
            "token.created",
            "token.created"
        ]
    );
    let succeeded = events
        .iter()
        .find(|e| e["event"]["type"] == "payment.succeeded")
        .unwrap();
    assert_eq!(succeeded["event"]["data"]["id"], ok_id.as_str());
    assert_eq!(succeeded["event"]["data"]["card"]["last4"], &pan[12..]);
    let failed = events
        .iter()
        .find(|e| e["event"]["type"] == "payment.failed")
        .unwrap();
    assert_eq!(failed["event"]["data"]["error"], "card-declined");
    assert!(
        events
            .iter()
            .all(|e| e["id"].as_str().unwrap().starts_with("evt_"))
    );

    // The delivery log shows the refused first attempt and its retry.
    let log: Value = gw
        .client
        .get(gw.url(&format!("/v1/webhooks/{endpoint}/deliveries")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log = log["deliveries"].as_array().unwrap();
    assert!(
        log.iter().any(|a| a["status_code"] == 503
            && a["status"] == "pending"
            && a["next_attempt_at"].is_i64()),
        "{log:?}"
    );
    assert_eq!(log.iter().filter(|a| a["status"] == "delivered").count(), 5);
    let retried = log.iter().find(|a| a["status_code"] == 503).unwrap()["event_id"].clone();
    assert!(
        log.iter()
            .any(|a| a["event_id"] == retried && a["attempt"] == 2 && a["status_code"] == 204)
    );

    // No card data in what the receiver got, nor in the data directory.
    let bodies = std::fs::read(&out).unwrap();
    assert!(leak_scan::scan(&tracers, &bodies, Net::KnownBrands).is_empty());
    let planted = format!("{}{}", String::from_utf8_lossy(&bodies), pan);
    assert!(
        !leak_scan::scan(&tracers, planted.as_bytes(), Net::KnownBrands).is_empty(),
        "positive control"
    );

    // A forged delivery is refused by the receiver.
    let forged = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{}/hook", receiver.port))
        .header("webhook-id", "evt_forged")
        .header("webhook-timestamp", hushpay_vault::unix_now().to_string())
        .header("webhook-signature", "v1,AAAA")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);

    // Deleting the endpoint stops deliveries to it.
    let del = gw
        .client
        .delete(gw.url(&format!("/v1/webhooks/{endpoint}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let again = gw
        .client
        .delete(gw.url(&format!("/v1/webhooks/{endpoint}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_error(again, 404, "webhook_not_found").await;
    let entries = gw.state.store.audit_entries(0, 1000).await.unwrap();
    for action in ["webhook.create", "webhook.delete"] {
        assert!(
            entries.iter().any(|e| e.action == action),
            "{action} audited"
        );
    }
}

#[tokio::test]
async fn internal_targets_and_bad_input_are_refused() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("crm").await;
    let (_o, other_key) = gw.tenant("other").await;
    for (url, code) in [
        ("https://127.0.0.1/hook", "webhook_target_refused"),
        ("https://10.1.2.3/hook", "webhook_target_refused"),
        ("https://169.254.169.254/latest", "webhook_target_refused"),
        ("https://[::1]/hook", "webhook_target_refused"),
        ("https://localhost/hook", "webhook_target_refused"),
        ("http://hooks.example.com/x", "invalid_webhook_url"),
        ("ftp://hooks.example.com/x", "invalid_webhook_url"),
        ("https://user@hooks.example.com/", "invalid_webhook_url"),
        ("", "invalid_webhook_url"),
    ] {
        let r = post_json(&gw, "/v1/webhooks", &key, json!({ "url": url })).await;
        assert_error(r, 422, code).await;
    }
    let ok = post_json(
        &gw,
        "/v1/webhooks",
        &key,
        json!({"url": "https://hooks.example.com/x"}),
    )
    .await;
    assert_eq!(ok.status(), 201);
    let id = ok.json::<Value>().await.unwrap()["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for body in [
        json!({}),
        json!({"url": 5}),
        json!({"url": "https://a.example", "events": []}),
    ] {
        assert_error(
            post_json(&gw, "/v1/webhooks", &key, body).await,
            400,
            "invalid_request",
        )
        .await;
    }
    let r = gw
        .client
        .post(gw.url("/v1/webhooks"))
        .bearer_auth(&key)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "malformed_json").await;
    let agent = gw
        .mint(&key, json!({"identity": "a", "room": "r", "role": "agent"}))
        .await
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = post_json(
        &gw,
        "/v1/webhooks",
        &agent,
        json!({"url": "https://hooks.example.com/x"}),
    )
    .await;
    assert_error(r, 401, "invalid_api_key").await;
    // Other tenants see nothing and delete nothing.
    let r = gw
        .client
        .delete(gw.url(&format!("/v1/webhooks/{id}")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "webhook_not_found").await;
    let r = gw
        .client
        .get(gw.url(&format!("/v1/webhooks/{id}/deliveries")))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap();
    assert_error(r, 404, "webhook_not_found").await;
    let listed: Value = gw
        .client
        .get(gw.url("/v1/webhooks"))
        .bearer_auth(&other_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["endpoints"], json!([]));
}
