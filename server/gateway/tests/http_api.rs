//! The HTTP API end to end against an in-process gateway: health, metrics, token minting,
//! JWKS verification, credentials and tenant binding, and hostile input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestGateway, assert_error};
use jsonwebtoken::{DecodingKey, Validation, jwk::JwkSet};
use serde_json::{Value, json};

fn agent(room: &str) -> Value {
    json!({ "identity": "agent-7", "room": room, "role": "agent" })
}

#[tokio::test]
async fn health_readiness_and_metrics_answer() {
    let gw = TestGateway::start(&[]).await;
    let r = gw.client.get(gw.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers().contains_key("x-request-id"),
        "request ids are propagated"
    );
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "ok");
    let r = gw.client.get(gw.url("/readyz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let text = gw
        .client
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("# TYPE hushpay_http_requests_total counter"),
        "{text}"
    );
    assert!(
        text.contains("route=\"/healthz\",status=\"200\"} 1"),
        "{text}"
    );
}

/// Issue 12, finding 7: with `[server] metrics_token_file`, `/metrics` (every tenant's
/// counters, and when keys are pressed) answers only the operator's bearer token; with
/// `metrics_listen` it is not on the public listener at all. Before the fix it answered anyone.
#[tokio::test]
async fn metrics_need_the_operators_token_or_their_own_listener() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("metrics-token");
    let token = "mtok-0123456789abcdef0123456789abcdef";
    std::fs::write(&file, format!("{token}\n")).unwrap();
    let gw = TestGateway::start(&[(
        "HUSHPAY__SERVER__METRICS_TOKEN_FILE",
        file.to_str().unwrap(),
    )])
    .await;
    let (_t, key) = gw.tenant("metrics").await;
    let get = |auth: Option<String>| {
        let mut req = gw.client.get(gw.url("/metrics"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    assert_error(get(None).await.unwrap(), 401, "unauthorized").await;
    for wrong in [
        format!("Bearer {token}x"),
        format!("Bearer {}", &token[..token.len() - 1]),
        format!("Bearer {key}"),
        format!("Basic {token}"),
        "Bearer ".to_owned(),
    ] {
        assert_error(get(Some(wrong)).await.unwrap(), 401, "unauthorized").await;
    }
    let ok = get(Some(format!("Bearer {token}"))).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert!(
        ok.text()
            .await
            .unwrap()
            .contains("hushpay_http_requests_total")
    );

    let own = TestGateway::start(&[("HUSHPAY__SERVER__METRICS_LISTEN", "127.0.0.1:0")]).await;
    let r = own.client.get(own.url("/metrics")).send().await.unwrap();
    assert_error(r, 404, "not_found").await;
}

#[tokio::test]
async fn a_minted_token_verifies_against_the_published_jwks() {
    let gw = TestGateway::start(&[]).await;
    let (tenant, key) = gw.tenant("acme").await;
    let r = gw.mint(&key, agent("room-1")).await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    assert_eq!(body["tenant"], tenant.id.as_str());
    assert_eq!(body["grants"]["canRequestPayment"], true);

    let jwks: JwkSet = gw
        .client
        .get(gw.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid is published");
    let mut validation = Validation::new(jsonwebtoken::Algorithm::EdDSA);
    validation.set_audience(&["hushpay"]);
    validation.set_issuer(&["hushpay"]);
    validation.set_required_spec_claims(&["exp", "aud", "iss", "sub"]);
    let data =
        jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
            .unwrap();
    let c = data.claims;
    assert_eq!(c["sub"], "agent-7");
    assert_eq!(c["room"], "room-1");
    assert_eq!(c["role"], "agent");
    assert_eq!(c["tenant"], tenant.id.as_str());
    let (iat, exp) = (c["iat"].as_u64().unwrap(), c["exp"].as_u64().unwrap());
    assert_eq!(exp - iat, 600, "default lifetime is 10 minutes");
    for claim in ["nbf", "jti"] {
        assert!(c.get(claim).is_some(), "{claim}");
    }
    let text = gw
        .client
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("hushpay_access_tokens_minted_total 1"),
        "{text}"
    );
}

#[tokio::test]
async fn lifetimes_are_capped_and_grants_can_be_narrowed() {
    let gw = TestGateway::start(&[("HUSHPAY__AUTH__MAX_TTL_SECS", "900")]).await;
    let (_, key) = gw.tenant("acme").await;
    let r = gw
        .mint(
            &key,
            json!({"identity":"p","room":"r","role":"patient","ttl_secs":901}),
        )
        .await;
    assert_error(r, 400, "ttl_too_long").await;
    let grants = json!({"canPublish":false,"canSubscribe":true,"canChat":false,
                        "canRequestPayment":false,"canViewRecordings":false});
    let r = gw
        .mint(
            &key,
            json!({"identity":"p","room":"r","role":"patient","ttl_secs":900,"grants":grants}),
        )
        .await;
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["grants"], grants);
    assert_eq!(
        body["expires_at"].as_u64().unwrap() - hushpay_auth::unix_now(),
        900
    );
}

#[tokio::test]
async fn bad_missing_and_revoked_api_keys_are_401() {
    let gw = TestGateway::start(&[]).await;
    let (tenant, key) = gw.tenant("acme").await;
    let send = |auth: Option<String>| {
        let mut req = gw
            .client
            .post(gw.url("/v1/access-tokens"))
            .json(&agent("r"));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.send()
    };
    assert_error(send(None).await.unwrap(), 401, "missing_credentials").await;
    assert_error(
        send(Some("Basic abc".into())).await.unwrap(),
        401,
        "malformed_credentials",
    )
    .await;
    let mut wrong = key.clone();
    wrong.replace_range(wrong.len() - 3.., "zzz");
    assert_error(
        send(Some(format!("Bearer {wrong}"))).await.unwrap(),
        401,
        "invalid_api_key",
    )
    .await;
    assert_error(
        send(Some("Bearer hpk_nope".into())).await.unwrap(),
        401,
        "invalid_api_key",
    )
    .await;
    let huge = format!("Bearer hpk_{}", "a".repeat(6000));
    assert_error(send(Some(huge)).await.unwrap(), 401, "invalid_api_key").await;

    // A participant JWT cannot mint tokens.
    let token: Value = gw.mint(&key, agent("r")).await.json().await.unwrap();
    let jwt = token["token"].as_str().unwrap();
    assert_error(
        send(Some(format!("Bearer {jwt}"))).await.unwrap(),
        401,
        "invalid_api_key",
    )
    .await;

    let record = hushpay::tenants::authenticate_api_key(gw.state.store.as_ref(), &key)
        .await
        .unwrap();
    assert!(
        gw.state
            .store
            .revoke_api_key(&tenant.id, &record.id, 1)
            .await
            .unwrap()
    );
    let r = send(Some(format!("Bearer {key}"))).await.unwrap();
    let message = assert_error(r, 401, "revoked_api_key").await;
    assert!(!message.contains(&key), "errors never echo credentials");
    let text = gw
        .client
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("hushpay_auth_failures_total{code=\"revoked_api_key\"} 1"),
        "{text}"
    );
}

