//! Payment sessions over HTTP on an in-process gateway: card form and link (sealed cards with
//! a client secret), keypad (digits through the payment service), agent commands,
//! idempotency, and a clear 4xx for bad input on every endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod card_form;
mod changes;
mod expiry;
mod funds;
mod idempotency;
mod ivr;
mod keypad;
mod locale;
mod patient_tokens;
mod three_ds;

use common::TestGateway;
use serde_json::{Value, json};

/// A card-form payment body for `POST /v1/payments`.
pub(crate) fn body(method: &str, mode: &str) -> Value {
    json!({
        "amount": 4200,
        "currency": "USD",
        "reference": "visit-77",
        "mode": mode,
        "method": method,
    })
}

/// `POST /v1/payments` with `credential` and `key` as Idempotency-Key.
pub(crate) async fn create(
    gw: &TestGateway,
    credential: &str,
    key: &str,
    body: &Value,
) -> reqwest::Response {
    gw.client
        .post(gw.url("/v1/payments"))
        .bearer_auth(credential)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap()
}

/// Creates a payment and returns (payment, client secret if any).
pub(crate) async fn created(
    gw: &TestGateway,
    credential: &str,
    body: &Value,
) -> (Value, Option<String>) {
    let key = format!("k-{}", uuid::Uuid::new_v4());
    let resp = create(gw, credential, &key, body).await;
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    let secret = v["client_secret"].as_str().map(str::to_owned);
    (v["payment"].clone(), secret)
}

/// `POST /v1/payments/{id}/card` with `secret` and a sealed card.
pub(crate) async fn submit(
    gw: &TestGateway,
    id: &str,
    secret: &str,
    sealed: &Value,
) -> reqwest::Response {
    gw.client
        .post(gw.url(&format!("/v1/payments/{id}/card")))
        .bearer_auth(secret)
        .json(&json!({ "sealed": sealed }))
        .send()
        .await
        .unwrap()
}

/// `GET /v1/payments/{id}` with `credential`.
pub(crate) async fn show(gw: &TestGateway, id: &str, credential: &str) -> reqwest::Response {
    gw.client
        .get(gw.url(&format!("/v1/payments/{id}")))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap()
}

/// `POST /v1/payments/{id}/{command}` with an optional JSON body.
pub(crate) async fn command(
    gw: &TestGateway,
    id: &str,
    credential: &str,
    command: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = gw
        .client
        .post(gw.url(&format!("/v1/payments/{id}/{command}")))
        .bearer_auth(credential);
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// A participant token for `identity` in `room` with `role`.
pub(crate) async fn participant(
    gw: &TestGateway,
    key: &str,
    identity: &str,
    room: &str,
    role: &str,
) -> String {
    let resp = gw
        .mint(
            key,
            json!({"identity": identity, "room": room, "role": role}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}
