//! A clear 4xx with a JSON error for bad input on every payment endpoint, never a 5xx.

use serde_json::{Value, json};

use crate::common::cards::{seal, tracer_pan, vault_key};
use crate::common::{TestGateway, assert_error};
use crate::{body, command, create, created, participant, show, submit};

#[tokio::test]
async fn create_refuses_bad_input_with_clear_codes() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let url = gw.url("/v1/payments");
    let raw = |text: &'static str| {
        gw.client
            .post(&url)
            .bearer_auth(&key)
            .header("idempotency-key", "k")
            .header("content-type", "application/json")
            .body(text)
            .send()
    };
    assert_error(raw("{\"amount\": ").await.unwrap(), 400, "malformed_json").await;
    assert_error(raw("[1,2]").await.unwrap(), 400, "invalid_request").await;
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = body("card-form", "charge");
        f(&mut b);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(&|b| b["amount"] = json!("4200")),
            400,
            "invalid_request",
        ),
        (with(&|b| b["amount"] = json!(-1)), 400, "invalid_request"),
        (with(&|b| b["amount"] = json!(1.5)), 400, "invalid_request"),
        (
            with(&|b| b["amount"] = json!(u64::MAX)),
            422,
            "invalid_amount",
        ),
        (with(&|b| b["amount"] = json!(0)), 422, "invalid_amount"),
        (
            with(&|b| b["currency"] = json!("usd")),
            422,
            "invalid_currency",
        ),
        (
            with(&|b| b["currency"] = json!("ZZZ")),
            422,
            "invalid_currency",
        ),
        (
            with(&|b| b["reference"] = json!("")),
            422,
            "invalid_reference",
        ),
        (
            with(&|b| b["reference"] = json!("pan 4111 1111 1111 1111")),
            422,
            "invalid_reference",
        ),
        (
            with(&|b| b["mode"] = json!("refund")),
            400,
            "invalid_request",
        ),
        (
            with(&|b| b["method"] = json!("fax")),
            400,
            "invalid_request",
        ),
        (
            with(&|b| b["required_fields"] = json!(["cvv"])),
            400,
            "invalid_request",
        ),
        (
            with(&|b| b["required_fields"] = json!(["security-code"])),
            422,
            "invalid_required_fields",
        ),
        (
            with(&|b| b["allowed_brands"] = json!(["bogus"])),
            422,
            "invalid_allowed_brands",
        ),
        (with(&|b| b["attempts"] = json!(9)), 422, "invalid_attempts"),
        (
            with(&|b| b["attempts"] = json!(300)),
            400,
            "invalid_request",
        ),
        (with(&|b| b["timeout"] = json!(1)), 422, "invalid_timeout"),
        (with(&|b| b["room"] = json!("")), 422, "invalid_room"),
        (
            with(&|b| b["pan"] = json!("4111111111111111")),
            400,
            "invalid_request",
        ),
        (
            with(&|b| {
                b.as_object_mut().unwrap().remove("currency");
            }),
            400,
            "invalid_request",
        ),
    ];
    for (i, (b, status, code)) in cases.into_iter().enumerate() {
        let resp = create(&gw, &key, &format!("bad-{i}"), &b).await;
        let msg = assert_error(resp, status, code).await;
        assert!(!msg.contains("4111"), "no input echoed: {msg}");
    }
    // Idempotency-Key missing or malformed.
    let no_key = gw
        .client
        .post(&url)
        .bearer_auth(&key)
        .json(&body("card-form", "charge"))
        .send()
        .await
        .unwrap();
    assert_error(no_key, 400, "idempotency_key_required").await;
    let bad_key = create(&gw, &key, "has space", &body("card-form", "charge")).await;
    assert_error(bad_key, 400, "invalid_idempotency_key").await;
    // Credentials.
    let anon = gw.client.post(&url).json(&json!({})).send().await.unwrap();
    assert_error(anon, 401, "missing_credentials").await;
    let wrong = create(&gw, "hpk_nope", "k", &body("card-form", "charge")).await;
    assert_error(wrong, 401, "invalid_api_key").await;
    let patient = participant(&gw, &key, "pat-1", "r1", "patient").await;
    let refused = create(&gw, &patient, "k", &body("keypad", "charge")).await;
    assert_error(refused, 403, "missing_grant").await;
    let agent = participant(&gw, &key, "agent-1", "r1", "agent").await;
    let mut other_room = body("keypad", "charge");
    other_room["room"] = json!("r2");
    assert_error(
        create(&gw, &agent, "k2", &other_room).await,
        403,
        "wrong_room",
    )
    .await;
}

