//! An in-memory [`crate::Store`]: maps behind one mutex. Nothing survives the process.
//!
//! This file holds the maps, tenants and API keys ([`crate::TenantStore`]); each other area's
//! trait is implemented in its own `memory_*.rs` file.

#[path = "memory_chat.rs"]
mod chat;
#[path = "memory_payments.rs"]
mod payments;
#[path = "memory_recordings.rs"]
mod recordings;
#[path = "memory_refunds.rs"]
mod refunds;
#[path = "memory_rooms.rs"]
mod rooms;
#[path = "memory_vault.rs"]
mod vault;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use crate::{
    ApiKeyId, ApiKeyRecord, AuditRecord, ChatRecord, DataKeyRecord, DeliveryAttempt,
    DeliveryRecord, DeliveryStatus, OutboxEvent, PaymentRecord, RefundRecord, RoomRecord,
    SavedCardRecord, StoreError, Tenant, TenantId, TenantStore, TokenRecord, UnixTime,
    WebhookEndpointRecord,
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
    /// Saved cards, by token id.
    saved_cards: BTreeMap<String, SavedCardRecord>,
    audit: BTreeMap<u64, AuditRecord>,
    payments: BTreeMap<String, PaymentRecord>,
    /// With the insertion sequence (listings in insertion order).
    refunds: BTreeMap<String, (u64, RefundRecord)>,
    events: BTreeMap<String, OutboxEvent>,
    endpoints: BTreeMap<String, (u64, WebhookEndpointRecord)>,
    deliveries: BTreeMap<(String, String), DeliveryRecord>,
    /// Delivery leases: (owner, until), by (event id, endpoint id).
    leases: BTreeMap<(String, String), (String, UnixTime)>,
    delivery_log: Vec<DeliveryAttempt>,
    /// By (tenant, message id), with the insertion sequence.
    chat: BTreeMap<(TenantId, String), (u64, ChatRecord)>,
    /// By (tenant, room name).
    rooms: BTreeMap<(TenantId, String), RoomRecord>,
    /// The recording index with its leases, by (tenant, recording id).
    recordings: BTreeMap<(TenantId, String), recordings::Indexed>,
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

    /// Refuses tokens of unknown tenants and ids already stored or repeated in `tokens`.
    fn check_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        for t in tokens {
            if !self.tenants.contains_key(&t.tenant) {
                return Err(StoreError::Conflict(format!("no tenant {}", t.tenant)));
            }
            if self.tokens.contains_key(&t.id) || !ids.insert(t.id.as_str()) {
                return Err(StoreError::Conflict(format!("token {}", t.id)));
            }
        }
        Ok(())
    }

    /// Refuses audit entries whose `seq` is stored or repeated in `entries`.
    fn check_audit(&self, entries: &[AuditRecord]) -> Result<(), StoreError> {
        let mut seqs = std::collections::BTreeSet::new();
        for e in entries {
            if self.audit.contains_key(&e.seq) || !seqs.insert(e.seq) {
                return Err(StoreError::Conflict(format!("audit seq {}", e.seq)));
            }
        }
        Ok(())
    }

    /// Checks every event first, then enqueues them all with their deliveries.
    fn enqueue(&mut self, events: &[OutboxEvent]) -> Result<(), StoreError> {
        let mut ids = std::collections::BTreeSet::new();
        for e in events {
            if self.events.contains_key(&e.id) || !ids.insert(e.id.as_str()) {
                return Err(StoreError::Conflict(format!("event {}", e.id)));
            }
        }
        for e in events {
            let endpoints: Vec<String> = self
                .endpoints
                .values()
                .filter(|(_, w)| w.tenant == e.tenant && w.deleted_at.is_none())
                .filter(|(_, w)| {
                    w.format == crate::WebhookFormat::StandardWebhooks || e.fhir_payload.is_some()
                })
                .map(|(_, w)| w.id.clone())
                .collect();
            for endpoint_id in endpoints {
                self.deliveries.insert(
                    (e.id.clone(), endpoint_id.clone()),
                    DeliveryRecord {
                        event_id: e.id.clone(),
                        endpoint_id,
                        tenant: e.tenant.clone(),
                        attempts: 0,
                        status: DeliveryStatus::Pending,
                        next_attempt_at: Some(e.created_at),
                    },
                );
            }
            self.events.insert(e.id.clone(), e.clone());
        }
        Ok(())
    }
}

fn sorted<T: Clone>(items: impl Iterator<Item = (u64, T)>) -> Vec<T> {
    let mut v: Vec<(u64, T)> = items.collect();
    v.sort_by_key(|(seq, _)| *seq);
    v.into_iter().map(|(_, t)| t).collect()
}

#[async_trait]
impl TenantStore for MemoryStore {
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

    async fn set_tenant_consent_by_default(
        &self,
        tenant: &TenantId,
        require: bool,
    ) -> Result<bool, StoreError> {
        Ok(match self.lock().tenants.get_mut(tenant) {
            Some((_, t)) => {
                t.require_consent_by_default = require;
                true
            }
            None => false,
        })
    }

    async fn set_tenant_agent_desktop_origins(
        &self,
        tenant: &TenantId,
        origins: &[String],
    ) -> Result<bool, StoreError> {
        Ok(match self.lock().tenants.get_mut(tenant) {
            Some((_, t)) => {
                t.agent_desktop_origins = origins.to_vec();
                true
            }
            None => false,
        })
    }

    async fn set_tenant_default_locale(
        &self,
        tenant: &TenantId,
        locale: Option<&str>,
    ) -> Result<bool, StoreError> {
        Ok(match self.lock().tenants.get_mut(tenant) {
            Some((_, t)) => {
                t.default_locale = locale.map(str::to_owned);
                true
            }
            None => false,
        })
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passes_the_conformance_suite() {
        crate::conformance::run_all(&MemoryStore::new()).await;
    }
}
