//! The embedded default store: one SQLite file in WAL mode with `synchronous = FULL`, so a
//! write that returned `Ok` survives `kill -9` and power loss.
//!
//! rusqlite is synchronous; every call runs on tokio's blocking pool behind one connection
//! mutex. SQLite serialises writers anyway, and one connection keeps the WAL simple.
//!
//! This file holds the connection, tenants and API keys ([`crate::TenantStore`]); each other
//! area's trait is implemented in the area's file (`vault.rs`, `payments.rs`, `chat.rs`,
//! `rooms.rs`, `recordings.rs`).

mod chat;
mod migrations;
mod payments;
mod recordings;
mod refunds;
mod rooms;
mod vault;

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{ApiKeyId, ApiKeyRecord, StoreError, Tenant, TenantId, TenantStore, UnixTime};

#[cfg(test)]
use migrations::CURRENT_VERSION as SCHEMA_VERSION;

/// The SQLite-backed store.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and applies migrations.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let conn = Connection::open(path)?;
        Self::setup(conn)
    }

    /// The schema version this build writes (migrations bring a database to it at open).
    pub const SCHEMA_VERSION: i64 = migrations::CURRENT_VERSION;

    /// The schema version of the database at `path`, read without writing anything (no
    /// migration, no journal change): 0 for a database no build has migrated yet. For checks
    /// such as `hushpay doctor`; a missing file is an error.
    pub fn schema_version_of(path: &Path) -> Result<i64, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let has_table: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version')",
            [],
            |r| r.get(0),
        )?;
        if !has_table {
            return Ok(0);
        }
        Ok(conn.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        )?)
    }

    /// A private in-memory SQLite database (tests).
    pub fn open_in_memory() -> Result<Self, StoreError> {
        Self::setup(Connection::open_in_memory()?)
    }

    fn setup(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrations::migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError::Backend(format!("blocking task failed: {e}")))?
    }
}

fn tenant_from_row(row: &Row<'_>) -> rusqlite::Result<(Tenant, String, String)> {
    let origins: String = row.get(3)?;
    let desktops: String = row.get(5)?;
    Ok((
        Tenant {
            id: TenantId::new(row.get::<_, String>(0)?),
            name: row.get(1)?,
            created_at: row.get(2)?,
            allowed_origins: Vec::new(),
            require_consent_by_default: row.get(4)?,
            agent_desktop_origins: Vec::new(),
            default_locale: row.get(6)?,
        },
        origins,
        desktops,
    ))
}

fn decode_tenant(
    (mut tenant, origins, desktops): (Tenant, String, String),
) -> Result<Tenant, StoreError> {
    tenant.allowed_origins = decode_list(&origins)?;
    tenant.agent_desktop_origins = decode_list(&desktops)?;
    Ok(tenant)
}

/// Origins are stored newline-separated; an origin never contains a newline.
fn encode_list(items: &[String]) -> Result<String, StoreError> {
    if items.iter().any(|s| s.contains('\n')) {
        return Err(StoreError::Corrupt("list item contains a newline".into()));
    }
    Ok(items.join("\n"))
}

fn decode_list(s: &str) -> Result<Vec<String>, StoreError> {
    Ok(if s.is_empty() {
        Vec::new()
    } else {
        s.split('\n').map(str::to_owned).collect()
    })
}

fn api_key_from_row(row: &Row<'_>) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::new(row.get::<_, String>(0)?),
        tenant: TenantId::new(row.get::<_, String>(1)?),
        secret_hash: row.get(2)?,
        label: row.get(3)?,
        created_at: row.get(4)?,
        revoked_at: row.get(5)?,
    })
}

const TENANT_COLUMNS: &str = "id, name, created_at, allowed_origins, require_consent_by_default, \
                              agent_desktop_origins, default_locale";
const API_KEY_COLUMNS: &str = "id, tenant_id, secret_hash, label, created_at, revoked_at";

