//! The PostgreSQL store, for deployments that run more than one gateway or already operate
//! PostgreSQL: `store = "postgres://..."` in the gateway's config.
//!
//! ## Driver choice
//!
//! [`tokio_postgres`] with a [`deadpool_postgres`] pool. It is the maintained, tokio-native
//! driver with no macros, no compile-time database access and no ORM, and the pool is a thin
//! crate on top of it; sqlx would pull in a query macro system and its own runtime layer for
//! the twenty-odd fixed statements this store needs.
//!
//! ## TLS
//!
//! Every connection goes through rustls (ring), as the URL's `sslmode` says ([`tls`]:
//! `disable`, `prefer` (the default, as in libpq), `require`, `verify-full` with
//! `sslrootcert=FILE` or the system's roots). Only `require` and `verify-full` guarantee
//! encryption, and only `verify-full` authenticates the server; the gateway refuses a server
//! beyond loopback without one of them in production.
//!
//! ## Durability and layout
//!
//! Every write is one statement or one transaction, committed with the server's
//! `synchronous_commit` (on by default), so a write that returned `Ok` survives `kill -9` of
//! the gateway and of the server. Migrations ([`migrations`]) run at [`PgStore::open`]. Tables
//! live in the first schema of the connection's `search_path` (`public` unless the URL sets
//! `options=-csearch_path%3D<schema>`), which is how tests isolate themselves
//! ([`ScratchSchema`]). The audit log is append-only in the database itself: triggers raise
//! on `UPDATE`, `DELETE` and `TRUNCATE`.
//!
//! This file holds the pool, tenants and API keys ([`crate::TenantStore`]); each other area's
//! trait is implemented in the area's file (`vault.rs`, `payments.rs`, `chat.rs`, `rooms.rs`,
//! `recordings.rs`).

mod chat;
mod convert;
mod error;
mod migrations;
mod payments;
mod recordings;
mod refunds;
mod rooms;
mod scratch;
mod tls;
mod url;
mod vault;

use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use tokio_postgres::Row;

use crate::{ApiKeyId, ApiKeyRecord, StoreError, Tenant, TenantId, TenantStore, UnixTime};

pub use scratch::{DEFAULT_TEST_SERVER, ScratchSchema};
pub use tls::{PgTlsConnect, PgTlsConnector, PgTlsStream, RootCertificates, SslMode};
pub use url::PgUrl;

/// Connections kept by one store (PostgreSQL's default limit is 100 for the whole server).
pub const DEFAULT_POOL_SIZE: usize = 16;
/// How long a caller waits for a free connection before the store reports an error.
const POOL_WAIT: Duration = Duration::from_secs(30);

/// The PostgreSQL-backed store.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: Pool,
}

impl PgStore {
    /// Connects once, applies migrations, and returns a store with a pool of
    /// [`DEFAULT_POOL_SIZE`] connections (opened lazily, on the caller's tokio runtime).
    pub async fn open(url: &PgUrl) -> Result<PgStore, StoreError> {
        let (mut client, connection) = url.config().connect(url.tls()).await?;
        let driver = tokio::spawn(connection);
        let migrated = migrations::migrate(&mut client).await;
        drop(client);
        let _ = driver.await;
        migrated?;
        PgStore::pool(url, DEFAULT_POOL_SIZE)
    }

    /// [`PgStore::open`] for synchronous start-up code (it may run inside a tokio runtime):
    /// migrations run on a helper thread with its own runtime.
    pub fn open_blocking(url: &PgUrl) -> Result<PgStore, StoreError> {
        let url = url.clone();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StoreError::Backend(format!("migration runtime: {e}")))?
                .block_on(PgStore::open(&url))
        })
        .join()
        .map_err(|_| StoreError::Backend("migration thread panicked".into()))?
    }

    /// The schema version this build writes (migrations bring a schema to it at open).
    pub const SCHEMA_VERSION: i64 = migrations::CURRENT_VERSION;

    /// The schema version at `url`, read in one connection without writing anything (no
    /// migration): 0 for a schema no build has migrated yet. For checks such as
    /// `hushpay doctor`; an unreachable server or a refused login is an error.
    pub async fn schema_version_of(url: &PgUrl) -> Result<i64, StoreError> {
        let (client, connection) = url.config().connect(url.tls()).await?;
        let driver = tokio::spawn(connection);
        let version = async {
            let row = client
                .query_one("SELECT to_regclass('schema_version') IS NOT NULL", &[])
                .await?;
            if !row.get::<_, bool>(0) {
                return Ok(0);
            }
            let row = client
                .query_one("SELECT COALESCE(MAX(version), 0) FROM schema_version", &[])
                .await?;
            Ok::<i64, StoreError>(row.get(0))
        }
        .await;
        drop(client);
        let _ = driver.await;
        version
    }

    fn pool(url: &PgUrl, size: usize) -> Result<PgStore, StoreError> {
        let manager = Manager::from_config(
            url.config().clone(),
            url.tls(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(size)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| StoreError::Backend(format!("connection pool: {e}")))?;
        Ok(PgStore { pool })
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// Runs one statement (prepared once per connection) and returns the rows changed.
    async fn execute(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<u64, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.execute(&stmt, params).await?)
    }

    /// Runs one query (prepared once per connection) and returns its rows.
    async fn query(
        &self,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        let client = self.client().await?;
        let stmt = client.prepare_cached(sql).await?;
        Ok(client.query(&stmt, params).await?)
    }
}

