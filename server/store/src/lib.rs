//! Hushpay's storage layer.
//!
//! One small trait, [`Store`], holds every durable record the gateway keeps: tenants and their
//! API keys today, the vault's tokens, the audit log and the webhook outbox as they arrive.
//! Methods are single-query primitives (the hyperswitch-card-vault layering): multi-step logic
//! lives in the callers' domain code, never here.
//!
//! Implementations:
//! - [`MemoryStore`]: in-process maps, for tests and ephemeral runs;
//! - [`SqliteStore`]: the embedded default, one file with WAL, migrations applied at open;
//! - PostgreSQL arrives with the vault and runs the same [`conformance`] suite.
//!
//! The store never sees card data in plaintext: callers hand it ciphertext, hashes and masked
//! metadata only. Secrets such as API keys are stored as SHA-256 hashes.

mod error;
mod memory;
mod model;
mod sqlite;

pub mod conformance;

use async_trait::async_trait;

pub use error::StoreError;
pub use memory::MemoryStore;
pub use model::{ApiKeyId, ApiKeyRecord, Tenant, TenantId, UnixTime};
pub use sqlite::SqliteStore;

/// The durable records of a Hushpay gateway.
///
/// Every method is one query (or one transaction around one logical write). Errors are typed:
/// [`StoreError::Conflict`] for uniqueness violations, [`StoreError::Backend`] for everything the
/// backend reports.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// A cheap round trip proving the backend answers (used by `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts a tenant. A tenant with the same id or name is a [`StoreError::Conflict`].
    async fn insert_tenant(&self, tenant: &Tenant) -> Result<(), StoreError>;
    /// The tenant with this id, if any.
    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError>;
    /// The tenant with this name, if any.
    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError>;
    /// All tenants, oldest first.
    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError>;

    /// Inserts an API key record (its secret already hashed).
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError>;
    /// The API key with this id, revoked or not.
    async fn api_key(&self, id: &ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// The tenant's API keys, oldest first.
    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Marks the key revoked at `at`. Returns false when the tenant has no such unrevoked key.
    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &ApiKeyId,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
}
