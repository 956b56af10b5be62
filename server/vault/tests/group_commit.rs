//! Group commit of tokenizations on real stores (SQLite file with `synchronous = FULL`, and
//! PostgreSQL in a scratch schema): concurrent tokenizations share transactions, every
//! acknowledged token is stored with its audit entry, the chain verifies, and one bad row in
//! a batch is refused alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use hushpay_card::{Expiry, Pan};
use hushpay_store::{
    PgStore, ScratchSchema, SqliteStore, Store, StoreError, Tenant, TenantId, TokenRecord,
};
use hushpay_vault::audit::{self, AuditEvent, AuditLog};
use hushpay_vault::group_commit::GroupCommit;
use hushpay_vault::{Actor, Kek, Vault};

const CLIENTS: usize = 48;
const PER_CLIENT: usize = 5;

async fn tenant(store: &dyn Store) -> TenantId {
    let id = TenantId::new("ten_group");
    let t = Tenant {
        id: id.clone(),
        name: "group".into(),
        created_at: 1,
        allowed_origins: vec![],
        require_consent_by_default: false,
        agent_desktop_origins: vec![],
        default_locale: None,
    };
    store.insert_tenant(&t).await.unwrap();
    id
}

/// Many concurrent clients; returns the vault for further checks.
async fn tokenize_concurrently(store: Arc<dyn Store>) {
    let t = tenant(&*store).await;
    let vault = Arc::new(Vault::new(Kek::generate(), Arc::clone(&store) as _));
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (vault, t) = (Arc::clone(&vault), t.clone());
        tasks.push(tokio::spawn(async move {
            let pan = Pan::parse("4242424242424242").unwrap();
            let exp = Expiry::new(12, 2031).unwrap();
            let actor = Actor {
                who: format!("client-{c}"),
                request_id: String::new(),
            };
            let mut ids = Vec::new();
            for _ in 0..PER_CLIENT {
                let meta = vault.tokenize(&actor, &t, &pan, &exp, None, None).await;
                ids.push(meta.unwrap().id);
            }
            ids
        }));
    }
    let mut ids = Vec::new();
    for task in tasks {
        ids.extend(task.await.unwrap());
    }
    assert_eq!(ids.len(), CLIENTS * PER_CLIENT);
    for id in &ids {
        vault.verify_token_decrypts(&t, id).await.unwrap();
    }
    let report = audit::verify(&*store).await.unwrap();
    assert_eq!(report.problem, None);
    let entries = store.audit_entries(0, 10_000).await.unwrap();
    for id in &ids {
        assert!(
            entries
                .iter()
                .any(|e| e.action == "token.create" && &e.resource == id),
            "{id} has its audit entry"
        );
    }
    let writer = vault.group_commit();
    assert_eq!(writer.jobs(), ids.len() as u64);
    assert!(
        writer.transactions() < writer.jobs(),
        "concurrent tokenizations shared transactions: {} for {}",
        writer.transactions(),
        writer.jobs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tokenizations_share_durable_transactions_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("hushpay.db")).unwrap();
    tokenize_concurrently(Arc::new(store)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_tokenizations_share_durable_transactions_on_postgresql() {
    let schema = ScratchSchema::create("groupcommit").await.unwrap();
    let store = PgStore::open(&schema.pg_url().unwrap()).await.unwrap();
    tokenize_concurrently(Arc::new(store)).await;
}

fn record(tenant: &TenantId, id: &str) -> TokenRecord {
    TokenRecord {
        id: id.to_owned(),
        tenant: tenant.clone(),
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2031,
        fingerprint: "fp".into(),
        created_at: 1,
        expires_at: None,
        key_version: 1,
        ciphertext: vec![1, 2, 3],
    }
}

fn event(id: &str) -> AuditEvent {
    AuditEvent {
        tenant: None,
        actor: "test".into(),
        action: "token.create".into(),
        resource: id.to_owned(),
        outcome: "ok".into(),
        request_id: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_row_is_refused_alone_and_the_chain_stays_whole() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("h.db")).unwrap());
    let t = tenant(&*store).await;
    store.insert_token(&record(&t, "tok_taken")).await.unwrap();
    let writer = Arc::new(GroupCommit::new(Arc::new(AuditLog::new(
        Arc::clone(&store) as _,
    ))));
    let mut tasks = Vec::new();
    for i in 0..40 {
        let (writer, t) = (Arc::clone(&writer), t.clone());
        let id = if i == 17 {
            "tok_taken".to_owned()
        } else {
            format!("tok_g{i}")
        };
        tasks.push(tokio::spawn(async move {
            (
                id.clone(),
                writer.commit(record(&t, &id), event(&id), None).await,
            )
        }));
    }
    let mut refused = Vec::new();
    for task in tasks {
        let (id, result) = task.await.unwrap();
        match result {
            Ok(()) => assert!(store.token(&t, &id).await.unwrap().is_some(), "{id}"),
            Err(StoreError::Conflict(_)) => refused.push(id),
            Err(e) => panic!("{id}: {e}"),
        }
    }
    assert_eq!(refused, vec!["tok_taken".to_owned()]);
    let report = audit::verify(&*store).await.unwrap();
    assert_eq!(report.problem, None);
    assert_eq!(
        report.entries, 39,
        "one entry per acknowledged token, none for the refused"
    );
}
