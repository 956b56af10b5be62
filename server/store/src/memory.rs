//! An in-memory [`Store`]: maps behind one mutex. Nothing survives the process.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::{
    ApiKeyId, ApiKeyRecord, AuditRecord, DataKeyRecord, DataKeyState, Store, StoreError, Tenant,
    TenantId, TokenRecord, UnixTime,
};

/// The in-memory store, for tests and throwaway gateways.
#[derive(Debug, Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Insertion order is kept by a sequence number so listings are oldest first.
    tenants: BTreeMap<TenantId, (u64, Tenant)>,
    api_keys: BTreeMap<ApiKeyId, (u64, ApiKeyRecord)>,
    data_keys: BTreeMap<(TenantId, u32), DataKeyRecord>,
    tokens: BTreeMap<String, TokenRecord>,
    audit: BTreeMap<u64, AuditRecord>,
    seq: u64,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A poisoned lock only means another thread panicked mid-operation; the maps are
        // still structurally valid because every write is a single insert.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Inner {
    fn next_seq(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }
}

fn sorted<T: Clone>(items: impl Iterator<Item = (u64, T)>) -> Vec<T> {
    let mut v: Vec<(u64, T)> = items.collect();
    v.sort_by_key(|(seq, _)| *seq);
    v.into_iter().map(|(_, t)| t).collect()
}

#[async_trait]
impl Store for MemoryStore {
    async fn ping(&self) -> Result<(), StoreError> {
        drop(self.lock());
        Ok(())
    }

    async fn insert_tenant(&self, tenant: &Tenant) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.tenants.contains_key(&tenant.id)
            || inner.tenants.values().any(|(_, t)| t.name == tenant.name)
        {
            return Err(StoreError::Conflict(format!("tenant {}", tenant.name)));
        }
        let seq = inner.next_seq();
        inner
            .tenants
            .insert(tenant.id.clone(), (seq, tenant.clone()));
        Ok(())
    }

    async fn tenant(&self, id: &TenantId) -> Result<Option<Tenant>, StoreError> {
        Ok(self.lock().tenants.get(id).map(|(_, t)| t.clone()))
    }

    async fn tenant_by_name(&self, name: &str) -> Result<Option<Tenant>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .tenants
            .values()
            .find(|(_, t)| t.name == name)
            .map(|(_, t)| t.clone()))
    }

    async fn tenants(&self) -> Result<Vec<Tenant>, StoreError> {
        Ok(sorted(self.lock().tenants.values().cloned()))
    }

    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&key.tenant) {
            return Err(StoreError::Conflict(format!("no tenant {}", key.tenant)));
        }
        if inner.api_keys.contains_key(&key.id) {
            return Err(StoreError::Conflict(format!("api key {}", key.id)));
        }
        let seq = inner.next_seq();
        inner.api_keys.insert(key.id.clone(), (seq, key.clone()));
        Ok(())
    }

    async fn api_key(&self, id: &ApiKeyId) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.lock().api_keys.get(id).map(|(_, k)| k.clone()))
    }

    async fn api_keys(&self, tenant: &TenantId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let inner = self.lock();
        Ok(sorted(
            inner
                .api_keys
                .values()
                .filter(|(_, k)| &k.tenant == tenant)
                .cloned(),
        ))
    }

    async fn revoke_api_key(
        &self,
        tenant: &TenantId,
        id: &ApiKeyId,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.api_keys.get_mut(id) {
            Some((_, key)) if &key.tenant == tenant && key.revoked_at.is_none() => {
                key.revoked_at = Some(at);
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn insert_data_key(&self, key: &DataKeyRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&key.tenant) {
            return Err(StoreError::Conflict(format!("no tenant {}", key.tenant)));
        }
        let k = (key.tenant.clone(), key.version);
        if inner.data_keys.contains_key(&k) {
            return Err(StoreError::Conflict(format!(
                "data key {} v{}",
                key.tenant, key.version
            )));
        }
        inner.data_keys.insert(k, key.clone());
        Ok(())
    }

    async fn data_keys(&self, tenant: &TenantId) -> Result<Vec<DataKeyRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .data_keys
            .values()
            .filter(|k| &k.tenant == tenant)
            .cloned()
            .collect())
    }

    async fn retire_data_key(&self, tenant: &TenantId, version: u32) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.data_keys.get_mut(&(tenant.clone(), version)) {
            Some(k) => {
                k.state = DataKeyState::Retired;
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn reserve_key_invocations(
        &self,
        tenant: &TenantId,
        version: u32,
        count: u64,
    ) -> Result<Option<u64>, StoreError> {
        let mut inner = self.lock();
        Ok(inner
            .data_keys
            .get_mut(&(tenant.clone(), version))
            .map(|k| {
                k.invocations = k.invocations.saturating_add(count);
                k.invocations
            }))
    }

    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError> {
        self.insert_tokens(std::slice::from_ref(token)).await
    }

    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let mut ids = std::collections::BTreeSet::new();
        for t in tokens {
            if !inner.tenants.contains_key(&t.tenant) {
                return Err(StoreError::Conflict(format!("no tenant {}", t.tenant)));
            }
            if inner.tokens.contains_key(&t.id) || !ids.insert(t.id.as_str()) {
                return Err(StoreError::Conflict(format!("token {}", t.id)));
            }
        }
        for t in tokens {
            inner.tokens.insert(t.id.clone(), t.clone());
        }
        Ok(())
    }

    async fn token(&self, tenant: &TenantId, id: &str) -> Result<Option<TokenRecord>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .get(id)
            .filter(|t| &t.tenant == tenant)
            .cloned())
    }

    async fn tokens_below_key_version(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        Ok(self
            .lock()
            .tokens
            .values()
            .filter(|t| &t.tenant == tenant && t.key_version < version)
            .take(limit)
            .map(|t| t.id.clone())
            .collect())
    }

    async fn rewrap_token(
        &self,
        tenant: &TenantId,
        id: &str,
        old_version: u32,
        new_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.tokens.get_mut(id) {
            Some(t) if &t.tenant == tenant && t.key_version == old_version => {
                t.key_version = new_version;
                t.ciphertext = ciphertext.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if inner.audit.contains_key(&entry.seq) {
            return Err(StoreError::Conflict(format!("audit seq {}", entry.seq)));
        }
        inner.audit.insert(entry.seq, entry.clone());
        Ok(())
    }

    async fn audit_entries(
        &self,
        after: u64,
        limit: usize,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let inner = self.lock();
        Ok(inner
            .audit
            .range(after.saturating_add(1)..)
            .take(limit)
            .map(|(_, e)| e.clone())
            .collect())
    }

    async fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError> {
        Ok(self.lock().audit.values().next_back().cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        crate::conformance::run_all(&MemoryStore::new()).await;
    }
}