const TENANT_COLUMNS: &str = "id, name, created_at, allowed_origins, require_consent_by_default, \
                              agent_desktop_origins, default_locale";
const API_KEY_COLUMNS: &str = "id, tenant_id, secret_hash, label, created_at, revoked_at";

fn tenant_from_row(row: &Row) -> Result<Tenant, StoreError> {
    Ok(Tenant {
        id: TenantId::new(row.try_get::<_, String>(0)?),
        name: row.try_get(1)?,
        created_at: row.try_get(2)?,
        allowed_origins: row.try_get(3)?,
        require_consent_by_default: row.try_get(4)?,
        agent_desktop_origins: row.try_get(5)?,
        default_locale: row.try_get(6)?,
    })
}

fn api_key_from_row(row: &Row) -> Result<ApiKeyRecord, StoreError> {
    Ok(ApiKeyRecord {
        id: ApiKeyId::new(row.try_get::<_, String>(0)?),
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        secret_hash: row.try_get(2)?,
        label: row.try_get(3)?,
        created_at: row.try_get(4)?,
        revoked_at: row.try_get(5)?,
    })
}

/// Decodes every row with `f`.
fn all<T>(rows: &[Row], f: fn(&Row) -> Result<T, StoreError>) -> Result<Vec<T>, StoreError> {
    rows.iter().map(f).collect()
}

/// Decodes the first row, if any, with `f`.
fn first<T>(rows: &[Row], f: fn(&Row) -> Result<T, StoreError>) -> Result<Option<T>, StoreError> {
    rows.first().map(f).transpose()
}

#[async_trait]
impl TenantStore for PgStore {
    async fn ping(&self) -> Result<(), StoreError> {
        self.query("SELECT 1", &[]).await.map(drop)
    }

    async fn insert_tenant(&self, t: &Tenant) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO tenants ({TENANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 7] = [
            &t.id.as_str(),
            &t.name,
            &t.created_at,
            &t.allowed_origins,
            &t.require_consent_by_default,
            &t.agent_desktop_origins,
            &t.default_locale,
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE id = $1");
        first(&self.query(&sql, &[&id.as_str()]).await?, tenant_from_row)
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants WHERE name = $1");
        first(&self.query(&sql, &[&name]).await?, tenant_from_row)
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        let sql = format!("SELECT {TENANT_COLUMNS} FROM tenants ORDER BY ord");
        all(&self.query(&sql, &[]).await?, tenant_from_row)
    }

    async fn set_tenant_consent_by_default(
        &self,
        tenant: &TenantId,
        require: bool,
    ) -> Result<bool, StoreError> {
        let n = self
            .execute(
                "UPDATE tenants SET require_consent_by_default = $2 WHERE id = $1",
                &[&tenant.as_str(), &require],
            )
            .await?;
        Ok(n == 1)
    }

    async fn set_tenant_agent_desktop_origins(
        &self,
        tenant: &TenantId,
        origins: &[String],
    ) -> Result<bool, StoreError> {
        let n = self
            .execute(
                "UPDATE tenants SET agent_desktop_origins = $2 WHERE id = $1",
                &[&tenant.as_str(), &origins],
            )
            .await?;
        Ok(n == 1)
    }

    async fn set_tenant_default_locale(
        &self,
        tenant: &TenantId,
        locale: Option<&str>,
    ) -> Result<bool, StoreError> {
        let n = self
            .execute(
                "UPDATE tenants SET default_locale = $2 WHERE id = $1",
                &[&tenant.as_str(), &locale],
            )
            .await?;
        Ok(n == 1)
    }

    async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<(), StoreError> {
        let sql =
            format!("INSERT INTO api_keys ({API_KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)");
        let params: [&(dyn tokio_postgres::types::ToSql + Sync); 6] = [
            &k.id.as_str(),
            &k.tenant.as_str(),
            &k.secret_hash,
            &k.label,
            &k.created_at,
            &k.revoked_at,
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn api_key(&self, id: &ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE id = $1");
        first(&self.query(&sql, &[&id.as_str()]).await?, api_key_from_row)
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql =
            format!("SELECT {API_KEY_COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY ord");
        all(
            &self.query(&sql, &[&tenant.as_str()]).await?,
            api_key_from_row,
        )
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &ApiKeyId,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = self
            .execute(
                "UPDATE api_keys SET revoked_at = $1
                 WHERE id = $2 AND tenant_id = $3 AND revoked_at IS NULL",
                &[&at, &id.as_str(), &tenant.as_str()],
            )
            .await?;
        Ok(n == 1)
    }
}

#[cfg(test)]
mod tests;
