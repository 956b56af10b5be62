//! The gateway on PostgreSQL (`store = "postgres://..."`, the real server at 127.0.0.1:5432,
//! in a scratch schema dropped afterwards): sealed cards tokenize over HTTP, masked lookups
//! answer, every acknowledged token decrypts, the audit chain verifies — and no table of the
//! schema holds a tracer card number in any encoding `leak_scan` knows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestGateway;
use common::cards::{
    assert_tokens_decrypt_and_chain_verifies, seal_card, tracer_pan, vault_public_key,
};
use hushpay_card::leak_scan::{self, Net, Tracers};
use hushpay_store::ScratchSchema;
use serde_json::{Value, json};

#[tokio::test]
async fn sealed_cards_tokenize_on_postgresql_and_no_table_holds_a_tracer() {
    let schema = ScratchSchema::create("gwvault").await.unwrap();
    let gw = TestGateway::start(&[("HUSHPAY__STORE", schema.url())]).await;
    assert!(
        format!("{:?}", gw.state.store).starts_with("PgStore"),
        "the URL selects PostgreSQL"
    );
    let (a, key_a) = gw.tenant("pg-vault-a").await;
    let (public, kid) = vault_public_key(&gw.client, &gw.url("")).await;

    let pans: Vec<String> = (0..5).map(|_| tracer_pan()).collect();
    let mut ids = Vec::new();
    for pan in &pans {
        let sealed = seal_card(&public, &kid, a.id.as_str(), "sess-pg", pan);
        let resp = gw
            .client
            .post(gw.url("/v1/tokens"))
            .bearer_auth(&key_a)
            .json(&json!({ "sealed": sealed, "session": "sess-pg" }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let meta: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{meta}");
        assert_eq!(meta["last4"], pan[pan.len() - 4..]);
        ids.push(meta["id"].as_str().unwrap().to_owned());
    }

    for id in &ids {
        let got: Value = gw
            .client
            .get(gw.url(&format!("/v1/tokens/{id}")))
            .bearer_auth(&key_a)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(got["id"], id.as_str());
    }
    assert_tokens_decrypt_and_chain_verifies(&gw.state, &a.id, &ids, pans.len() as u64).await;

    // Tracer scan of every table in the schema.
    let mut tracers = Tracers::new();
    for (i, pan) in pans.iter().enumerate() {
        tracers.add(&format!("pan{i}"), pan).unwrap();
    }
    let tables = schema.table_contents().await.unwrap();
    let names: Vec<&str> = tables.iter().map(|(t, _)| t.as_str()).collect();
    assert!(
        names.contains(&"tokens") && names.contains(&"audit_log"),
        "{names:?}"
    );
    let tokens_text = &tables.iter().find(|(t, _)| t == "tokens").unwrap().1;
    assert!(
        ids.iter().all(|id| tokens_text.contains(id.as_str())),
        "the dump holds the rows"
    );
    let mut hits = Vec::new();
    for (table, text) in &tables {
        for h in leak_scan::scan(&tracers, text.as_bytes(), Net::KnownBrands) {
            hits.push(format!("{table}: {h:?}"));
        }
    }
    assert!(hits.is_empty(), "tracer hits: {hits:?}");
    // Positive control: the scan finds a tracer planted in the same dump as hex.
    let planted = format!("{tokens_text}\\x{}", hex::encode(pans[1].as_bytes()));
    assert!(!leak_scan::scan(&tracers, planted.as_bytes(), Net::KnownBrands).is_empty());
    drop(gw);
}
