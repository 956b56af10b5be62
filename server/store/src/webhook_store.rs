//! [`WebhookStore`]: webhook endpoints and the deliveries of outbox events to them, with their
//! leases and attempt log. Each backend implements it in its payments file, beside
//! [`crate::PaymentStore`] (events and deliveries share tables and transactions).

use async_trait::async_trait;

use crate::{
    DeliveryAttempt, DeliveryLease, DeliveryRecord, StoreError, TenantId, UnixTime,
    WebhookEndpointRecord,
};

/// Webhook endpoints and deliveries.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait WebhookStore: Send + Sync + std::fmt::Debug {
    /// Inserts a webhook endpoint.
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpointRecord,
    ) -> Result<(), StoreError>;
    /// The tenant's endpoints that are not deleted, oldest first.
    async fn webhook_endpoints(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<WebhookEndpointRecord>, StoreError>;
    /// The tenant's endpoint with this id, deleted or not.
    async fn webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>, StoreError>;
    /// Marks the endpoint deleted at `at`; its pending deliveries fail. False when the tenant
    /// has no such live endpoint.
    async fn delete_webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Claims up to `limit` pending deliveries due at `lease.now` that no live lease holds,
    /// at most `per_tenant` of each tenant (its earliest), in rounds: every tenant's earliest
    /// before any tenant's second, each round earliest first. One tenant's backlog cannot fill
    /// the batch. Each returned delivery is leased to `lease.owner` until `lease.until`: no
    /// claim returns it again before then unless its attempt is recorded
    /// ([`WebhookStore::record_delivery_attempt`] ends the lease) or it is released. Atomic: two
    /// concurrent claimers, in one process or many, never get the same delivery.
    async fn claim_deliveries(
        &self,
        lease: &DeliveryLease,
        per_tenant: usize,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;
    /// Ends `owner`'s leases on these (event id, endpoint id) deliveries, claimed but not
    /// attempted; returns how many ended. Other owners' leases are left alone.
    async fn release_deliveries(
        &self,
        owner: &str,
        deliveries: &[(String, String)],
    ) -> Result<u64, StoreError>;
    /// Moves the endpoint's pending deliveries due before `until` to `until` without counting
    /// an attempt (an open circuit breaker); returns how many moved.
    async fn defer_deliveries(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        until: UnixTime,
    ) -> Result<u64, StoreError>;
    /// In one transaction: appends `attempt` to the delivery log and applies it to its
    /// delivery (attempts, status, next attempt), ending its lease. False when no such
    /// delivery exists.
    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt) -> Result<bool, StoreError>;
    /// The newest `limit` log entries of the tenant's endpoint, newest first.
    async fn delivery_log(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError>;
}
