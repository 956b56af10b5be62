//! The vault over HTTP on a SQLite data directory: public key, tokenization of a sealed card
//! from a tenant backend, masked lookups, tenant isolation, clear 4xx on bad input — and a
//! tracer scan of every file the gateway wrote (database, WAL, shm, keys): 0 hits.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::cards::{
    assert_tokens_decrypt_and_chain_verifies, seal_card, tracer_pan, vault_public_key,
};
use common::{TestGateway, assert_error, data_dir_hits};
use hushpay_card::leak_scan::{self, Net, Tracers};
use serde_json::{Value, json};

#[tokio::test]
async fn sealed_cards_tokenize_and_no_file_holds_a_tracer() {
    let gw = TestGateway::start(&[("HUSHPAY__STORE", "sqlite")]).await;
    let (a, key_a) = gw.tenant("vault-a").await;
    let (_b, key_b) = gw.tenant("vault-b").await;

    let (public, kid) = vault_public_key(&gw.client, &gw.url("")).await;

    let pans: Vec<String> = (0..5).map(|_| tracer_pan()).collect();
    let mut ids = Vec::new();
    for pan in &pans {
        let sealed = seal_card(&public, &kid, a.id.as_str(), "sess-1", pan);
        let resp = gw
            .client
            .post(gw.url("/v1/tokens"))
            .bearer_auth(&key_a)
            .json(&json!({ "sealed": sealed, "session": "sess-1" }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 201, "{text}");
        assert!(!text.contains(pan.as_str()));
        let meta: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(meta["last4"], pan[pan.len() - 4..]);
        assert_eq!(
            (meta["exp_month"].as_u64(), meta["exp_year"].as_u64()),
            (Some(11), Some(2034))
        );
        ids.push(meta["id"].as_str().unwrap().to_owned());
    }

    // Masked lookups; tenant B sees nothing of tenant A's.
    let got: Value = gw
        .client
        .get(gw.url(&format!("/v1/tokens/{}", ids[0])))
        .bearer_auth(&key_a)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["id"], ids[0]);
    let other = gw
        .client
        .get(gw.url(&format!("/v1/tokens/{}", ids[0])))
        .bearer_auth(&key_b)
        .send()
        .await
        .unwrap();
    assert_error(other, 404, "not_found").await;

    // Bad input: clear 4xx, never a 5xx.
    let good = seal_card(&public, &kid, a.id.as_str(), "sess-2", &pans[0]);
    let post = |key: String, body: Value| {
        let c = gw.client.clone();
        let url = gw.url("/v1/tokens");
        async move {
            c.post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let unauth = gw
        .client
        .post(gw.url("/v1/tokens"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status().as_u16(), 401);
    assert_error(
        post(
            key_b.clone(),
            json!({ "sealed": good, "session": "sess-2" }),
        )
        .await,
        400,
        "sealed_card_unreadable",
    )
    .await;
    assert_error(
        post(
            key_a.clone(),
            json!({ "sealed": good, "session": "sess-3" }),
        )
        .await,
        400,
        "sealed_card_unreadable",
    )
    .await;
    let mut wrong_kid = good.clone();
    wrong_kid["kid"] = json!("vault-0000");
    assert_error(
        post(
            key_a.clone(),
            json!({ "sealed": wrong_kid, "session": "sess-2" }),
        )
        .await,
        400,
        "unknown_kid",
    )
    .await;
    assert_error(
        post(key_a.clone(), json!({ "sealed": good, "session": "" })).await,
        400,
        "invalid_session",
    )
    .await;
    assert_error(
        post(
            key_a.clone(),
            json!({ "sealed": good, "session": "s", "expires_at": 1 }),
        )
        .await,
        400,
        "invalid_expires_at",
    )
    .await;
    for junk in [
        json!({}),
        json!({ "sealed": "x", "session": "s" }),
        json!([1, 2]),
    ] {
        let status = post(key_a.clone(), junk).await.status().as_u16();
        assert!((400..500).contains(&status), "{status}");
    }
    let mut tampered = good.clone();
    tampered["ciphertext"] = json!("AAAA");
    let status = post(
        key_a.clone(),
        json!({ "sealed": tampered, "session": "sess-2" }),
    )
    .await
    .status()
    .as_u16();
    assert_eq!(status, 400);
    for bad_id in ["4111111111111111", "tok_", "tok_%24%24", "x"] {
        let resp = gw
            .client
            .get(gw.url(&format!("/v1/tokens/{bad_id}")))
            .bearer_auth(&key_a)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), 404, "{bad_id}");
    }

    // Every acknowledged token decrypts; the audit chain covers them and verifies.
    assert_tokens_decrypt_and_chain_verifies(&gw.state, &a.id, &ids, pans.len() as u64).await;

    // Tracer scan over every file in the data directory (database, WAL, shm, keys).
    let mut tracers = Tracers::new();
    for (i, pan) in pans.iter().enumerate() {
        tracers.add(&format!("pan{i}"), pan).unwrap();
    }
    let (hits, _) = data_dir_hits(&gw.state, &tracers, b"");
    assert!(hits.is_empty(), "tracer hits: {hits:?}");

    // Positive control: the same scan finds a planted tracer (base64 inside other bytes).
    use base64::Engine;
    let planted = format!(
        "xx{}yy",
        base64::engine::general_purpose::STANDARD.encode(format!("card={}", pans[2]))
    );
    assert!(!leak_scan::scan(&tracers, planted.as_bytes(), Net::KnownBrands).is_empty());
}

/// Issue 12, finding 7: a CVC that no authorization takes is purged on a timer once its TTL
/// has passed (before the fix `SadStore::purge_expired` was never called: an abandoned CVC
/// stayed in memory until the next one arrived).
#[tokio::test]
async fn an_abandoned_cvc_is_purged_after_its_ttl() {
    let gw = TestGateway::start(&[("HUSHPAY__VAULT__SAD_TTL_SECS", "2")]).await;
    let (a, key_a) = gw.tenant("sad-purge").await;
    let (public, kid) = vault_public_key(&gw.client, &gw.url("")).await;
    let sealed = seal_card(&public, &kid, a.id.as_str(), "sess-1", &tracer_pan());
    let resp = gw
        .client
        .post(gw.url("/v1/tokens"))
        .bearer_auth(&key_a)
        .json(&json!({ "sealed": sealed, "session": "sess-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let vault = &gw.state.vault.vault;
    assert_eq!(vault.sad_held(), 1, "the CVC waits for its authorization");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while vault.sad_held() > 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the expired CVC is still held 10 s after a 2 s TTL"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Issue 17, point 1 (saved cards over HTTP): `POST /v1/tokens` with `save: true` and a
/// customer saves the card; the customer's cards list it (never another tenant's); deleting
/// is final (`410 token_deleted` after), a one-time token is not a saved card (`422`); bad
/// input is refused before anything is tokenized; no response or file holds the PAN.
#[tokio::test]
async fn saved_cards_are_saved_listed_and_deleted_over_http() {
    let gw = TestGateway::start(&[("HUSHPAY__STORE", "sqlite")]).await;
    let (a, key_a) = gw.tenant("saved-a").await;
    let (_b, key_b) = gw.tenant("saved-b").await;
    let (public, kid) = vault_public_key(&gw.client, &gw.url("")).await;
    let pan = tracer_pan();
    let post = |body: Value| {
        let (c, url, key) = (gw.client.clone(), gw.url("/v1/tokens"), key_a.clone());
        async move {
            c.post(url)
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .unwrap()
        }
    };
    let sealed = |session: &str| seal_card(&public, &kid, a.id.as_str(), session, &pan);

    // Bad input: clear 422 `invalid_customer`, nothing tokenized.
    let audit_before = gw
        .state
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .len();
    for bad in [
        json!({ "sealed": sealed("s1"), "session": "s1", "save": true }),
        json!({ "sealed": sealed("s1"), "session": "s1", "save": true, "customer": "" }),
        json!({ "sealed": sealed("s1"), "session": "s1", "save": true,
                "customer": format!("card {pan}") }),
        json!({ "sealed": sealed("s1"), "session": "s1", "customer": "patient-42" }),
    ] {
        let resp = post(bad).await;
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!(status, 422, "{text}");
        assert!(text.contains("invalid_customer"), "{text}");
        assert!(!text.contains(pan.as_str()), "{text}");
    }
    let audit_after = gw
        .state
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .len();
    assert_eq!(audit_before, audit_after, "refused input wrote nothing");

    // Saved with consent, and a one-time token of the same card.
    let resp = post(json!({ "sealed": sealed("s2"), "session": "s2",
                            "save": true, "customer": "patient-42" }))
    .await;
    assert_eq!(resp.status().as_u16(), 201);
    let text = resp.text().await.unwrap();
    assert!(!text.contains(pan.as_str()), "{text}");
    let saved: Value = serde_json::from_str(&text).unwrap();
    let id = saved["id"].as_str().unwrap().to_owned();
    assert_eq!(saved["saved"]["token"], id.as_str());
    assert_eq!(saved["saved"]["customer"], "patient-42");
    assert!(saved["saved"]["consented_at"].as_i64().unwrap() > 1_700_000_000);
    assert!(saved["saved"].get("deleted_at").is_none());
    let one_time: Value = post(json!({ "sealed": sealed("s3"), "session": "s3" }))
        .await
        .json()
        .await
        .unwrap();
    assert!(one_time.get("saved").is_none());
    let one_time = one_time["id"].as_str().unwrap().to_owned();

    let list = |key: String, customer: &str| {
        let c = gw.client.clone();
        let url = gw.url(&format!("/v1/customers/{customer}/cards"));
        async move {
            let resp = c.get(url).bearer_auth(key).send().await.unwrap();
            assert_eq!(resp.status().as_u16(), 200);
            resp.json::<Value>().await.unwrap()
        }
    };
    let cards = list(key_a.clone(), "patient-42").await;
    assert_eq!(cards["data"].as_array().unwrap().len(), 1, "{cards}");
    assert_eq!(cards["data"][0]["token"], id.as_str());
    assert_eq!(cards["data"][0]["last4"], &pan[pan.len() - 4..]);
    let other = list(key_b.clone(), "patient-42").await;
    assert!(other["data"].as_array().unwrap().is_empty());

    let delete = |key: String, id: &str| {
        let c = gw.client.clone();
        let url = gw.url(&format!("/v1/tokens/{id}"));
        async move { c.delete(url).bearer_auth(key).send().await.unwrap() }
    };
    assert_error(delete(key_b.clone(), &id).await, 404, "not_found").await;
    assert_error(
        delete(key_a.clone(), &one_time).await,
        422,
        "token_not_saved",
    )
    .await;
    assert_error(delete(key_a.clone(), "tok_%24%24").await, 404, "not_found").await;
    let unauth = gw
        .client
        .delete(gw.url(&format!("/v1/tokens/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status().as_u16(), 401);
    let gone = delete(key_a.clone(), &id).await;
    assert_eq!(gone.status().as_u16(), 200);
    let gone: Value = gone.json().await.unwrap();
    assert!(gone["deleted_at"].as_i64().is_some(), "{gone}");
    assert_error(delete(key_a.clone(), &id).await, 410, "token_deleted").await;
    let cards = list(key_a.clone(), "patient-42").await;
    assert!(cards["data"].as_array().unwrap().is_empty());

    // Audited: the save and the delete, once each.
    let log = gw.state.store.audit_entries(0, 100_000).await.unwrap();
    for action in ["token.save", "token.delete"] {
        let n = log
            .iter()
            .filter(|e| e.action == action && e.resource == id)
            .count();
        assert_eq!(n, 1, "{action}");
    }

    // No file the gateway wrote holds the PAN.
    let mut tracers = Tracers::new();
    tracers.add("pan", &pan).unwrap();
    let (hits, _) = data_dir_hits(&gw.state, &tracers, b"");
    assert!(hits.is_empty(), "tracer hits: {hits:?}");
}
