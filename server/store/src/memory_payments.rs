//! Payments, the outbox, webhook endpoints and deliveries in the [`super::MemoryStore`].

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{MemoryStore, sorted};
use crate::{
    DeliveryAttempt, DeliveryLease, DeliveryRecord, DeliveryStatus, OutboxEvent, PaymentRecord,
    PaymentStore, StoreError, TenantId, UnixTime, WebhookEndpointRecord, WebhookStore,
};

#[async_trait]
impl PaymentStore for MemoryStore {
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
            p.expires_at = payment.expires_at;
            p.version = payment.version;
        }
        Ok(true)
    }

    async fn overdue_payments(
        &self,
        now: UnixTime,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let inner = self.lock();
        let mut due: Vec<(UnixTime, &String)> = inner
            .payments
            .values()
            .filter(|p| p.expires_at <= now && crate::payment_model::is_open(&p.state))
            .map(|p| (p.expires_at, &p.id))
            .collect();
        due.sort();
        Ok(due
            .into_iter()
            .take(limit)
            .map(|(_, id)| id.clone())
            .collect())
    }

    async fn insert_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError> {
        self.lock().enqueue(events)
    }

    async fn event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
        Ok(self.lock().events.get(id).cloned())
    }
}

#[async_trait]
impl WebhookStore for MemoryStore {
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
}
