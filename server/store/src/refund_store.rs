//! [`RefundStore`]: refunds of payments, each checked against its payment's limit in the
//! transaction that inserts it. Each backend implements it in its refunds file
//! (`memory_refunds.rs`, `sqlite/refunds.rs`, `postgres/refunds.rs`).

use async_trait::async_trait;

use crate::{OutboxEvent, RefundInsert, RefundRecord, StoreError, TenantId};

/// Refunds.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait RefundStore: Send + Sync + std::fmt::Debug {
    /// In one transaction that no other refund of the same payment can interleave with (on
    /// any node): adds up the payment's refunds that are not `failed`, and inserts `refund`
    /// only if that sum plus its amount is at most `limit`. The same id, the same (tenant,
    /// idempotency key), or a payment that is not the tenant's is a [`StoreError::Conflict`].
    async fn insert_refund(
        &self,
        refund: &RefundRecord,
        limit: u64,
    ) -> Result<RefundInsert, StoreError>;
    /// In one transaction: sets a `pending` refund's state, document and `updated_at` and
    /// enqueues `events` (with their deliveries). False, with nothing written, when the
    /// tenant has no such refund or it is no longer `pending`.
    async fn finish_refund(
        &self,
        refund: &RefundRecord,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError>;
    /// The refund with this id (any tenant: callers check the tenant).
    async fn refund(&self, id: &str) -> Result<Option<RefundRecord>, StoreError>;
    /// The tenant's refund created with this idempotency key.
    async fn refund_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<RefundRecord>, StoreError>;
    /// The payment's refunds in the order they were inserted.
    async fn refunds_of(&self, payment_id: &str) -> Result<Vec<RefundRecord>, StoreError>;
}
