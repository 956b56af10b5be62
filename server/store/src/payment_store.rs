//! [`PaymentStore`]: payment sessions and the outbox events their changes enqueue. Each
//! backend implements it in its payments file (`memory_payments.rs`, `sqlite/payments.rs`,
//! `postgres/payments.rs`), beside the [`crate::WebhookStore`] that delivers those events.

use async_trait::async_trait;

use crate::{OutboxEvent, PaymentRecord, StoreError, TenantId, UnixTime};

/// Payment sessions and the webhook outbox's events.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait PaymentStore: Send + Sync + std::fmt::Debug {
    /// Inserts a payment. The same id, or the same (tenant, idempotency key), is a
    /// [`StoreError::Conflict`].
    async fn insert_payment(&self, payment: &PaymentRecord) -> Result<(), StoreError>;
    /// The payment with this id (any tenant: callers check the tenant).
    async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError>;
    /// The tenant's payment created with this idempotency key.
    async fn payment_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<PaymentRecord>, StoreError>;
    /// In one transaction: replaces the payment's state, document and `updated_at` and sets
    /// its version to `payment.version` if the stored version is `expected_version`, and
    /// enqueues `events` (with their deliveries). False, with nothing written, when the
    /// version moved on.
    async fn update_payment(
        &self,
        payment: &PaymentRecord,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError>;
    /// Up to `limit` ids of payments still open (`requested`, `collecting`, `ready`) whose
    /// `expires_at` is at or before `now`, any tenant, earliest deadline first: the expiry
    /// sweeper's work.
    async fn overdue_payments(
        &self,
        now: UnixTime,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Enqueues events: each gets one pending delivery per active endpoint of its tenant,
    /// due at its `created_at`.
    async fn insert_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError>;
    /// The outbox event with this id.
    async fn event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError>;
}
