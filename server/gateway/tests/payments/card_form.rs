//! Card-form and link payments: client secret, patient view, sealed submission, results,
//! second use.

use serde_json::Value;

use crate::common::cards::{seal, tracer_pan, vault_key};
use crate::common::{TestGateway, assert_error};
use crate::{body, created, show, submit};

#[tokio::test]
async fn a_card_form_charge_succeeds_once_and_the_patient_sees_only_what_it_needs() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (pk, kid) = vault_key(&gw).await;
    let (payment, secret) = created(&gw, &key, &body("card-form", "charge")).await;
    let secret = secret.expect("card-form payments get a client secret");
    assert!(secret.starts_with("pcs_") && secret.len() == 36);
    assert_eq!(payment["state"], "requested");
    let id = payment["id"].as_str().unwrap();

    // The patient's view: amount, currency, reference, fields, brands, state; nothing else.
    let view: Value = show(&gw, id, &secret).await.json().await.unwrap();
    let mut keys: Vec<_> = view["payment"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "allowed_brands",
            "amount",
            "currency",
            "locale",
            "reference",
            "required_fields",
            "state"
        ]
    );

    let pan = tracer_pan();
    let sealed = seal(&pk, &kid, t.id.as_str(), id, &pan, Some("737"), None);
    let resp = submit(&gw, id, &secret, &sealed).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(&pan));
    let done: Value = serde_json::from_str(&text).unwrap();
    let p = &done["payment"];
    assert_eq!(p["state"], "succeeded");
    assert_eq!(p["result"], "success");
    assert_eq!(p["card"]["last4"], &pan[12..]);
    assert_eq!(p["card"]["brand"], "visa");
    assert!(p["card"]["token"].as_str().unwrap().starts_with("tok_"));
    assert!(p["authorization_code"].as_str().unwrap().starts_with("SBX"));

    // Second use of the client secret.
    let again = submit(&gw, id, &secret, &sealed).await;
    assert_error(again, 409, "payment_already_completed").await;
    // The tenant sees the full masked payment.
    let full: Value = show(&gw, id, &key).await.json().await.unwrap();
    assert_eq!(full["payment"]["card"]["last4"], &pan[12..]);
    // The token exists and is the tenant's.
    let token = p["card"]["token"].as_str().unwrap();
    let meta = gw
        .client
        .get(gw.url(&format!("/v1/tokens/{token}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(meta.status(), 200);
}

#[tokio::test]
async fn a_used_link_answers_410_and_shows_its_state() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (pk, kid) = vault_key(&gw).await;
    let (payment, secret) = created(&gw, &key, &body("link", "tokenize")).await;
    let (id, secret) = (payment["id"].as_str().unwrap(), secret.unwrap());
    let sealed = seal(
        &pk,
        &kid,
        t.id.as_str(),
        id,
        &tracer_pan(),
        Some("123"),
        None,
    );
    let done: Value = submit(&gw, id, &secret, &sealed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["payment"]["state"], "succeeded");
    assert!(
        done["payment"].get("authorization_code").is_none(),
        "tokenize only"
    );
    assert_error(
        submit(&gw, id, &secret, &sealed).await,
        410,
        "payment_link_used",
    )
    .await;
    let view: Value = show(&gw, id, &secret).await.json().await.unwrap();
    assert_eq!(view["payment"]["state"], "succeeded");
}

#[tokio::test]
async fn declines_and_refused_cards_end_with_twilio_results() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (pk, kid) = vault_key(&gw).await;

    // Sandbox decline cards.
    for (card, error) in [
        ("4000000000000002", "card-declined"),
        ("4000000000009995", "insufficient-funds"),
        ("4000000000000127", "invalid-security-code"),
        ("4000000000000119", "processing-error"),
    ] {
        let (payment, secret) = created(&gw, &key, &body("card-form", "charge")).await;
        let id = payment["id"].as_str().unwrap();
        let sealed = seal(&pk, &kid, t.id.as_str(), id, card, Some("123"), None);
        let done: Value = submit(&gw, id, &secret.unwrap(), &sealed)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(done["payment"]["state"], "failed", "{card}");
        assert_eq!(done["payment"]["result"], "payment-connector-error");
        assert_eq!(done["payment"]["error"], error);
    }

    // A brand outside `allowed_brands` counts an attempt; two of them fail the payment.
    let mut b = body("card-form", "charge");
    b["allowed_brands"] = serde_json::json!(["mastercard"]);
    b["attempts"] = serde_json::json!(2);
    let (payment, secret) = created(&gw, &key, &b).await;
    let (id, secret) = (payment["id"].as_str().unwrap(), secret.unwrap());
    let sealed = seal(
        &pk,
        &kid,
        t.id.as_str(),
        id,
        &tracer_pan(),
        Some("123"),
        None,
    );
    assert_error(
        submit(&gw, id, &secret, &sealed).await,
        422,
        "card_rejected",
    )
    .await;
    let view: Value = show(&gw, id, &key).await.json().await.unwrap();
    assert_eq!(view["payment"]["state"], "requested");
    assert_eq!(view["payment"]["failed_attempts"], 1);
    assert_eq!(view["payment"]["error"], "brand-not-allowed");
    assert_error(
        submit(&gw, id, &secret, &sealed).await,
        422,
        "card_rejected",
    )
    .await;
    let view: Value = show(&gw, id, &key).await.json().await.unwrap();
    assert_eq!(view["payment"]["state"], "failed");
    assert_eq!(view["payment"]["result"], "too-many-failed-attempts");

    // A required security code that is missing.
    let (payment, secret) = created(&gw, &key, &body("card-form", "charge")).await;
    let id = payment["id"].as_str().unwrap();
    let sealed = seal(&pk, &kid, t.id.as_str(), id, &tracer_pan(), None, None);
    let msg = assert_error(
        submit(&gw, id, &secret.unwrap(), &sealed).await,
        422,
        "card_rejected",
    )
    .await;
    assert!(msg.contains("security-code-missing"), "{msg}");
}

#[tokio::test]
async fn cancelled_and_expired_payments_refuse_cards() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (pk, kid) = vault_key(&gw).await;
    let (payment, secret) = created(&gw, &key, &body("card-form", "charge")).await;
    let (id, secret) = (payment["id"].as_str().unwrap(), secret.unwrap());
    let cancelled: Value = crate::command(&gw, id, &key, "cancel", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cancelled["payment"]["state"], "cancelled");
    assert_eq!(cancelled["payment"]["result"], "cancelled");
    let sealed = seal(
        &pk,
        &kid,
        t.id.as_str(),
        id,
        &tracer_pan(),
        Some("123"),
        None,
    );
    assert_error(
        submit(&gw, id, &secret, &sealed).await,
        409,
        "payment_already_completed",
    )
    .await;
    assert_error(
        crate::command(&gw, id, &key, "cancel", None).await,
        409,
        "invalid_state",
    )
    .await;
}