#[tokio::test]
async fn reads_commands_and_card_submission_refuse_bad_input() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (_o, other_key) = gw.tenant("other").await;
    let (pk, kid) = vault_key(&gw).await;
    let (payment, secret) = created(&gw, &key, &body("card-form", "charge")).await;
    let (id, secret) = (payment["id"].as_str().unwrap(), secret.unwrap());

    // Reads: unknown id, another tenant, a bad client secret.
    assert_error(show(&gw, "pay_nope", &key).await, 404, "payment_not_found").await;
    assert_error(
        show(&gw, "4111111111111111", &key).await,
        404,
        "payment_not_found",
    )
    .await;
    assert_error(show(&gw, id, &other_key).await, 404, "payment_not_found").await;
    assert_error(
        show(&gw, id, "pcs_wrong").await,
        401,
        "invalid_client_secret",
    )
    .await;
    let (other_payment, other_secret) = created(&gw, &key, &body("card-form", "charge")).await;
    assert_error(
        show(&gw, id, other_secret.as_deref().unwrap()).await,
        401,
        "invalid_client_secret",
    )
    .await;

    // An agent of another room, or without the grant, may not act on it.
    let agent = participant(&gw, &key, "agent-9", "elsewhere", "agent").await;
    assert_error(show(&gw, id, &agent).await, 403, "wrong_payment").await;

    // Card submission.
    let good = seal(
        &pk,
        &kid,
        t.id.as_str(),
        id,
        &tracer_pan(),
        Some("123"),
        None,
    );
    assert_error(
        submit(&gw, id, "pcs_wrong", &good).await,
        401,
        "invalid_client_secret",
    )
    .await;
    assert_error(
        submit(&gw, id, &key, &good).await,
        401,
        "invalid_client_secret",
    )
    .await;
    let other_id = other_payment["id"].as_str().unwrap();
    let rebound = submit(&gw, other_id, other_secret.as_deref().unwrap(), &good).await;
    assert_error(rebound, 400, "sealed_card_unreadable").await;
    let foreign = seal(
        &pk,
        &kid,
        "ten_someone_else",
        id,
        &tracer_pan(),
        Some("123"),
        None,
    );
    assert_error(
        submit(&gw, id, &secret, &foreign).await,
        400,
        "sealed_card_unreadable",
    )
    .await;
    let mut wrong_kid = good.clone();
    wrong_kid["kid"] = json!("vault-0000");
    assert_error(
        submit(&gw, id, &secret, &wrong_kid).await,
        400,
        "unknown_kid",
    )
    .await;
    let card_url = gw.url(&format!("/v1/payments/{id}/card"));
    for junk in [
        json!({}),
        json!({"sealed": "x"}),
        json!({"sealed": good, "pan": "4111111111111111"}),
        json!([1]),
    ] {
        let r = gw
            .client
            .post(&card_url)
            .bearer_auth(&secret)
            .json(&junk)
            .send()
            .await
            .unwrap();
        assert_error(r, 400, "invalid_request").await;
    }
    let r = gw
        .client
        .post(&card_url)
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body("{\"sealed\":")
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "malformed_json").await;
    let huge = "x".repeat(100_000);
    let r = gw
        .client
        .post(&card_url)
        .bearer_auth(&secret)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_error(r, 413, "body_too_large").await;

    // Commands: keypad commands on a card-form payment, unknown fields, other tenants.
    let cap = command(
        &gw,
        id,
        &key,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    assert_error(cap, 409, "not_keypad").await;
    let cap = command(&gw, id, &key, "capture", Some(json!({"field": "pin"}))).await;
    assert_error(cap, 400, "invalid_request").await;
    let cap = command(&gw, id, &key, "capture", None).await;
    assert_error(cap, 415, "unsupported_media_type").await;
    assert_error(
        command(&gw, id, &other_key, "cancel", None).await,
        404,
        "payment_not_found",
    )
    .await;
    assert_error(
        command(&gw, id, &key, "complete", None).await,
        409,
        "not_keypad",
    )
    .await;
    assert_error(
        command(&gw, id, &key, "refund", None).await,
        404,
        "not_found",
    )
    .await;

    // Still usable after all that: the good card goes through once.
    let done: Value = submit(&gw, id, &secret, &good).await.json().await.unwrap();
    assert_eq!(done["payment"]["state"], "succeeded");
    assert_eq!(done["payment"]["failed_attempts"], 0);
}