#[async_trait]
impl TenantStore for SqliteStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.with(|c| {
            Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))
                .map(drop)?)
        })
        .await
    }

    async fn insert_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let t = tenant.clone();
        self.with(move |c| {
            let origins = encode_list(&t.allowed_origins)?;
            let desktops = encode_list(&t.agent_desktop_origins)?;
            c.execute(
                &format!(
                    "INSERT INTO tenants ({TENANT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"
                ),
                params![
                    t.id.as_str(),
                    t.name,
                    t.created_at,
                    origins,
                    t.require_consent_by_default,
                    desktops,
                    t.default_locale
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let id = id.clone();
        self.with(move |c| {
            let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = ?1");
            c.query_row(&sql, params![id.as_str()], tenant_from_row)
                .optional()?
                .map(decode_tenant)
                .transpose()
        })
        .await
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        let name = name.to_owned();
        self.with(move |c| {
            let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE name = ?1");
            c.query_row(&sql, params![name], tenant_from_row)
                .optional()?
                .map(decode_tenant)
                .transpose()
        })
        .await
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        self.with(|c| {
            let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY rowid");
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map([], tenant_from_row)?;
            rows.map(|r| decode_tenant(r?)).collect()
        })
        .await
    }

    async fn set_tenant_consent_by_default(
        &self,
        tenant: &TenantId,
        require: bool,
    ) -> Result<bool, StoreError> {
        let t = tenant.clone();
        self.with(move |c| {
            let n = c.execute(
                "UPDATE tenants SET require_consent_by_default = ?2 WHERE id = ?1",
                params![t.as_str(), require],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn set_tenant_agent_desktop_origins(
        &self,
        tenant: &TenantId,
        origins: &[String],
    ) -> Result<bool, StoreError> {
        let t = tenant.clone();
        let list = encode_list(origins)?;
        self.with(move |c| {
            let n = c.execute(
                "UPDATE tenants SET agent_desktop_origins = ?2 WHERE id = ?1",
                params![t.as_str(), list],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn set_tenant_default_locale(
        &self,
        tenant: &TenantId,
        locale: Option<&str>,
    ) -> Result<bool, StoreError> {
        let t = tenant.clone();
        let locale = locale.map(str::to_owned);
        self.with(move |c| {
            let n = c.execute(
                "UPDATE tenants SET default_locale = ?2 WHERE id = ?1",
                params![t.as_str(), locale],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let k = key.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO api_keys (id, tenant_id, secret_hash, label, created_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    k.id.as_str(),
                    k.tenant.as_str(),
                    k.secret_hash,
                    k.label,
                    k.created_at,
                    k.revoked_at
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn api_key(&self, id: &ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        let id = id.clone();
        self.with(move |c| {
            let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = ?1");
            Ok(c.query_row(&sql, params![id.as_str()], api_key_from_row)
                .optional()?)
        })
        .await
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let tenant = tenant.clone();
        self.with(move |c| {
            let sql = format!(
                "SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = ?1 ORDER BY rowid"
            );
            let mut stmt = c.prepare(&sql)?;
            let rows = stmt.query_map(params![tenant.as_str()], api_key_from_row)?;
            Ok(rows.collect::<Result<Vec<_>, _>>()?)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &ApiKeyId,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let (tenant, id) = (tenant.clone(), id.clone());
        self.with(move |c| {
            let n = c.execute(
                "UPDATE api_keys SET revoked_at = ?1
                 WHERE id = ?2 AND tenant_id = ?3 AND revoked_at IS NULL",
                params![at, id.as_str(), tenant.as_str()],
            )?;
            Ok(n == 1)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use crate::RoomStore;

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        crate::conformance::run_all(&SqliteStore::open_in_memory().unwrap()).await;
    }

    #[tokio::test]
    async fn passes_the_conformance_suite_on_a_file_and_keeps_records_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.db");
        let store = SqliteStore::open(&path).unwrap();
        crate::conformance::run_all(&store).await;
        let before = store.tenants().await.unwrap();
        drop(store);
        let reopened = SqliteStore::open(&path).unwrap();
        assert_eq!(reopened.tenants().await.unwrap(), before);
        assert!(!before.is_empty());
    }

    #[tokio::test]
    async fn refuses_a_database_from_a_newer_build() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.db");
        drop(SqliteStore::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            params![SCHEMA_VERSION + 1],
        )
        .unwrap();
        drop(conn);
        let err = SqliteStore::open(&path).unwrap_err();
        assert!(matches!(err, StoreError::Migration(_)), "{err}");
    }

    #[tokio::test]
    async fn the_audit_table_refuses_update_and_delete() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.db");
        let store = SqliteStore::open(&path).unwrap();
        crate::conformance::run_all(&store).await;
        drop(store);
        let conn = Connection::open(&path).unwrap();
        assert!(
            conn.execute("UPDATE audit_log SET outcome = 'x'", [])
                .is_err()
        );
        assert!(conn.execute("DELETE FROM audit_log", []).is_err());
    }

    /// A database written before rooms were stored (schema 4) keeps its tenants, which get
    /// the recording policy off, and gains the rooms table.
    #[tokio::test]
    async fn a_schema_4_database_upgrades_with_its_tenants() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.db");
        let mut conn = Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 4).unwrap();
        conn.execute(
            "INSERT INTO tenants (id, name, created_at, allowed_origins) VALUES ('ten_old', 'old', 5, '')",
            [],
        )
        .unwrap();
        drop(conn);
        let store = SqliteStore::open(&path).unwrap();
        let t = store
            .tenant(&TenantId::new("ten_old"))
            .await
            .unwrap()
            .unwrap();
        assert!(!t.require_consent_by_default);
        assert!(
            t.agent_desktop_origins.is_empty(),
            "migration 8 defaults to none"
        );
        assert_eq!(t.default_locale, None, "migration 9 defaults to none");
        store.create_room(&t.id, "r", true, 6).await.unwrap();
        assert!(
            store
                .room(&t.id, "r")
                .await
                .unwrap()
                .unwrap()
                .require_recording_consent
        );
    }

    /// Migration 9 (issue 17): payments stored before it get their deadline from their
    /// document, so the expiry sweeper finds the open ones already overdue; refunds work on
    /// them.
    #[tokio::test]
    async fn a_schema_8_database_upgrades_with_its_payments_deadlines() {
        use crate::{PaymentStore, RefundInsert, RefundRecord, RefundStore};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.db");
        let mut conn = Connection::open(&path).unwrap();
        migrations::migrate_to(&mut conn, 8).unwrap();
        conn.execute(
            "INSERT INTO tenants (id, name, created_at, allowed_origins) VALUES ('ten_old', 'old', 5, '')",
            [],
        )
        .unwrap();
        for (id, state, expires) in [
            ("pay_open", "requested", 900),
            ("pay_done", "succeeded", 800),
        ] {
            conn.execute(
                "INSERT INTO payments (id, tenant_id, idempotency_key, request_hash, state, document,
                                       client_secret_hash, created_at, updated_at, version)
                 VALUES (?1, 'ten_old', NULL, 'h', ?2, ?3, NULL, 1, 1, 1)",
                rusqlite::params![id, state, format!(r#"{{"id":"{id}","expires_at":{expires}}}"#)],
            )
            .unwrap();
        }
        drop(conn);
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(
            store.payment("pay_done").await.unwrap().unwrap().expires_at,
            800
        );
        assert_eq!(
            store.overdue_payments(1000, 10).await.unwrap(),
            vec!["pay_open".to_owned()],
            "the open payment is overdue, the finished one is not listed"
        );
        assert!(store.overdue_payments(899, 10).await.unwrap().is_empty());
        let refund = RefundRecord {
            id: "re_1".into(),
            tenant: TenantId::new("ten_old"),
            payment_id: "pay_done".into(),
            idempotency_key: None,
            request_hash: "h".into(),
            amount: 5,
            state: "pending".into(),
            document: "{}".into(),
            created_at: 2,
            updated_at: 2,
        };
        assert_eq!(
            store.insert_refund(&refund, 10).await.unwrap(),
            RefundInsert::Inserted
        );
    }

    /// `schema_version_of` reads a database without migrating or writing it.
    #[test]
    fn the_schema_version_is_read_without_writing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.db");
        assert!(SqliteStore::schema_version_of(&path).is_err(), "no file");
        assert!(!path.exists(), "reading created the file");
        let mut conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE other (x INTEGER)")
            .unwrap();
        assert_eq!(SqliteStore::schema_version_of(&path).unwrap(), 0);
        migrations::migrate_to(&mut conn, 4).unwrap();
        drop(conn);
        let before = std::fs::read(&path).unwrap();
        assert_eq!(SqliteStore::schema_version_of(&path).unwrap(), 4);
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "reading wrote the file"
        );
        drop(SqliteStore::open(&path).unwrap());
        assert_eq!(
            SqliteStore::schema_version_of(&path).unwrap(),
            SqliteStore::SCHEMA_VERSION
        );
        std::fs::write(&path, b"not a database, just text").unwrap();
        assert!(SqliteStore::schema_version_of(&path).is_err());
    }

    #[tokio::test]
    async fn migrations_are_idempotent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.db");
        for _ in 0..3 {
            drop(SqliteStore::open(&path).unwrap());
        }
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, SCHEMA_VERSION);
    }
}
