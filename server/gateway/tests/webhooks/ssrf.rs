//! Issue 12, finding 6: the destination check and the HTTP client agree on the host, and
//! every resolved address is checked before a connection.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use hushpay::webhooks::deliver::HostLookup;
use hushpay::webhooks::{SECRET_RECORD_TYPE, Webhooks};
use hushpay_store::WebhookEndpointRecord;
use hushpay_vault::webhook::WebhookSecret;
use serde_json::{Value, json};

use crate::common::{TestGateway, assert_error};
use crate::fairness::{Blackhole, cancelled_payment};
use crate::post_json;

/// Every hostile form is refused at registration with a clear 422. Fails on main, which
/// split the authority by hand and accepted the backslash form (host 127.0.0.1 to reqwest),
/// decimal/octal/hex IPv4, NAT64 and IPv4-compatible IPv6, `localhost.` and `127.0.0.1.`.
#[tokio::test]
async fn hostile_url_forms_are_refused_at_registration() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("crm").await;
    let refused = "webhook_target_refused";
    let invalid = "invalid_webhook_url";
    for (url, code) in [
        ("https://127.0.0.1\\x.attacker.example/", invalid),
        ("https://hooks.example.com\\@127.0.0.1/", invalid),
        ("https://hooks.example.com@127.0.0.1/", invalid),
        ("https://user:pw@hooks.example.com/", invalid),
        ("https://2130706433/", refused),
        ("https://0177.0.0.1/", refused),
        ("https://0x7f.1/", refused),
        ("https://127.0.0.1./", refused),
        ("https://localhost./", refused),
        ("https://[::ffff:127.0.0.1]/", refused),
        ("https://[64:ff9b::7f00:1]/", refused),
        ("https://[::127.0.0.1]/", refused),
        ("https://[::1]/", refused),
        ("https://0.0.0.0/", refused),
        ("https://169.254.169.254/latest/meta-data", refused),
        ("https://100.64.12.34/", refused),
        ("https://[fc00::1]/", refused),
        ("https://[fd00:ec2::254]/", refused),
        ("https://[fe80::1]/", refused),
        ("https://224.0.0.251/", refused),
        ("https://[ff02::1]/", refused),
        ("https://metadata.google.internal/", refused),
    ] {
        let r = post_json(&gw, "/v1/webhooks", &key, json!({ "url": url })).await;
        assert_eq!(r.status(), 422, "{url}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{url}: {body}");
    }
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
    assert_eq!(listed["endpoints"], json!([]));
    // The stored form is the parsed one.
    let r = post_json(
        &gw,
        "/v1/webhooks",
        &key,
        json!({"url": "HTTPS://Hooks.Example.COM:443/in"}),
    )
    .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["endpoint"]["url"], "https://hooks.example.com/in");
}

/// Development mode admits internal targets and http://, not the syntax tricks.
#[tokio::test]
async fn private_targets_when_allowed_still_refuse_backslash_and_userinfo() {
    let gw = TestGateway::start(&[(
        "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
        "true",
    )])
    .await;
    let (_t, key) = gw.tenant("crm").await;
    for url in [
        "http://127.0.0.1:9\\x.attacker.example/",
        "http://u@127.0.0.1:9/",
    ] {
        let r = post_json(&gw, "/v1/webhooks", &key, json!({ "url": url })).await;
        assert_error(r, 422, "invalid_webhook_url").await;
    }
    let r = post_json(
        &gw,
        "/v1/webhooks",
        &key,
        json!({"url": "http://127.0.0.1:9/hook"}),
    )
    .await;
    assert_eq!(r.status(), 201);
}

/// The attacker's DNS, without a network: every name under `attacker.example` resolves to
/// 127.0.0.1, `mixed.example` to a public and a private address.
#[derive(Debug)]
struct AttackerDns(HashMap<&'static str, Vec<IpAddr>>);

#[async_trait::async_trait]
impl HostLookup for AttackerDns {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        if host.ends_with("attacker.example") || host.ends_with("attacker.example.") {
            return Ok(vec!["127.0.0.1".parse().unwrap()]);
        }
        self.0
            .get(host)
            .cloned()
            .ok_or_else(|| std::io::Error::other("no such name"))
    }
}

/// Deliveries never connect to a listener on 127.0.0.1: not through a name that resolves
/// there (registered over HTTP: the name itself looks public), not through a name that
/// resolves to a public and a private address, and not through the backslash form stored by
/// an earlier release (inserted into the store directly, as main accepted it). Each attempt
/// is logged as `target refused`; the listener sees no connection. On main the backslash
/// form was accepted at registration, and a delivery resolved the whole odd name but
/// connected to the 127.0.0.1 that reqwest parsed out of it.
#[tokio::test]
async fn deliveries_never_connect_to_internal_addresses() {
    let gw = TestGateway::start_with(&[("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50")], |state| {
        let lookup = AttackerDns(HashMap::from([(
            "mixed.example",
            vec![
                "93.184.215.14".parse().unwrap(),
                "10.0.0.7".parse().unwrap(),
            ],
        )]));
        let webhooks = Webhooks::with_lookup(
            Arc::clone(&state.store),
            Arc::clone(&state.vault),
            state.config.webhooks.clone(),
            Arc::new(lookup),
        )
        .unwrap();
        state.webhooks = Arc::new(webhooks);
    })
    .await;
    let (t, key) = gw.tenant("crm").await;
    let hole = Blackhole::start().await;
    let p = hole.port;
    let mut endpoints = Vec::new();
    for url in [
        format!("https://rebind.attacker.example:{p}/hook"),
        format!("https://mixed.example:{p}/hook"),
    ] {
        let r = post_json(&gw, "/v1/webhooks", &key, json!({ "url": url })).await;
        assert_eq!(r.status(), 201, "{url}: a name is checked when resolved");
        endpoints.push(
            r.json::<Value>().await.unwrap()["endpoint"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let legacy = "whe_legacybackslash".to_owned();
    let secret = WebhookSecret::generate().expose();
    let (key_version, secret_ciphertext) = gw
        .state
        .vault
        .vault
        .keyring()
        .encrypt(&t.id, SECRET_RECORD_TYPE, &legacy, secret.as_bytes())
        .await
        .unwrap();
    gw.state
        .store
        .insert_webhook_endpoint(&WebhookEndpointRecord {
            id: legacy.clone(),
            tenant: t.id.clone(),
            url: format!("https://127.0.0.1:{p}\\x.attacker.example/"),
            key_version,
            secret_ciphertext,
            format: hushpay_store::WebhookFormat::StandardWebhooks,
            created_at: hushpay_vault::unix_now(),
            deleted_at: None,
        })
        .await
        .unwrap();
    endpoints.push(legacy);

    cancelled_payment(&gw, &key).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    for id in &endpoints {
        let attempt = loop {
            let log: Value = gw
                .client
                .get(gw.url(&format!("/v1/webhooks/{id}/deliveries")))
                .bearer_auth(&key)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if let Some(a) = log["deliveries"].as_array().unwrap().first() {
                break a.clone();
            }
            assert!(Instant::now() < deadline, "{id}: no attempt");
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let error = attempt["error"].as_str().unwrap_or_default();
        assert!(error.starts_with("target refused"), "{id}: {attempt}");
        assert!(attempt["status_code"].is_null(), "{id}: {attempt}");
    }
    assert_eq!(
        hole.accepted.load(Ordering::SeqCst),
        0,
        "no connection reached the listener on 127.0.0.1"
    );
}