#[tokio::test]
async fn credentials_are_bound_to_their_tenant() {
    let gw = TestGateway::start(&[]).await;
    let (a, key_a) = gw.tenant("tenant-a").await;
    let (b, key_b) = gw.tenant("tenant-b").await;

    let r = gw
        .client
        .get(gw.url(&format!("/v1/tenants/{}", a.id)))
        .bearer_auth(&key_a);
    let body: Value = r.send().await.unwrap().json().await.unwrap();
    assert_eq!(body["name"], "tenant-a");
    let r = gw
        .client
        .get(gw.url(&format!("/v1/tenants/{}", b.id)))
        .bearer_auth(&key_a);
    assert_error(r.send().await.unwrap(), 403, "wrong_tenant").await;

    let mut body = agent("r");
    body["tenant"] = json!(b.id.as_str());
    assert_error(gw.mint(&key_a, body).await, 403, "wrong_tenant").await;

    // Tenant A's participant token is useless on tenant B.
    let minted: Value = gw.mint(&key_a, agent("r")).await.json().await.unwrap();
    let jwt_a = minted["token"].as_str().unwrap();
    let r = gw
        .client
        .get(gw.url(&format!("/v1/tenants/{}", b.id)))
        .bearer_auth(jwt_a);
    assert_error(r.send().await.unwrap(), 403, "wrong_tenant").await;
    let r = gw
        .client
        .get(gw.url(&format!("/v1/tenants/{}", a.id)))
        .bearer_auth(jwt_a);
    assert_eq!(r.send().await.unwrap().status(), 200);
    let _ = key_b;
}

