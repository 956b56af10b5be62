//! `audit::verify` detects changed, deleted and reordered entries in a real SQLite file, even
//! when an attacker with file access drops the append-only triggers first.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use hushpay_store::{SqliteStore, Store, TenantId};
use hushpay_vault::audit::{self, AuditEvent, AuditLog, AuditProblem};

async fn log_with_entries(path: &Path, n: u64) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(path).unwrap());
    let log = AuditLog::new(Arc::clone(&store) as _);
    for i in 0..n {
        log.append(
            &AuditEvent {
                tenant: Some(TenantId::new("ten_a")),
                actor: "key_a".into(),
                action: "token.create".into(),
                resource: format!("tok_{i}"),
                outcome: "ok".into(),
                request_id: format!("req-{i}"),
            },
            1_700_000_000 + i as i64,
        )
        .await
        .unwrap();
    }
    let report = audit::verify(&*store).await.unwrap();
    assert!(report.entries >= n);
    assert_eq!(report.problem, None);
}

fn tamper(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

async fn verdict(path: &Path) -> Option<AuditProblem> {
    let store = SqliteStore::open(path).unwrap();
    audit::verify(&store).await.unwrap().problem
}

#[tokio::test]
async fn an_intact_log_verifies_and_a_new_writer_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    log_with_entries(&path, 5).await;
    log_with_entries(&path, 3).await; // reopens: the head is read back from the store
    let store = SqliteStore::open(&path).unwrap();
    let report = audit::verify(&store).await.unwrap();
    assert_eq!((report.entries, report.problem), (8, None));
}

#[tokio::test]
async fn a_changed_field_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    log_with_entries(&path, 5).await;
    tamper(
        &path,
        "UPDATE audit_log SET outcome = 'denied' WHERE seq = 3",
    );
    assert_eq!(verdict(&path).await, Some(AuditProblem::Hash(3)));
}

#[tokio::test]
async fn a_deleted_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    log_with_entries(&path, 5).await;
    tamper(&path, "DELETE FROM audit_log WHERE seq = 2");
    assert_eq!(
        verdict(&path).await,
        Some(AuditProblem::Sequence {
            expected: 2,
            found: 3
        })
    );
}

#[tokio::test]
async fn a_deleted_and_renumbered_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    log_with_entries(&path, 5).await;
    tamper(
        &path,
        "DELETE FROM audit_log WHERE seq = 2; UPDATE audit_log SET seq = seq - 1 WHERE seq > 2;",
    );
    assert_eq!(verdict(&path).await, Some(AuditProblem::Link(2)));
}

#[tokio::test]
async fn reordered_entries_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    log_with_entries(&path, 5).await;
    tamper(
        &path,
        "UPDATE audit_log SET seq = 100 WHERE seq = 2;
         UPDATE audit_log SET seq = 2 WHERE seq = 3;
         UPDATE audit_log SET seq = 3 WHERE seq = 100;",
    );
    assert_eq!(verdict(&path).await, Some(AuditProblem::Link(2)));
}

#[tokio::test]
async fn two_writers_on_one_store_keep_one_chain() {
    // The admin CLI appends beside a running gateway: each has its own cached head.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    let gateway: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let cli: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let (a, b) = (AuditLog::new(Arc::clone(&gateway) as _), AuditLog::new(cli));
    let event = |action: &str| AuditEvent {
        tenant: None,
        actor: "admin".into(),
        action: action.into(),
        resource: String::new(),
        outcome: "ok".into(),
        request_id: String::new(),
    };
    for i in 0..5 {
        a.append(&event("gateway"), i).await.unwrap();
        b.append(&event("cli"), i).await.unwrap();
    }
    let report = audit::verify(&*gateway).await.unwrap();
    assert_eq!((report.entries, report.problem), (10, None));
}
