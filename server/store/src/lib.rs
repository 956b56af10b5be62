//! Hushpay's storage layer.
//!
//! One small trait, [`Store`], holds every durable record the gateway keeps: tenants and their
//! API keys, the vault's tokens and keys, the audit log, payment sessions, encrypted chat transcripts, the
//! webhook outbox with its endpoints and deliveries, rooms with their settings, and the index of
//! call recordings.
//! Methods are single-query primitives (the hyperswitch-card-vault layering): multi-step logic
//! lives in the callers' domain code, never here.
//!
//! Implementations:
//! - [`MemoryStore`]: in-process maps, for tests and ephemeral runs;
//! - [`SqliteStore`]: the embedded default, one file with WAL, migrations applied at open;
//! - [`PgStore`]: PostgreSQL (tokio-postgres with a small pool), migrations applied at open,
//!   the audit log made append-only by database triggers; tests run in a [`ScratchSchema`].
//!
//! All three pass the same [`conformance`] suite (PostgreSQL against the real server).
//!
//! The store never sees card data in plaintext: callers hand it ciphertext, hashes and masked
//! metadata only. Secrets such as API keys are stored as SHA-256 hashes.

mod chat_model;
mod error;
mod memory;
mod model;
mod payment_model;
pub mod postgres;
mod recording_model;
mod room_model;
mod sqlite;
mod vault_model;

pub mod conformance;
mod conformance_chat;
mod conformance_leases;
mod conformance_payments;
mod conformance_recordings;
mod conformance_rooms;
mod conformance_vault;

use std::sync::Arc;

use async_trait::async_trait;

pub use chat_model::ChatRecord;
pub use error::StoreError;
pub use memory::MemoryStore;
pub use model::{ApiKeyId, ApiKeyRecord, Tenant, TenantId, UnixTime};
pub use payment_model::{
    DeliveryAttempt, DeliveryLease, DeliveryRecord, DeliveryStatus, OutboxEvent, PaymentRecord,
    WebhookEndpointRecord,
};
pub use postgres::{PgStore, PgUrl, ScratchSchema};
pub use recording_model::{RecordingLease, RecordingRecord};
pub use room_model::RoomRecord;
pub use sqlite::SqliteStore;
pub use vault_model::{AuditRecord, DataKeyRecord, DataKeyState, TokenRecord};