#[tokio::test]
async fn forged_participant_tokens_are_401() {
    use base64::Engine;
    let gw = TestGateway::start(&[]).await;
    let (a, key_a) = gw.tenant("acme").await;
    let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    let minted: Value = gw.mint(&key_a, agent("r")).await.json().await.unwrap();
    let good = minted["token"].as_str().unwrap();
    let payload = good.split('.').nth(1).unwrap();
    let none = format!("{}.{payload}.", b64(&json!({"alg":"none","typ":"JWT"})));
    let url = gw.url(&format!("/v1/tenants/{}", a.id));
    let r = gw.client.get(&url).bearer_auth(&none).send().await.unwrap();
    assert_error(r, 401, "algorithm_not_allowed").await;
    let mut tampered = good.to_owned();
    tampered.truncate(good.len() - 4);
    let r = gw
        .client
        .get(&url)
        .bearer_auth(&tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let big = format!("{}.{}.x", "a".repeat(40_000), "b".repeat(30_000));
    let r = gw.client.get(&url).bearer_auth(&big).send().await.unwrap();
    assert_error(r, 401, "token_too_large").await;
}

#[tokio::test]
async fn hostile_bodies_and_routes_get_clear_json_errors() {
    let gw = TestGateway::start(&[("HUSHPAY__SERVER__BODY_LIMIT_BYTES", "2048")]).await;
    let (_, key) = gw.tenant("acme").await;
    let post = |body: String, ct: Option<&str>| {
        let mut req = gw
            .client
            .post(gw.url("/v1/access-tokens"))
            .bearer_auth(&key)
            .body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    let json_ct = Some("application/json");
    let m = assert_error(
        post("{\"identity\":".into(), json_ct).await.unwrap(),
        400,
        "malformed_json",
    )
    .await;
    assert!(m.contains("not valid JSON"), "{m}");
    let r = post(
        r#"{"identity":"4111111111111111","room":"r","role":"ceo"}"#.into(),
        json_ct,
    );
    let m = assert_error(r.await.unwrap(), 400, "invalid_request").await;
    assert!(
        !m.contains("ceo") && !m.contains("4111"),
        "submitted values are not echoed: {m}"
    );
    let r = post(
        r#"{"identity":"a","room":"r","role":"agent","extra":1}"#.into(),
        json_ct,
    );
    assert_error(r.await.unwrap(), 400, "invalid_request").await;
    let r = post(
        r#"{"identity":"a b","room":"r","role":"agent"}"#.into(),
        json_ct,
    );
    assert_eq!(r.await.unwrap().status(), 400);
    assert_error(
        post(agent("r").to_string(), None).await.unwrap(),
        415,
        "unsupported_media_type",
    )
    .await;
    let big = json!({"identity":"a","room":"x".repeat(4000),"role":"agent"}).to_string();
    assert_error(post(big, json_ct).await.unwrap(), 413, "body_too_large").await;
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert_eq!(
        post(deep, json_ct).await.unwrap().status().as_u16() / 100,
        4
    );
    let r = gw.client.get(gw.url("/v1/nope")).send().await.unwrap();
    assert_error(r, 404, "not_found").await;
    let r = gw
        .client
        .get(gw.url("/v1/access-tokens"))
        .send()
        .await
        .unwrap();
    assert_error(r, 405, "method_not_allowed").await;
    // Still serving after all of that.
    assert_eq!(
        gw.client
            .get(gw.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// Issue 16: `GET /v1/rtc` without a WebSocket upgrade (or with a repeated `access_token`)
/// answered axum's plain-text rejection, breaking "errors are always JSON" and the OpenAPI
/// document; it now answers a JSON error with its own code.
#[tokio::test]
async fn the_signalling_route_refuses_plain_requests_with_json_errors() {
    let gw = TestGateway::start(&[]).await;
    let r = gw.client.get(gw.url("/v1/rtc")).send().await.unwrap();
    let m = assert_error(r, 400, "websocket_upgrade_required").await;
    assert!(m.contains("signalling WebSocket"), "{m}");
    let r = gw
        .client
        .get(gw.url("/v1/rtc?access_token=a&access_token=b"))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_request").await;
}

/// Issue 16: the served OpenAPI document is the checked-in docs/openapi.json.
#[tokio::test]
async fn the_openapi_document_is_served() {
    let gw = TestGateway::start(&[]).await;
    let r = gw
        .client
        .get(gw.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/json");
    let served = r.text().await.unwrap();
    let checked_in = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/openapi.json"
    ))
    .unwrap();
    assert!(
        served == checked_in,
        "GET /v1/openapi.json differs from docs/openapi.json"
    );
}
