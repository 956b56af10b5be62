//! Issue 17, point 2: `mode: "authorize"`, then capture (full or partial, once) or void, and
//! refunds (partial, several, never above what was captured, idempotent), through the real
//! gateway with the sandbox connector: states, errors, webhooks and audit entries.

use serde_json::{Value, json};

use crate::common::cards::{seal, tracer_pan, vault_key};
use crate::common::{TestGateway, assert_error};
use crate::expiry::delivered;
use crate::{command, created, participant, show, submit};

/// A card-form payment of `amount` in `mode`, paid with `pan`: the payment after the card.
async fn paid(gw: &TestGateway, key: &str, mode: &str, amount: u64, pan: &str) -> Value {
    let (pk, kid) = vault_key(gw).await;
    let body = json!({"amount": amount, "currency": "USD", "reference": "visit-9",
                      "mode": mode, "method": "card-form"});
    let (payment, secret) = created(gw, key, &body).await;
    let id = payment["id"].as_str().unwrap();
    let tenant = payment["tenant"].as_str().unwrap();
    let sealed = seal(&pk, &kid, tenant, id, pan, Some("737"), None);
    let resp = submit(gw, id, &secret.unwrap(), &sealed).await;
    assert_eq!(resp.status(), 200);
    resp.json::<Value>().await.unwrap()["payment"].clone()
}

