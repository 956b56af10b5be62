//! The background rewrap: a rotation made by another process on the same store (as
//! `hushpay keys rotate` beside a running gateway does) is picked up by the gateway within
//! one interval — every token moves to the new data key version and still decrypts, the
//! gateway's own new tokens use the new version (the retired one never encrypts again), and
//! the audit chain verifies. On SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::TestGateway;
use hushpay_card::{Expiry, Pan};
use hushpay_store::{ScratchSchema, Store};
use hushpay_vault::{Actor, Kek, Vault};

fn actor() -> Actor {
    Actor {
        who: "key_test".into(),
        request_id: String::new(),
    }
}

async fn rotation_elsewhere_is_rewrapped_in_the_background(store: &str) {
    let gw = TestGateway::start(&[
        ("HUSHPAY__STORE", store),
        ("HUSHPAY__VAULT__REWRAP_INTERVAL_SECS", "1"),
    ])
    .await;
    let (tenant, _key) = gw.tenant("rewrap").await;
    let vault = &gw.state.vault.vault;
    let store: Arc<dyn Store> = Arc::clone(&gw.state.store);
    let (pan, exp) = (
        Pan::parse("4000056655665556").unwrap(),
        Expiry::new(10, 2033).unwrap(),
    );
    let mut ids = Vec::new();
    for _ in 0..5 {
        let meta = vault
            .tokenize(&actor(), &tenant.id, &pan, &exp, None, None)
            .await
            .unwrap();
        ids.push(meta.id);
    }

    // "Another process": its own vault (own key cache) over the same store and KEK file.
    let kek_file = gw.state.config.data_dir.join("keys/dev-vault-kek");
    let other = Vault::new(Kek::load_file(&kek_file).unwrap(), Arc::clone(&store) as _);
    assert_eq!(other.rotate(&actor(), &tenant.id).await.unwrap(), 2);

    let deadline = Instant::now() + Duration::from_secs(15);
    while !store
        .tokens_below_key_version(&tenant.id, 2, 10)
        .await
        .unwrap()
        .is_empty()
    {
        assert!(Instant::now() < deadline, "tokens still under version 1");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for id in &ids {
        vault.verify_token_decrypts(&tenant.id, id).await.unwrap();
        let record = store.token(&tenant.id, id).await.unwrap().unwrap();
        assert_eq!(record.key_version, 2, "{id}");
    }
    let fresh = vault
        .tokenize(&actor(), &tenant.id, &pan, &exp, None, None)
        .await
        .unwrap();
    let record = store.token(&tenant.id, &fresh.id).await.unwrap().unwrap();
    assert_eq!(
        record.key_version, 2,
        "the retired version never encrypts again"
    );

    let entries = store.audit_entries(0, 10_000).await.unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e.action == "key.rewrap" && e.actor == "system"),
        "the background rewrap is audited"
    );
    let report = hushpay_vault::audit::verify(&*store).await.unwrap();
    assert_eq!(report.problem, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_elsewhere_is_rewrapped_in_the_background_on_sqlite() {
    rotation_elsewhere_is_rewrapped_in_the_background("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_elsewhere_is_rewrapped_in_the_background_on_postgresql() {
    let schema = ScratchSchema::create("rewrap").await.unwrap();
    rotation_elsewhere_is_rewrapped_in_the_background(schema.url()).await;
}
