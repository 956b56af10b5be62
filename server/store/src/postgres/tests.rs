//! Against the real server at 127.0.0.1:5432 (or `HUSHPAY_TEST_POSTGRES`), each test in its
//! own [`ScratchSchema`], dropped afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::VaultStore;

async fn scratch(tag: &str) -> (ScratchSchema, PgStore) {
    let schema = ScratchSchema::create(tag)
        .await
        .expect("PostgreSQL at 127.0.0.1:5432");
    let store = PgStore::open(&schema.pg_url().unwrap()).await.unwrap();
    (schema, store)
}

/// Runs `sql` in the schema on a plain connection (not through the store).
async fn raw(schema: &ScratchSchema, sql: &str) -> Result<(), tokio_postgres::Error> {
    let url = schema.pg_url().unwrap();
    let (client, connection) = url.config().connect(url.tls()).await.unwrap();
    let driver = tokio::spawn(connection);
    let result = client.batch_execute(sql).await;
    drop(client);
    let _ = driver.await;
    result
}

async fn schema_exists(name: &str) -> bool {
    let probe = ScratchSchema::create("probe").await.unwrap();
    let url = probe.pg_url().unwrap();
    let (client, connection) = url.config().connect(url.tls()).await.unwrap();
    let driver = tokio::spawn(connection);
    let row = client
        .query_one(
            "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
            &[&name],
        )
        .await
        .unwrap();
    drop(client);
    let _ = driver.await;
    row.get::<_, i64>(0) == 1
}

#[tokio::test]
async fn passes_the_conformance_suite() {
    let (_schema, store) = scratch("conformance").await;
    crate::conformance::run_all(&store).await;
}

#[tokio::test]
async fn records_survive_a_reopen_and_the_scratch_schema_is_dropped_after() {
    let (schema, store) = scratch("reopen").await;
    crate::conformance::run_all(&store).await;
    let before = store.tenants().await.unwrap();
    assert!(!before.is_empty());
    drop(store);
    let reopened = PgStore::open(&schema.pg_url().unwrap()).await.unwrap();
    assert_eq!(reopened.tenants().await.unwrap(), before);
    let name = schema.name().to_owned();
    assert!(schema_exists(&name).await);
    drop(reopened);
    drop(schema);
    assert!(!schema_exists(&name).await, "scratch schema left behind");
}

#[tokio::test]
async fn the_audit_table_refuses_update_delete_and_truncate() {
    let (schema, store) = scratch("appendonly").await;
    crate::conformance::run_all(&store).await;
    for sql in [
        "UPDATE audit_log SET outcome = 'x'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ] {
        let err = raw(&schema, sql).await.expect_err(sql);
        let msg = err.as_db_error().map(|e| e.message().to_owned());
        assert_eq!(msg.as_deref(), Some("audit log is append-only"), "{sql}");
    }
    assert!(store.last_audit().await.unwrap().is_some(), "entries kept");
}

#[tokio::test]
async fn migrations_are_idempotent_and_concurrent_opens_are_safe() {
    let schema = ScratchSchema::create("migrate").await.unwrap();
    let url = schema.pg_url().unwrap();
    let opens = (0..4).map(|_| {
        let url = url.clone();
        async move { PgStore::open(&url).await }
    });
    for opened in futures_join_all(opens).await {
        opened.unwrap();
    }
    drop(PgStore::open(&url).await.unwrap());
    let store = PgStore::open(&url).await.unwrap();
    let rows = store
        .query("SELECT version FROM schema_version ORDER BY version", &[])
        .await
        .unwrap();
    let versions: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        versions,
        (1..=migrations::CURRENT_VERSION).collect::<Vec<_>>()
    );
}

/// Awaits every future concurrently (tokio tasks, so they really overlap).
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn the_schema_version_is_read_without_migrating() {
    let schema = ScratchSchema::create("version").await.unwrap();
    let url = schema.pg_url().unwrap();
    assert_eq!(PgStore::schema_version_of(&url).await.unwrap(), 0);
    assert_eq!(
        PgStore::schema_version_of(&url).await.unwrap(),
        0,
        "reading migrated the schema"
    );
    drop(PgStore::open(&url).await.unwrap());
    assert_eq!(
        PgStore::schema_version_of(&url).await.unwrap(),
        PgStore::SCHEMA_VERSION
    );
    let unreachable = PgUrl::parse("postgres://hushpay@127.0.0.1:1/none").unwrap();
    assert!(PgStore::schema_version_of(&unreachable).await.is_err());
}

#[tokio::test]
async fn refuses_a_schema_from_a_newer_build() {
    let (schema, store) = scratch("newer").await;
    drop(store);
    let sql = format!(
        "INSERT INTO schema_version (version) VALUES ({})",
        migrations::CURRENT_VERSION + 1
    );
    raw(&schema, &sql).await.unwrap();
    let err = PgStore::open(&schema.pg_url().unwrap()).await.unwrap_err();
    assert!(matches!(err, StoreError::Migration(_)), "{err}");
}

#[tokio::test]
async fn an_unreachable_server_is_a_typed_error() {
    let url = PgUrl::parse("postgres://postgres@127.0.0.1:1/test").unwrap();
    let err = PgStore::open(&url).await.unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
    let err = PgStore::open_blocking(&url).unwrap_err();
    assert!(matches!(err, StoreError::Backend(_)), "{err}");
}

#[test]
fn open_blocking_works_outside_a_runtime() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let schema = rt.block_on(ScratchSchema::create("blocking")).unwrap();
    let store = PgStore::open_blocking(&schema.pg_url().unwrap()).unwrap();
    rt.block_on(async {
        store.ping().await.unwrap();
        assert!(store.tenants().await.unwrap().is_empty());
    });
}
