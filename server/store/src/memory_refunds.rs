//! Refunds in the [`super::MemoryStore`]: the limit check and the insert under its one lock.

use async_trait::async_trait;

use super::MemoryStore;
use crate::{OutboxEvent, RefundInsert, RefundRecord, RefundStore, StoreError, TenantId};

fn in_order(mut refunds: Vec<(u64, RefundRecord)>) -> Vec<RefundRecord> {
    refunds.sort_by_key(|(seq, _)| *seq);
    refunds.into_iter().map(|(_, r)| r).collect()
}

#[async_trait]
impl RefundStore for MemoryStore {
    async fn insert_refund(
        &self,
        refund: &RefundRecord,
        limit: u64,
    ) -> Result<RefundInsert, StoreError> {
        let mut inner = self.lock();
        let theirs = inner
            .payments
            .get(&refund.payment_id)
            .is_some_and(|p| p.tenant == refund.tenant);
        if !theirs {
            return Err(StoreError::Conflict(format!(
                "no payment {} of tenant {}",
                refund.payment_id, refund.tenant
            )));
        }
        let duplicate_key = refund.idempotency_key.is_some()
            && inner.refunds.values().any(|(_, r)| {
                r.tenant == refund.tenant && r.idempotency_key == refund.idempotency_key
            });
        if inner.refunds.contains_key(&refund.id) || duplicate_key {
            return Err(StoreError::Conflict(format!("refund {}", refund.id)));
        }
        let refunded: u64 = inner
            .refunds
            .values()
            .filter(|(_, r)| r.payment_id == refund.payment_id && r.state != "failed")
            .map(|(_, r)| r.amount)
            .sum();
        if refunded.saturating_add(refund.amount) > limit {
            return Ok(RefundInsert::Exceeds { refunded });
        }
        let seq = inner.next_seq();
        inner
            .refunds
            .insert(refund.id.clone(), (seq, refund.clone()));
        Ok(RefundInsert::Inserted)
    }

    async fn finish_refund(
        &self,
        refund: &RefundRecord,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError> {
        let mut inner = self.lock();
        match inner.refunds.get(&refund.id) {
            Some((_, r)) if r.tenant == refund.tenant && r.state == "pending" => {}
            _ => return Ok(false),
        }
        inner.enqueue(events)?;
        if let Some((_, r)) = inner.refunds.get_mut(&refund.id) {
            r.state = refund.state.clone();
            r.document = refund.document.clone();
            r.updated_at = refund.updated_at;
        }
        Ok(true)
    }

    async fn refund(&self, id: &str) -> Result<Option<RefundRecord>, StoreError> {
        Ok(self.lock().refunds.get(id).map(|(_, r)| r.clone()))
    }

    async fn refund_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<RefundRecord>, StoreError> {
        Ok(self
            .lock()
            .refunds
            .values()
            .find(|(_, r)| &r.tenant == tenant && r.idempotency_key.as_deref() == Some(key))
            .map(|(_, r)| r.clone()))
    }

    async fn refunds_of(&self, payment_id: &str) -> Result<Vec<RefundRecord>, StoreError> {
        Ok(in_order(
            self.lock()
                .refunds
                .values()
                .filter(|(_, r)| r.payment_id == payment_id)
                .cloned()
                .collect(),
        ))
    }
}