/// Builds the audit entries to append after the chain's head (the last entry, `None` for an
/// empty log); called by [`Store::insert_tokens_chained`] while the head is held. The store
/// never computes hashes itself: the chain's format belongs to the caller.
pub type AuditChainer = dyn Fn(Option<&AuditRecord>) -> Vec<AuditRecord> + Send + Sync;

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

    /// Inserts a wrapped data key. The same (tenant, version) twice is a
    /// [`StoreError::Conflict`].
    async fn insert_data_key(&self, key: &DataKeyRecord) -> Result<(), StoreError>;
    /// The tenant's data keys, lowest version first.
    async fn data_keys(&self, tenant: &TenantId) -> Result<Vec<DataKeyRecord>, StoreError>;
    /// Marks a data key version retired (decrypt only). False when there is no such key.
    async fn retire_data_key(&self, tenant: &TenantId, version: u32) -> Result<bool, StoreError>;
    /// Adds `count` to the key version's invocation counter and returns the new total; `None`
    /// when there is no such key. The write is durable before this returns.
    async fn reserve_key_invocations(
        &self,
        tenant: &TenantId,
        version: u32,
        count: u64,
    ) -> Result<Option<u64>, StoreError>;

    /// Inserts a token. The same id twice is a [`StoreError::Conflict`].
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// Inserts several tokens in one transaction (group commit): all or none.
    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError>;
    /// In one transaction: inserts the tokens and appends the audit entries (group commit of
    /// tokenizations with their audit trail). All or none: a token id or audit `seq` that
    /// exists is a [`StoreError::Conflict`] and nothing is written.
    async fn insert_tokens_audited(
        &self,
        tokens: &[TokenRecord],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;
    /// In one transaction that holds the audit chain's head for its whole length (no other
    /// append, from this process or another, can run in between): reads the last entry,
    /// builds the entries to append after it with `chain` (given `None` for an empty log),
    /// inserts `tokens` and those entries, and returns the entries. Appends from many
    /// gateways on one database form one chain without refusing each other. All or none: a
    /// token id that exists is a [`StoreError::Conflict`] and nothing is written.
    async fn insert_tokens_chained(
        &self,
        tokens: &[TokenRecord],
        chain: Arc<AuditChainer>,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// The token with this id if it belongs to `tenant`.
    async fn token(&self, tenant: &TenantId, id: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Up to `limit` ids of the tenant's tokens under a key version below `version`.
    async fn tokens_below_key_version(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Replaces a token's ciphertext (rewrap). False when the token is not the tenant's or is
    /// no longer under `old_version`.
    async fn rewrap_token(
        &self,
        tenant: &TenantId,
        id: &str,
        old_version: u32,
        new_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError>;

    /// Appends an audit entry. An existing `seq` is a [`StoreError::Conflict`]; entries are
    /// never updated or deleted through this trait.
    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError>;
    /// Up to `limit` audit entries with `seq > after`, in order.
    async fn audit_entries(&self, after: u64, limit: usize)
    -> Result<Vec<AuditRecord>, StoreError>;
    /// The entry with the highest `seq`, if any.
    async fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError>;

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
    /// Enqueues events: each gets one pending delivery per active endpoint of its tenant,
    /// due at its `created_at`.
    async fn insert_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError>;
    /// The outbox event with this id.
    async fn event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError>;

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
    /// ([`Store::record_delivery_attempt`] ends the lease) or it is released. Atomic: two
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
    /// Inserts a chat message (already encrypted). The same (tenant, id) twice is a
    /// [`StoreError::Conflict`]; an unknown tenant is refused.
    async fn insert_chat_message(&self, message: &ChatRecord) -> Result<(), StoreError>;
    /// The tenant's message `id` in `room`, if any.
    async fn chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
    ) -> Result<Option<ChatRecord>, StoreError>;
    /// The room's transcript, oldest first (by time, then insertion).
    async fn chat_messages(
        &self,
        tenant: &TenantId,
        room: &str,
    ) -> Result<Vec<ChatRecord>, StoreError>;
    /// Replaces a message's ciphertext (a retraction re-encrypts it without the text). False
    /// when the tenant has no such message in `room`.
    async fn replace_chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
        key_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError>;

    /// Creates the tenant's room `name` with `require_recording_consent`, created at `at`; a
    /// stored room of that name takes the new setting and time and loses its consent
    /// (`consent_at` cleared). `ended_at` is never changed here. An unknown tenant is refused.
    async fn create_room(
        &self,
        tenant: &TenantId,
        name: &str,
        require_recording_consent: bool,
        at: UnixTime,
    ) -> Result<(), StoreError>;
    /// Stores the room with no settings of its own (a join opened it) unless it is stored
    /// already; true when it was inserted. An unknown tenant is refused.
    async fn ensure_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// The tenant's room `name`, if stored.
    async fn room(&self, tenant: &TenantId, name: &str) -> Result<Option<RoomRecord>, StoreError>;
    /// Records the patient's recording consent at `at`. False when the room is not stored.
    async fn record_room_consent(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Records that the tenant ended the room at `at` (`ended_at` only moves forward) and
    /// clears its consent. False when the room is not stored.
    async fn end_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;

    /// Indexes a recording. The same (tenant, id) twice is a [`StoreError::Conflict`]; an
    /// unknown tenant is refused.
    async fn insert_recording(&self, recording: &RecordingRecord) -> Result<(), StoreError>;
    /// The tenant's recording `id`, if indexed.
    async fn recording(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<RecordingRecord>, StoreError>;
    /// Up to `limit` of the tenant's recordings (of `room` only, when given), newest first
    /// (by start, then id).
    async fn recordings(
        &self,
        tenant: &TenantId,
        room: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError>;
    /// Claims up to `limit` recordings of any tenant that started before `started_before_ms`
    /// and that no live lease holds, oldest first, each leased to `lease.owner` until
    /// `lease.until`. Atomic: two concurrent claimers, in one process or many, never get the
    /// same recording; a lease that ran out (its sweeper died) makes the recording claimable
    /// again.
    async fn claim_recordings_for_deletion(
        &self,
        lease: &RecordingLease,
        started_before_ms: i64,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError>;
    /// Records that the recording's deletion was audited. False (nothing written) unless
    /// `owner` made the last claim of it (a sweeper whose lease ran out and was taken over
    /// leaves the recording to the new owner).
    async fn mark_recording_deletion_audited(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError>;
    /// Removes the recording from the index. False (nothing removed) unless `owner` made the
    /// last claim of it.
    async fn delete_recording(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError>;
}
