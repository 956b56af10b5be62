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