/// `POST /v1/payments/{id}/refunds` with `key` as Idempotency-Key.
async fn refund(
    gw: &TestGateway,
    credential: &str,
    id: &str,
    key: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut req = gw
        .client
        .post(gw.url(&format!("/v1/payments/{id}/refunds")))
        .bearer_auth(credential)
        .json(body);
    if let Some(k) = key {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

async fn json_of(resp: reqwest::Response, status: u16) -> Value {
    let got = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(got, status, "{v}");
    v
}

async fn gateway_with_endpoint() -> (TestGateway, hushpay_store::TenantId, String, String) {
    let gw = TestGateway::start(&[
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
        // Every attempt fails (nothing listens): keep the circuit closed for all of them.
        ("HUSHPAY__WEBHOOKS__CIRCUIT_BREAKER_FAILURES", "100"),
    ])
    .await;
    let (t, key) = gw.tenant("billing").await;
    let resp = gw
        .client
        .post(gw.url("/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({"url": "http://127.0.0.1:1/hook"}))
        .send()
        .await
        .unwrap();
    let endpoint = json_of(resp, 201).await["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (gw, t.id, key, endpoint)
}

/// Waits until every `(type, id)` in `wanted` reached the endpoint's delivery log.
async fn wait_for_events(
    gw: &TestGateway,
    tenant: &hushpay_store::TenantId,
    endpoint: &str,
    wanted: &[(&str, &str)],
) -> Vec<(String, String)> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let events = delivered(gw, tenant, endpoint).await;
        let all = wanted
            .iter()
            .all(|(t, id)| events.contains(&((*t).to_owned(), (*id).to_owned())));
        if all {
            return events;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{wanted:?} not all in {events:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

async fn audited(gw: &TestGateway, resource: &str) -> Vec<String> {
    gw.state
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.resource == resource)
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn an_authorization_is_captured_in_part_once_then_refunded_within_the_capture() {
    let (gw, tenant, key, endpoint) = gateway_with_endpoint().await;
    let pan = tracer_pan();
    let p = paid(&gw, &key, "authorize", 4200, &pan).await;
    assert_eq!(
        (p["state"].as_str(), p["result"].as_str()),
        (Some("authorized"), Some("success"))
    );
    assert!(p["authorization_code"].as_str().unwrap().starts_with("SBX"));
    let id = p["id"].as_str().unwrap().to_owned();

    // Nothing captured yet: no refund. Agents never move funds.
    assert_error(
        refund(&gw, &key, &id, Some("r0"), &json!({"amount": 1})).await,
        409,
        "invalid_state",
    )
    .await;
    let agent = participant(&gw, &key, "agent-1", "desk-1", "agent").await;
    for (path, body) in [
        ("capture-funds", Some(json!({}))),
        ("void", None),
        ("refunds", Some(json!({"amount": 1}))),
    ] {
        assert_error(
            command(&gw, &id, &agent, path, body).await,
            403,
            "wrong_role",
        )
        .await;
    }

    // Hostile amounts: a clear error, nothing changes.
    for bad in [json!({"amount": 4201}), json!({"amount": 0})] {
        assert_error(
            command(&gw, &id, &key, "capture-funds", Some(bad)).await,
            422,
            "invalid_amount",
        )
        .await;
    }
    for bad in [
        json!({"amount": -5}),
        json!({"amount": "10"}),
        json!({"amount": 1, "x": 1}),
    ] {
        let resp = command(&gw, &id, &key, "capture-funds", Some(bad)).await;
        assert_eq!(resp.status(), 400);
    }
    let still: Value = show(&gw, &id, &key).await.json().await.unwrap();
    assert_eq!(still["payment"]["state"], "authorized");

    // Another tenant's key: the payment does not exist for it.
    let (_other, other_key) = gw.tenant("elsewhere").await;
    for (path, body) in [
        ("capture-funds", Some(json!({}))),
        ("void", None),
        ("refunds", Some(json!({"amount": 1}))),
    ] {
        let resp = if path == "refunds" {
            refund(&gw, &other_key, &id, Some("x"), &body.unwrap()).await
        } else {
            command(&gw, &id, &other_key, path, body).await
        };
        assert_error(resp, 404, "payment_not_found").await;
    }

    // A partial capture, once.
    let captured = json_of(
        command(
            &gw,
            &id,
            &key,
            "capture-funds",
            Some(json!({"amount": 3000})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(captured["payment"]["state"], "captured");
    assert_eq!(captured["payment"]["amount_captured"], 3000);
    assert_error(
        command(&gw, &id, &key, "capture-funds", Some(json!({}))).await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(
        command(&gw, &id, &key, "void", None).await,
        409,
        "invalid_state",
    )
    .await;

    // Refunds: several, idempotent, never above the 3000 captured.
    let first = json_of(
        refund(
            &gw,
            &key,
            &id,
            Some("r1"),
            &json!({"amount": 2000, "reason": "overpaid"}),
        )
        .await,
        201,
    )
    .await;
    let r1 = first["refund"]["id"].as_str().unwrap().to_owned();
    assert!(r1.starts_with("re_"));
    assert_eq!(first["refund"]["state"], "succeeded");
    assert_eq!(
        (
            first["refund"]["amount"].as_u64(),
            first["refund"]["currency"].as_str()
        ),
        (Some(2000), Some("USD"))
    );
    let replay = refund(
        &gw,
        &key,
        &id,
        Some("r1"),
        &json!({"amount": 2000, "reason": "overpaid"}),
    )
    .await;
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    assert_eq!(json_of(replay, 200).await["refund"]["id"], r1.as_str());
    assert_error(
        refund(&gw, &key, &id, Some("r1"), &json!({"amount": 1000})).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    let msg = assert_error(
        refund(&gw, &key, &id, Some("r2"), &json!({"amount": 1001})).await,
        409,
        "refund_exceeds_captured",
    )
    .await;
    assert!(msg.contains("3000") && msg.contains("2000"), "{msg}");
    assert_error(
        refund(&gw, &key, &id, None, &json!({"amount": 1})).await,
        400,
        "idempotency_key_required",
    )
    .await;
    assert_error(
        refund(
            &gw,
            &key,
            &id,
            Some("r3"),
            &json!({"amount": 5, "reason": format!("card {pan}")}),
        )
        .await,
        422,
        "invalid_reason",
    )
    .await;
    assert_error(
        refund(&gw, &key, &id, Some("r4"), &json!({"amount": 0})).await,
        422,
        "invalid_amount",
    )
    .await;
    let last = json_of(
        refund(&gw, &key, &id, Some("r5"), &json!({"amount": 1000})).await,
        201,
    )
    .await;
    let r5 = last["refund"]["id"].as_str().unwrap().to_owned();
    assert_error(
        refund(&gw, &key, &id, Some("r6"), &json!({"amount": 1})).await,
        409,
        "refund_exceeds_captured",
    )
    .await;

    let list = gw
        .client
        .get(gw.url(&format!("/v1/payments/{id}/refunds")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    let list = json_of(list, 200).await;
    let ids: Vec<&str> = list["refunds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [r1.as_str(), r5.as_str()]);
    assert!(
        !list.to_string().contains(&pan[6..]),
        "no card data in refunds"
    );

    let events = wait_for_events(
        &gw,
        &tenant,
        &endpoint,
        &[
            ("payment.succeeded", &id),
            ("payment.captured", &id),
            ("refund.succeeded", &r1),
            ("refund.succeeded", &r5),
        ],
    )
    .await;
    assert!(
        !events.iter().any(|(t, _)| t == "payment.voided"),
        "{events:?}"
    );
    let actions = audited(&gw, &id).await;
    for a in [
        "payment.approved",
        "payment.capture-funds",
        "payment.funds-captured",
    ] {
        assert!(actions.contains(&a.to_owned()), "{a} in {actions:?}");
    }
    assert_eq!(
        audited(&gw, &r1).await,
        ["refund.create", "refund.succeeded"]
    );
}

#[tokio::test]
async fn voids_release_and_refusals_leave_the_authorization_or_fail_the_refund() {
    let (gw, tenant, key, endpoint) = gateway_with_endpoint().await;

    // The sandbox refuses a void of 91.02 and a capture of 91.01: the payment stays
    // authorized, and a capture of another amount goes through.
    let p = paid(&gw, &key, "authorize", 9102, &tracer_pan()).await;
    let stuck = p["id"].as_str().unwrap().to_owned();
    let msg = assert_error(
        command(&gw, &stuck, &key, "void", None).await,
        402,
        "void_declined",
    )
    .await;
    assert!(msg.contains("processing-error"), "{msg}");
    let v: Value = show(&gw, &stuck, &key).await.json().await.unwrap();
    assert_eq!(v["payment"]["state"], "authorized");
    let p = paid(&gw, &key, "authorize", 9101, &tracer_pan()).await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert_error(
        command(&gw, &id, &key, "capture-funds", Some(json!({}))).await,
        402,
        "capture_declined",
    )
    .await;
    let v: Value = show(&gw, &id, &key).await.json().await.unwrap();
    assert_eq!(v["payment"]["state"], "authorized");
    assert!(v["payment"].get("amount_captured").is_none());
    let ok = json_of(
        command(
            &gw,
            &id,
            &key,
            "capture-funds",
            Some(json!({"amount": 9100})),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(ok["payment"]["amount_captured"], 9100);

    // A void releases an authorization; nothing follows it.
    let p = paid(&gw, &key, "authorize", 4200, &tracer_pan()).await;
    let voided = p["id"].as_str().unwrap().to_owned();
    let v = json_of(command(&gw, &voided, &key, "void", None).await, 200).await;
    assert_eq!(v["payment"]["state"], "voided");
    assert_error(
        command(&gw, &voided, &key, "capture-funds", Some(json!({}))).await,
        409,
        "invalid_state",
    )
    .await;
    assert_error(
        refund(&gw, &key, &voided, Some("v1"), &json!({"amount": 1})).await,
        409,
        "invalid_state",
    )
    .await;

    // A charge is refundable at once; a refusal is a failed refund that frees its amount.
    let charge = paid(&gw, &key, "charge", 9103, &tracer_pan()).await;
    assert_eq!(charge["state"], "succeeded");
    let cid = charge["id"].as_str().unwrap().to_owned();
    assert_error(
        command(&gw, &cid, &key, "capture-funds", Some(json!({}))).await,
        409,
        "invalid_state",
    )
    .await;
    let failed = json_of(
        refund(&gw, &key, &cid, Some("c1"), &json!({"amount": 9103})).await,
        201,
    )
    .await;
    assert_eq!(failed["refund"]["state"], "failed");
    assert_eq!(failed["refund"]["error"], "processing-error");
    let rf = failed["refund"]["id"].as_str().unwrap().to_owned();
    let whole = json_of(
        refund(&gw, &key, &cid, Some("c2"), &json!({"amount": 9000})).await,
        201,
    )
    .await;
    assert_eq!(whole["refund"]["state"], "succeeded");
    let tokenized = paid(&gw, &key, "tokenize", 100, &tracer_pan()).await;
    let tid = tokenized["id"].as_str().unwrap();
    assert_error(
        refund(&gw, &key, tid, Some("t1"), &json!({"amount": 1})).await,
        409,
        "invalid_state",
    )
    .await;

    wait_for_events(
        &gw,
        &tenant,
        &endpoint,
        &[
            ("payment.voided", &voided),
            ("refund.failed", &rf),
            ("payment.captured", &id),
        ],
    )
    .await;
    let actions = audited(&gw, &stuck).await;
    for a in ["payment.void", "payment.void-declined"] {
        assert!(actions.contains(&a.to_owned()), "{a} in {actions:?}");
    }
    assert!(
        audited(&gw, &id)
            .await
            .contains(&"payment.capture-declined".to_owned())
    );
    assert_eq!(audited(&gw, &rf).await, ["refund.create", "refund.failed"]);
}

#[tokio::test]
async fn concurrent_refunds_cannot_exceed_the_captured_amount() {
    eight_concurrent_refunds(&TestGateway::start(&[]).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refunds_cannot_exceed_the_captured_amount_on_postgresql() {
    let schema = hushpay_store::ScratchSchema::create("gwrefund")
        .await
        .unwrap();
    let gw = TestGateway::start(&[("HUSHPAY__STORE", schema.url())]).await;
    assert!(format!("{:?}", gw.state.store).starts_with("PgStore"));
    eight_concurrent_refunds(&gw).await;
}

/// Eight refunds of 300 at once against a charge of 1000: exactly three fit.
async fn eight_concurrent_refunds(gw: &TestGateway) {
    let (_t, key) = gw.tenant("rush").await;
    let p = paid(gw, &key, "charge", 1000, &tracer_pan()).await;
    let id = p["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (c, url, key) = (
            gw.client.clone(),
            gw.url(&format!("/v1/payments/{id}/refunds")),
            key.clone(),
        );
        tasks.push(tokio::spawn(async move {
            c.post(url)
                .bearer_auth(key)
                .header("idempotency-key", format!("rush-{i}"))
                .json(&json!({"amount": 300}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        codes.push(t.await.unwrap());
    }
    codes.sort_unstable();
    assert_eq!(
        codes,
        [201, 201, 201, 409, 409, 409, 409, 409],
        "3 × 300 ≤ 1000 < 4 × 300"
    );
}
