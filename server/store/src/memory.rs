//! An in-memory [`Store`]: maps behind one mutex. Nothing survives the process.

#[path = "memory_recordings.rs"]
mod recordings;
#[path = "memory_rooms.rs"]
mod rooms;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;

use crate::{
    ApiKeyId, ApiKeyRecord, AuditChainer, AuditRecord, ChatRecord, DataKeyRecord, DataKeyState,
    DeliveryAttempt, DeliveryLease, DeliveryRecord, DeliveryStatus, OutboxEvent, PaymentRecord,
    RecordingLease, RecordingRecord, RoomRecord, Store, StoreError, Tenant, TenantId, TokenRecord,
    UnixTime, WebhookEndpointRecord,
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
    payments: BTreeMap<String, PaymentRecord>,
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
        self.insert_tokens_audited(tokens, &[]).await
    }

    async fn insert_tokens_audited(
        &self,
        tokens: &[TokenRecord],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        inner.check_tokens(tokens)?;
        inner.check_audit(audit)?;
        for t in tokens {
            inner.tokens.insert(t.id.clone(), t.clone());
        }
        for e in audit {
            inner.audit.insert(e.seq, e.clone());
        }
        Ok(())
    }

    async fn insert_tokens_chained(
        &self,
        tokens: &[TokenRecord],
        chain: Arc<AuditChainer>,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut inner = self.lock();
        let audit = chain(inner.audit.values().next_back());
        inner.check_tokens(tokens)?;
        inner.check_audit(&audit)?;
        for t in tokens {
            inner.tokens.insert(t.id.clone(), t.clone());
        }
        for e in &audit {
            inner.audit.insert(e.seq, e.clone());
        }
        Ok(audit)
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
        self.insert_tokens_audited(&[], std::slice::from_ref(entry))
            .await
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

    async fn insert_payment(&self, payment: &PaymentRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&payment.tenant) {
            return Err(StoreError::Conflict(format!(
                "no tenant {}",
                payment.tenant
            )));
        }
        let duplicate_key = payment.idempotency_key.is_some()
            && inner.payments.values().any(|p| {
                p.tenant == payment.tenant && p.idempotency_key == payment.idempotency_key
            });
        if inner.payments.contains_key(&payment.id) || duplicate_key {
            return Err(StoreError::Conflict(format!("payment {}", payment.id)));
        }
        inner.payments.insert(payment.id.clone(), payment.clone());
        Ok(())
    }

    async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self.lock().payments.get(id).cloned())
    }

    async fn payment_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        Ok(self
            .lock()
            .payments
            .values()
            .find(|p| &p.tenant == tenant && p.idempotency_key.as_deref() == Some(key))
            .cloned())
    }

    async fn update_payment(
        &self,
        payment: &PaymentRecord,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.payments.get(&payment.id) {
            Some(p) if p.version == expected_version && p.tenant == payment.tenant => {}
            _ => return Ok(false),
        }
        inner.enqueue(events)?;
        if let Some(p) = inner.payments.get_mut(&payment.id) {
            p.state = payment.state.clone();
            p.document = payment.document.clone();
            p.updated_at = payment.updated_at;
            p.version = payment.version;
        }
        Ok(true)
    }

    async fn insert_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError> {
        self.lock().enqueue(events)
    }

    async fn event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
        Ok(self.lock().events.get(id).cloned())
    }

    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpointRecord,
    ) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&endpoint.tenant) {
            return Err(StoreError::Conflict(format!(
                "no tenant {}",
                endpoint.tenant
            )));
        }
        if inner.endpoints.contains_key(&endpoint.id) {
            return Err(StoreError::Conflict(format!("endpoint {}", endpoint.id)));
        }
        let seq = inner.next_seq();
        inner
            .endpoints
            .insert(endpoint.id.clone(), (seq, endpoint.clone()));
        Ok(())
    }

    async fn webhook_endpoints(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
        Ok(sorted(
            self.lock()
                .endpoints
                .values()
                .filter(|(_, w)| &w.tenant == tenant && w.deleted_at.is_none())
                .cloned(),
        ))
    }

    async fn webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>, StoreError> {
        Ok(self
            .lock()
            .endpoints
            .get(id)
            .filter(|(_, w)| &w.tenant == tenant)
            .map(|(_, w)| w.clone()))
    }

    async fn delete_webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.endpoints.get_mut(id) {
            Some((_, w)) if &w.tenant == tenant && w.deleted_at.is_none() => {
                w.deleted_at = Some(at);
            }
            _ => return Ok(false),
        }
        for d in inner.deliveries.values_mut() {
            if d.endpoint_id == id && d.status == DeliveryStatus::Pending {
                d.status = DeliveryStatus::Failed;
                d.next_attempt_at = None;
            }
        }
        Ok(true)
    }

    async fn claim_deliveries(
        &self,
        lease: &DeliveryLease,
        per_tenant: usize,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut inner = self.lock();
        let now = lease.now;
        let mut by_tenant: BTreeMap<TenantId, Vec<DeliveryRecord>> = BTreeMap::new();
        for (key, d) in &inner.deliveries {
            let due =
                d.status == DeliveryStatus::Pending && d.next_attempt_at.is_some_and(|t| t <= now);
            let leased = inner.leases.get(key).is_some_and(|(_, until)| *until > now);
            if due && !leased {
                by_tenant
                    .entry(d.tenant.clone())
                    .or_default()
                    .push(d.clone());
            }
        }
        let mut ranked: Vec<(usize, DeliveryRecord)> = Vec::new();
        for mut due in by_tenant.into_values() {
            due.sort_by_key(|d| d.next_attempt_at);
            ranked.extend(due.into_iter().take(per_tenant).enumerate());
        }
        ranked.sort_by_key(|(rank, d)| (*rank, d.next_attempt_at));
        let claimed: Vec<DeliveryRecord> = ranked.into_iter().take(limit).map(|(_, d)| d).collect();
        for d in &claimed {
            let key = (d.event_id.clone(), d.endpoint_id.clone());
            inner.leases.insert(key, (lease.owner.clone(), lease.until));
        }
        Ok(claimed)
    }

    async fn release_deliveries(
        &self,
        owner: &str,
        deliveries: &[(String, String)],
    ) -> Result<u64, StoreError> {
        let mut inner = self.lock();
        let mut released = 0;
        for key in deliveries {
            if inner.leases.get(key).is_some_and(|(o, _)| o == owner) {
                inner.leases.remove(key);
                released += 1;
            }
        }
        Ok(released)
    }

    async fn defer_deliveries(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        until: UnixTime,
    ) -> Result<u64, StoreError> {
        let mut moved = 0;
        for d in self.lock().deliveries.values_mut() {
            if &d.tenant == tenant
                && d.endpoint_id == endpoint_id
                && d.status == DeliveryStatus::Pending
                && d.next_attempt_at.is_some_and(|t| t < until)
            {
                d.next_attempt_at = Some(until);
                moved += 1;
            }
        }
        Ok(moved)
    }

    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        let key = (attempt.event_id.clone(), attempt.endpoint_id.clone());
        match inner.deliveries.get_mut(&key) {
            Some(d) if d.tenant == attempt.tenant => {
                d.attempts = attempt.attempt;
                d.status = attempt.status;
                d.next_attempt_at = attempt.next_attempt_at;
            }
            _ => return Ok(false),
        }
        inner.leases.remove(&key);
        inner.delivery_log.push(attempt.clone());
        Ok(true)
    }

    async fn delivery_log(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        Ok(self
            .lock()
            .delivery_log
            .iter()
            .rev()
            .filter(|a| &a.tenant == tenant && a.endpoint_id == endpoint_id)
            .take(limit)
            .cloned()
            .collect())
    }

    async fn insert_chat_message(&self, message: &ChatRecord) -> Result<(), StoreError> {
        let mut inner = self.lock();
        if !inner.tenants.contains_key(&message.tenant) {
            return Err(StoreError::Conflict(format!(
                "no tenant {}",
                message.tenant
            )));
        }
        let key = (message.tenant.clone(), message.id.clone());
        if inner.chat.contains_key(&key) {
            return Err(StoreError::Conflict(format!("chat message {}", message.id)));
        }
        let seq = inner.next_seq();
        inner.chat.insert(key, (seq, message.clone()));
        Ok(())
    }

    async fn chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
    ) -> Result<Option<ChatRecord>, StoreError> {
        Ok(self
            .lock()
            .chat
            .get(&(tenant.clone(), id.to_owned()))
            .filter(|(_, m)| m.room == room)
            .map(|(_, m)| m.clone()))
    }

    async fn chat_messages(
        &self,
        tenant: &TenantId,
        room: &str,
    ) -> Result<Vec<ChatRecord>, StoreError> {
        let inner = self.lock();
        let mut v: Vec<(i64, u64, ChatRecord)> = inner
            .chat
            .values()
            .filter(|(_, m)| &m.tenant == tenant && m.room == room)
            .map(|(seq, m)| (m.at_ms, *seq, m.clone()))
            .collect();
        v.sort_by_key(|(at, seq, _)| (*at, *seq));
        Ok(v.into_iter().map(|(_, _, m)| m).collect())
    }

    async fn replace_chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
        key_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.chat.get_mut(&(tenant.clone(), id.to_owned())) {
            Some((_, m)) if m.room == room => {
                m.key_version = key_version;
                m.ciphertext = ciphertext.to_vec();
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn create_room(
        &self,
        tenant: &TenantId,
        name: &str,
        require_recording_consent: bool,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        rooms::create(
            &mut self.lock(),
            tenant,
            name,
            require_recording_consent,
            at,
        )
    }

    async fn ensure_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        rooms::ensure(&mut self.lock(), tenant, name, at)
    }

    async fn room(&self, tenant: &TenantId, name: &str) -> Result<Option<RoomRecord>, StoreError> {
        Ok(self
            .lock()
            .rooms
            .get(&(tenant.clone(), name.to_owned()))
            .cloned())
    }

    async fn record_room_consent(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        Ok(rooms::consent(&mut self.lock(), tenant, name, at))
    }

    async fn end_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        Ok(rooms::end(&mut self.lock(), tenant, name, at))
    }

    async fn insert_recording(&self, recording: &RecordingRecord) -> Result<(), StoreError> {
        recordings::insert(&mut self.lock(), recording)
    }

    async fn recording(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<RecordingRecord>, StoreError> {
        Ok(recordings::get(&self.lock(), tenant, id))
    }

    async fn recordings(
        &self,
        tenant: &TenantId,
        room: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        Ok(recordings::list(&self.lock(), tenant, room, limit))
    }

    async fn claim_recordings_for_deletion(
        &self,
        lease: &RecordingLease,
        started_before_ms: i64,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        Ok(recordings::claim(
            &mut self.lock(),
            lease,
            started_before_ms,
            limit,
        ))
    }

    async fn mark_recording_deletion_audited(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        Ok(recordings::mark_audited(
            &mut self.lock(),
            tenant,
            id,
            owner,
        ))
    }

    async fn delete_recording(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        Ok(recordings::delete(&mut self.lock(), tenant, id, owner))
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
