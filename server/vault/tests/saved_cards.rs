//! Saved cards in the vault: saving binds a tenant's token to a customer, a saved card opens
//! for a connector again and again without a CVC, a one-time token never does, deleting is
//! final, every step is audited, other tenants see nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use hushpay_card::{Cvc, Expiry, Pan};
use hushpay_store::{MemoryStore, SqliteStore, Store};
use hushpay_vault::{Actor, Kek, Vault, VaultError};

use common::tenant;

fn actor() -> Actor {
    common::actor_with("req-saved")
}

async fn saved_cards_lifecycle(store: Arc<dyn Store>) {
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let vault = Vault::new(Kek::generate(), Arc::clone(&store) as _);
    let pan = Pan::parse("4242424242424242").unwrap();
    let exp = Expiry::new(12, 2031).unwrap();
    let cvc = Cvc::parse("123", pan.brand()).unwrap();
    let saved = vault
        .tokenize(&actor(), &a, &pan, &exp, Some(cvc), None)
        .await
        .unwrap();
    let one_time = vault
        .tokenize(&actor(), &a, &pan, &exp, None, None)
        .await
        .unwrap();

    // Bad customer references and other tenants' tokens are refused, nothing saved.
    for bad in [
        "",
        "pay 4242 4242 4242 4242",
        "line\nbreak",
        &"x".repeat(129),
    ] {
        assert!(matches!(
            vault.save_card(&actor(), &a, &saved.id, bad, 10).await,
            Err(VaultError::InvalidCustomer)
        ));
    }
    assert!(matches!(
        vault
            .save_card(&actor(), &b, &saved.id, "patient-7", 10)
            .await,
        Err(VaultError::TokenNotFound)
    ));
    assert!(matches!(
        vault
            .save_card(&actor(), &a, "tok_$bad", "patient-7", 10)
            .await,
        Err(VaultError::TokenNotFound)
    ));
    let card = vault
        .save_card(&actor(), &a, &saved.id, "patient-7", 1_700_000_000)
        .await
        .unwrap();
    assert_eq!(
        (card.customer.as_str(), card.consented_at, card.deleted_at),
        ("patient-7", 1_700_000_000, None)
    );
    assert!(matches!(
        vault
            .save_card(&actor(), &a, &saved.id, "patient-7", 10)
            .await,
        Err(VaultError::AlreadySaved)
    ));

    // The first (customer-initiated) payment takes the CVC through the one-time path; later
    // charges open the saved card without one, as often as needed.
    let first = vault
        .open_for_connector(&actor(), &a, &saved.id, "sandbox")
        .await
        .unwrap();
    assert!(first.cvc.is_some());
    for _ in 0..2 {
        let again = vault
            .open_saved_for_connector(&actor(), &a, &saved.id, "sandbox")
            .await
            .unwrap();
        assert_eq!(again.pan, pan);
        assert!(again.cvc.is_none(), "a saved card never carries a CVC");
    }
    assert!(matches!(
        vault
            .open_saved_for_connector(&actor(), &a, &one_time.id, "sandbox")
            .await,
        Err(VaultError::TokenNotSaved)
    ));
    assert!(matches!(
        vault
            .open_saved_for_connector(&actor(), &b, &saved.id, "sandbox")
            .await,
        Err(VaultError::TokenNotFound)
    ));
    let listed = vault.saved_cards(&a, "patient-7").await.unwrap();
    assert_eq!(listed, vec![card.clone()]);
    assert!(vault.saved_cards(&b, "patient-7").await.unwrap().is_empty());

    // Deleting: another tenant cannot, a one-time token is not a saved card, then final.
    assert!(matches!(
        vault.delete_saved_card(&actor(), &b, &saved.id).await,
        Err(VaultError::TokenNotFound)
    ));
    assert!(matches!(
        vault.delete_saved_card(&actor(), &a, &one_time.id).await,
        Err(VaultError::TokenNotSaved)
    ));
    let deleted = vault
        .delete_saved_card(&actor(), &a, &saved.id)
        .await
        .unwrap();
    assert!(deleted.deleted_at.is_some());
    assert!(matches!(
        vault
            .open_saved_for_connector(&actor(), &a, &saved.id, "sandbox")
            .await,
        Err(VaultError::TokenDeleted)
    ));
    assert!(matches!(
        vault.delete_saved_card(&actor(), &a, &saved.id).await,
        Err(VaultError::TokenDeleted)
    ));
    assert!(vault.saved_cards(&a, "patient-7").await.unwrap().is_empty());

    // Audited: one save, two saved-card opens, one delete; no entry carries the PAN.
    let log = store.audit_entries(0, 1000).await.unwrap();
    let count = |action: &str, suffix: &str| {
        log.iter()
            .filter(|e| e.action == action && e.resource.ends_with(suffix))
            .count()
    };
    assert_eq!(count("token.save", &saved.id), 1);
    assert_eq!(count("token.detokenize", "(saved)"), 2);
    assert_eq!(count("token.delete", &saved.id), 1);
    let dump = format!("{log:?}");
    assert!(!dump.contains("4242424242424242"));
}

#[tokio::test]
async fn saved_cards_on_the_memory_store() {
    saved_cards_lifecycle(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn saved_cards_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("vault.db")).unwrap();
    saved_cards_lifecycle(Arc::new(store)).await;
}
