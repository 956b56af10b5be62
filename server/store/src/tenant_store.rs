//! [`TenantStore`]: the store's root records, tenants and their API keys, and the round trip
//! that proves the backend answers. Each backend implements it next to its connection
//! (`memory.rs`, `sqlite/mod.rs`, `postgres/mod.rs`).

use async_trait::async_trait;

use crate::{ApiKeyId, ApiKeyRecord, StoreError, Tenant, TenantId, UnixTime};

/// Tenants and their API keys (secrets already hashed), and the backend's liveness.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait TenantStore: Send + Sync + std::fmt::Debug {
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
    /// Sets the tenant's recording policy `require_consent_by_default`. False when there is
    /// no such tenant.
    async fn set_tenant_consent_by_default(
        &self,
        tenant: &TenantId,
        require: bool,
    ) -> Result<bool, StoreError>;
    /// Replaces the tenant's `agent_desktop_origins` (validated by the caller). False when
    /// there is no such tenant.
    async fn set_tenant_agent_desktop_origins(
        &self,
        tenant: &TenantId,
        origins: &[String],
    ) -> Result<bool, StoreError>;
    /// Sets (or with `None` clears) the tenant's `default_locale` (validated by the caller).
    /// False when there is no such tenant.
    async fn set_tenant_default_locale(
        &self,
        tenant: &TenantId,
        locale: Option<&str>,
    ) -> Result<bool, StoreError>;
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
