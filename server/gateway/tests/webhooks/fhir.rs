//! FHIR R4 webhooks (issue 17.6): an endpoint registered with `format: "fhir-r4"` gets a
//! `PaymentNotice` for a succeeded charge and for a captured authorization, and a
//! `PaymentReconciliation` for a refund, signed like every delivery and valid FHIR R4 (4.0.1)
//! by `fhir.resources` (scripts/validate-fhir.py), and nothing for a tokenization, a decline,
//! a cancellation or an authorization not yet captured, while a standard endpoint of the same
//! tenant gets every event as before. No card number in either; an unknown format is refused.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hushpay_card::leak_scan::{self, Net, Tracers};
use serde_json::{Value, json};

use crate::common::TestGateway;
use crate::common::cards::tracer_pan;
use crate::common::receiver::Receiver;
use crate::fairness::cancelled_payment;
use crate::{paid, post_json};

/// The interpreter with fhir.resources 6.1.0 (FHIR 4.0.1) that scripts/setup.sh installs.
fn fhir_python() -> PathBuf {
    let tools = std::env::var_os("HUSHPAY_TOOLS_DIR").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cache/hushpay/tools"),
        PathBuf::from,
    );
    tools.join("fhir-resources-6.1.0/bin/python")
}

/// Runs scripts/validate-fhir.py on `file`: (success, output).
fn validate(file: &Path) -> (bool, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/validate-fhir.py");
    let out = Command::new(fhir_python())
        .arg(script)
        .arg(file)
        .output()
        .expect("fhir.resources is installed (scripts/setup.sh)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn events(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

async fn endpoint(gw: &TestGateway, key: &str, receiver: &Receiver, format: Option<&str>) -> Value {
    let mut body = json!({ "url": receiver.url() });
    if let Some(f) = format {
        body["format"] = json!(f);
    }
    let resp = post_json(gw, "/v1/webhooks", key, body).await;
    assert_eq!(resp.status(), 201);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn a_fhir_endpoint_gets_a_valid_payment_notice_for_a_succeeded_charge_only() {
    let gw = TestGateway::start(&[
        ("HUSHPAY__STORE", "sqlite"),
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ])
    .await;
    let (t, key) = gw.tenant("ehr").await;
    let dir = tempfile::tempdir().unwrap();
    let (fhir_out, fhir_secret) = (
        dir.path().join("fhir.jsonl"),
        dir.path().join("fhir-secret"),
    );
    let (std_out, std_secret) = (dir.path().join("std.jsonl"), dir.path().join("std-secret"));
    let fhir_receiver = Receiver::start(&fhir_out, &fhir_secret, 0);
    let std_receiver = Receiver::start(&std_out, &std_secret, 0);
    let created = endpoint(&gw, &key, &fhir_receiver, Some("fhir-r4")).await;
    assert_eq!(created["endpoint"]["format"], "fhir-r4");
    std::fs::write(&fhir_secret, created["secret"].as_str().unwrap()).unwrap();
    let created = endpoint(&gw, &key, &std_receiver, None).await;
    assert_eq!(created["endpoint"]["format"], "standard-webhooks");
    std::fs::write(&std_secret, created["secret"].as_str().unwrap()).unwrap();

    // A charge that succeeds, one declined, a tokenization, a cancellation.
    let pan = tracer_pan();
    let tenant = t.id.as_str();
    let (ok_id, status) = paid(&gw, &key, tenant, None, &pan).await;
    assert_eq!(status, 200);
    paid(&gw, &key, tenant, None, "4000000000000002").await;
    let tokenize = json!({"amount": 100, "currency": "USD", "reference": "save", "mode": "tokenize", "method": "card-form"});
    let (_, status) = paid(&gw, &key, tenant, Some(tokenize), &pan).await;
    assert_eq!(status, 200);
    cancelled_payment(&gw, &key).await;

    // The standard endpoint gets all seven events (four payments end, each card tokenized);
    // by then the FHIR endpoint has had its one.
    let deadline = Instant::now() + Duration::from_secs(20);
    while events(&std_out).len() < 7 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(events(&std_out).len(), 7, "{:?}", events(&std_out));
    while events(&fhir_out).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let fhir = events(&fhir_out);
    assert_eq!(fhir.len(), 1, "one FHIR delivery: {fhir:?}");
    assert_eq!(fhir[0]["content_type"], "application/fhir+json");
    let notice = &fhir[0]["event"];
    assert_eq!(notice["resourceType"], "PaymentNotice");
    assert_eq!(notice["identifier"][0]["value"], ok_id.as_str());
    assert_eq!(notice["amount"], json!({"value": 9.9, "currency": "GBP"}));
    assert_eq!(notice["recipient"]["identifier"]["value"], t.id.as_str());
    assert_eq!(notice["request"]["identifier"]["value"], "r");
    assert_eq!(notice["paymentStatus"]["coding"][0]["code"], "paid");
    // The same event id as the standard delivery of payment.succeeded (one event, two forms).
    let std_events = events(&std_out);
    let succeeded = std_events
        .iter()
        .find(|e| {
            e["event"]["type"] == "payment.succeeded" && e["event"]["data"]["id"] == ok_id.as_str()
        })
        .unwrap();
    assert_eq!(fhir[0]["id"], succeeded["id"]);

    // Valid FHIR R4 by an independent validator (and the validator refuses a broken copy).
    let file = dir.path().join("notice.json");
    std::fs::write(&file, notice.to_string()).unwrap();
    let (ok, text) = validate(&file);
    assert!(ok, "{text}");
    let mut broken = notice.clone();
    broken.as_object_mut().unwrap().remove("amount");
    std::fs::write(&file, broken.to_string()).unwrap();
    let (ok, text) = validate(&file);
    assert!(!ok && text.contains("amount"), "control: {text}");

    // An authorization: nothing until captured (in part), then a PaymentNotice of what was
    // captured; a refund of part of it: a PaymentReconciliation. All valid FHIR R4.
    let authorize = json!({"amount": 990, "currency": "GBP", "reference": "INV-9", "mode": "authorize", "method": "card-form"});
    let (auth_id, status) = paid(&gw, &key, tenant, Some(authorize), &pan).await;
    assert_eq!(status, 200);
    let r = post_json(
        &gw,
        &format!("/v1/payments/{auth_id}/capture-funds"),
        &key,
        json!({"amount": 500}),
    )
    .await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let r = gw
        .client
        .post(gw.url(&format!("/v1/payments/{auth_id}/refunds")))
        .bearer_auth(&key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"amount": 200}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let deadline = Instant::now() + Duration::from_secs(20);
    while events(&fhir_out).len() < 3 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let fhir = events(&fhir_out);
    assert_eq!(fhir.len(), 3, "{fhir:?}");
    let of = |kind: &str, id: &str| {
        fhir.iter()
            .map(|e| &e["event"])
            .find(|r| r["resourceType"] == kind && r.to_string().contains(id))
            .unwrap_or_else(|| panic!("a {kind} for {id}: {fhir:?}"))
            .clone()
    };
    let captured = &of("PaymentNotice", &auth_id);
    assert_eq!(captured["resourceType"], "PaymentNotice");
    assert_eq!(captured["identifier"][0]["value"], auth_id.as_str());
    // (amounts compared as numbers: the receiver, JavaScript, writes 5.0 as 5)
    let money = |m: &Value| {
        (
            m["value"].as_f64().unwrap(),
            m["currency"].as_str().unwrap().to_owned(),
        )
    };
    assert_eq!(money(&captured["amount"]), (5.0, "GBP".to_owned()));
    let refunded = &of("PaymentReconciliation", &auth_id);
    assert_eq!(refunded["resourceType"], "PaymentReconciliation");
    assert_eq!(refunded["outcome"], "complete");
    assert_eq!(money(&refunded["paymentAmount"]), (2.0, "GBP".to_owned()));
    assert_eq!(
        money(&refunded["detail"][0]["amount"]),
        (-2.0, "GBP".to_owned())
    );
    assert_eq!(
        refunded["detail"][0]["request"]["identifier"]["value"],
        auth_id.as_str()
    );
    let all = dir.path().join("all.jsonl");
    let lines: Vec<String> = fhir.iter().map(|e| e["event"].to_string()).collect();
    std::fs::write(&all, lines.join("\n")).unwrap();
    let (ok, text) = validate(&all);
    assert!(ok, "{text}");
    assert_eq!(text.matches("ok ").count(), 3, "{text}");

    // No card number in anything either receiver got.
    let mut tracers = Tracers::new();
    tracers.add("pan", &pan).unwrap();
    for out in [&fhir_out, &std_out] {
        let bodies = std::fs::read(out).unwrap();
        assert!(leak_scan::scan(&tracers, &bodies, Net::KnownBrands).is_empty());
    }

    // An unknown format is refused; nothing is registered.
    let resp = post_json(
        &gw,
        "/v1/webhooks",
        &key,
        json!({"url": fhir_receiver.url(), "format": "hl7v2"}),
    )
    .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
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
    assert_eq!(listed["endpoints"].as_array().unwrap().len(), 2);
}
