//! Issue 17, point 7: card-form and link payments expire at their deadline with nobody
//! reading them (as keypad and IVR payments do), and `payment.failed` goes out then.
//!
//! The deadline is moved into the past through the store (as if the payment's timeout had
//! passed: the shortest is 30 s) and the payment is never read through the service: only the
//! gateway's expiry sweeper can end it.

use std::time::{Duration, Instant};

use hushpay_store::TenantId;
use serde_json::{Value, json};

use crate::common::TestGateway;
use crate::{body, created};

/// Moves the payment's stored deadline (document and column) one second into the past.
pub(crate) async fn past_deadline(gw: &TestGateway, id: &str) {
    let store = &gw.state.store;
    let mut record = store.payment(id).await.unwrap().unwrap();
    let past = hushpay_vault::unix_now() - 1;
    let mut doc: Value = serde_json::from_str(&record.document).unwrap();
    doc["expires_at"] = json!(past);
    record.document = doc.to_string();
    record.expires_at = past;
    let version = record.version;
    record.version += 1;
    assert!(store.update_payment(&record, version, &[]).await.unwrap());
}

/// The stored state, read from the store (not through the service, which would expire it).
pub(crate) async fn stored_state(gw: &TestGateway, id: &str) -> String {
    gw.state.store.payment(id).await.unwrap().unwrap().state
}

/// The events attempted to `endpoint` so far, as (type, payment id).
pub(crate) async fn delivered(
    gw: &TestGateway,
    tenant: &TenantId,
    endpoint: &str,
) -> Vec<(String, String)> {
    let store = &gw.state.store;
    let mut out = Vec::new();
    for attempt in store.delivery_log(tenant, endpoint, 100).await.unwrap() {
        let event = store.event(&attempt.event_id).await.unwrap().unwrap();
        let body: Value = serde_json::from_str(&event.payload).unwrap();
        let pair = (
            event.event_type,
            body["data"]["id"].as_str().unwrap_or("").to_owned(),
        );
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    out
}

#[tokio::test]
async fn card_form_and_link_payments_expire_unread_with_their_webhook() {
    let gw = TestGateway::start(&[
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ])
    .await;
    let (t, key) = gw.tenant("clinic").await;
    // Nothing listens there: each attempt is logged as a failure, with its event.
    let resp = gw
        .client
        .post(gw.url("/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({"url": "http://127.0.0.1:1/hook"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let endpoint = resp.json::<Value>().await.unwrap()["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (form, _) = created(&gw, &key, &body("card-form", "charge")).await;
    let (link, _) = created(&gw, &key, &body("link", "tokenize")).await;
    let (open, _) = created(&gw, &key, &body("card-form", "charge")).await;
    let [form, link, open] = [form, link, open].map(|p| p["id"].as_str().unwrap().to_owned());
    past_deadline(&gw, &form).await;
    past_deadline(&gw, &link).await;

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let events = delivered(&gw, &t.id, &endpoint).await;
        let failed = |id: &str| events.contains(&("payment.failed".to_owned(), id.to_owned()));
        if failed(&form) && failed(&link) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no payment.failed for the overdue payments within 10 s: {events:?} \
             (states {} {})",
            stored_state(&gw, &form).await,
            stored_state(&gw, &link).await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in [&form, &link] {
        let record = gw.state.store.payment(id).await.unwrap().unwrap();
        assert_eq!(record.state, "expired");
        let doc: Value = serde_json::from_str(&record.document).unwrap();
        assert_eq!(doc["result"], "input-timeout");
    }
    assert_eq!(
        stored_state(&gw, &open).await,
        "requested",
        "a payment before its deadline is left alone"
    );
    let events = delivered(&gw, &t.id, &endpoint).await;
    assert!(
        !events.iter().any(|(_, id)| id == &open),
        "no event for the open payment: {events:?}"
    );
}
