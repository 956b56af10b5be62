//! Issue 17, point 7: a token's `token.created` is written in the token's own transaction.
//! Before, the gateway enqueued it in a second transaction after the token's: a crash (or a
//! store error) in between kept the token and lost its event. Now the vault hands the event
//! to the group commit with the token and its audit entry: the three are durable together or
//! not at all, on the memory store and on a SQLite file reopened as after a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use hushpay_card::{Expiry, Pan};
use hushpay_store::{MemoryStore, OutboxEvent, SqliteStore, Store, TenantId};
use hushpay_vault::{Kek, TokenMetadata, Vault};

use common::{actor, tenant};

/// The event a token announces, with an id the test can find: `evt_<token id>`.
fn announced(meta: &TokenMetadata) -> OutboxEvent {
    OutboxEvent {
        id: format!("evt_{}", meta.id),
        tenant: TenantId::new(meta.tenant.as_str()),
        event_type: "token.created".into(),
        payload: format!(
            r#"{{"type":"token.created","data":{{"id":"{}"}}}}"#,
            meta.id
        ),
        fhir_payload: None,
        created_at: meta.created_at,
    }
}

fn card() -> (Pan, Expiry) {
    (
        Pan::parse("4242424242424242").unwrap(),
        Expiry::new(12, 2031).unwrap(),
    )
}

async fn tokens_of(store: &dyn Store, t: &TenantId) -> Vec<String> {
    store
        .tokens_below_key_version(t, u32::MAX, 1000)
        .await
        .unwrap()
}

async fn token_creates(store: &dyn Store) -> usize {
    store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .iter()
        .filter(|e| e.action == "token.create")
        .count()
}

/// Every acknowledged token has its event; an event that cannot be written (its id is taken)
/// refuses the token, which is then nowhere (no row, no audit entry).
async fn token_and_event_are_all_or_nothing(store: Arc<dyn Store>) {
    let t = tenant(&*store, "announce").await;
    let vault =
        Vault::new(Kek::generate(), Arc::clone(&store) as _).announcing_tokens(Arc::new(announced));
    let (pan, exp) = card();
    let meta = vault
        .tokenize(&actor(), &t, &pan, &exp, None, None)
        .await
        .unwrap();
    let event = store
        .event(&format!("evt_{}", meta.id))
        .await
        .unwrap()
        .expect("the token's event is in the outbox once the token is acknowledged");
    assert_eq!(event.event_type, "token.created");
    assert!(event.payload.contains(&meta.id));

    // An event id that exists: the token's transaction fails as a whole.
    let taken = Arc::new(move |m: &TokenMetadata| OutboxEvent {
        id: event.id.clone(),
        ..announced(m)
    });
    let refusing = Vault::new(Kek::generate(), Arc::clone(&store) as _).announcing_tokens(taken);
    let other = tenant(&*store, "refused").await;
    let audited = token_creates(&*store).await;
    assert!(
        refusing
            .tokenize(&actor(), &other, &pan, &exp, None, None)
            .await
            .is_err()
    );
    assert_eq!(
        tokens_of(&*store, &other).await,
        Vec::<String>::new(),
        "no token without its event"
    );
    assert_eq!(token_creates(&*store).await, audited, "nor its audit entry");
}

#[tokio::test]
async fn on_the_memory_store() {
    token_and_event_are_all_or_nothing(Arc::new(MemoryStore::new())).await;
}

#[tokio::test]
async fn on_sqlite_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db");
    token_and_event_are_all_or_nothing(Arc::new(SqliteStore::open(&path).unwrap())).await;

    // Concurrent tokenizations (one group commit carries several): each event is there, read
    // back from the file by a new store as after a crash and restart.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let t = tenant(&*store, "batch").await;
    let vault = Arc::new(
        Vault::new(Kek::generate(), Arc::clone(&store) as _).announcing_tokens(Arc::new(announced)),
    );
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (vault, t) = (Arc::clone(&vault), t.clone());
        tasks.push(tokio::spawn(async move {
            let (pan, exp) = card();
            vault
                .tokenize(&actor(), &t, &pan, &exp, None, None)
                .await
                .unwrap()
                .id
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.push(task.await.unwrap());
    }
    drop(vault);
    drop(store);
    let reopened = SqliteStore::open(&path).unwrap();
    for id in &ids {
        use hushpay_store::PaymentStore;
        assert!(
            reopened
                .event(&format!("evt_{id}"))
                .await
                .unwrap()
                .is_some(),
            "{id}"
        );
    }
}
