//! A payment's `locale` through the HTTP API: normalised and returned (to the tenant and to
//! the patient's page), unsupported ones refused with `422 invalid_locale` without using up
//! the idempotency key, part of the idempotent request, and defaulted from the tenant's
//! `default_locale` (PATCH /v1/tenants/{tenant}, itself validated) or English.

use serde_json::{Value, json};

use crate::common::{TestGateway, assert_error};
use crate::{body, create, created, show};

async fn patch_tenant(gw: &TestGateway, key: &str, tenant: &str, body: Value) -> reqwest::Response {
    gw.client
        .patch(gw.url(&format!("/v1/tenants/{tenant}")))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn with_locale(method: &str, locale: &str) -> Value {
    let mut b = body(method, "charge");
    b["locale"] = json!(locale);
    b
}

#[tokio::test]
async fn the_locale_is_normalised_returned_and_unsupported_ones_refused() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let (payment, secret) = created(&gw, &key, &with_locale("card-form", "ES-us")).await;
    assert_eq!(payment["locale"], "es-US");
    let id = payment["id"].as_str().unwrap();
    let shown: Value = show(&gw, id, &key).await.json().await.unwrap();
    assert_eq!(shown["payment"]["locale"], "es-US");
    let patient: Value = show(&gw, id, &secret.unwrap()).await.json().await.unwrap();
    assert_eq!(
        patient["payment"]["locale"], "es-US",
        "the pay page and card form get it"
    );
    let (english, _) = created(&gw, &key, &body("link", "charge")).await;
    assert_eq!(english["locale"], "en", "default");

    for bad in [
        "fr",
        "es-",
        "es_US",
        "zh-Hant-TW",
        "",
        "español",
        "es-US-x-private",
    ] {
        let resp = create(&gw, &key, "locale-bad", &with_locale("card-form", bad)).await;
        let message = assert_error(resp, 422, "invalid_locale").await;
        assert!(message.contains("en, es"), "{message}");
    }
    // Wrong type: a clear JSON error, nothing created.
    let mut wrong = body("card-form", "charge");
    wrong["locale"] = json!(7);
    let resp = create(&gw, &key, "locale-bad", &wrong).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    // The refusals used nothing up: the key still creates, and the locale is part of the
    // request (the same key with another locale is another request).
    let resp = create(&gw, &key, "locale-bad", &with_locale("card-form", "es")).await;
    assert_eq!(resp.status(), 201);
    let replay = create(&gw, &key, "locale-bad", &with_locale("card-form", "es")).await;
    assert_eq!(replay.status(), 200);
    let other = create(&gw, &key, "locale-bad", &with_locale("card-form", "en")).await;
    assert_error(other, 422, "idempotency_key_reused").await;
}

#[tokio::test]
async fn a_tenant_default_locale_applies_to_payments_that_name_none() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinica").await;
    let tenant = t.id.as_str();
    let profile: Value = gw
        .client
        .get(gw.url(&format!("/v1/tenants/{tenant}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(profile["default_locale"], "en");

    let resp = patch_tenant(&gw, &key, tenant, json!({"default_locale": "klingon"})).await;
    assert_error(resp, 422, "invalid_locale").await;
    let resp = patch_tenant(&gw, &key, tenant, json!({"default_locale": "es-us"})).await;
    assert_eq!(resp.status(), 200);
    let profile: Value = resp.json().await.unwrap();
    assert_eq!(profile["default_locale"], "es-US");

    let (p, _) = created(&gw, &key, &body("card-form", "charge")).await;
    assert_eq!(p["locale"], "es-US", "the tenant's default");
    let (p, _) = created(&gw, &key, &with_locale("card-form", "en")).await;
    assert_eq!(p["locale"], "en", "a payment's own locale wins");

    // Another tenant is untouched.
    let (_o, other_key) = gw.tenant("other").await;
    let (p, _) = created(&gw, &other_key, &body("card-form", "charge")).await;
    assert_eq!(p["locale"], "en");
}
