//! Hushpay's storage layer.
//!
//! One small trait per area holds the durable records the gateway keeps, each in its own file
//! and implemented in the backends' file of the same area:
//! - [`TenantStore`]: tenants and their API keys (and the backend's ping);
//! - [`VaultStore`]: the vault's data keys and tokens, and the audit log;
//! - [`PaymentStore`]: payment sessions and the outbox events they enqueue;
//! - [`WebhookStore`]: webhook endpoints and the deliveries of those events;
//! - [`RefundStore`]: refunds of payments, each within its payment's limit;
//! - [`ChatStore`]: encrypted chat transcripts;
//! - [`RoomStore`]: rooms with their settings;
//! - [`RecordingStore`]: the index of call recordings.
//!
//! [`Store`] is all of them at once (implemented for every type that implements them all): the
//! gateway keeps one `Arc<dyn Store>` and hands each component the area it needs
//! (`Arc<dyn Store>` upcasts to `Arc<dyn VaultStore>`); the vault crate sees only
//! [`VaultStore`]. Methods are single-query primitives (the hyperswitch-card-vault layering):
//! multi-step logic lives in the callers' domain code, never here.
//!
//! Implementations:
//! - [`MemoryStore`]: in-process maps, for tests and ephemeral runs;
//! - [`SqliteStore`]: the embedded default, one file with WAL, migrations applied at open;
//! - [`PgStore`]: PostgreSQL (tokio-postgres with a small pool), migrations applied at open,
//!   the audit log made append-only by database triggers; tests run in a [`ScratchSchema`].
//!
//! All three pass the same conformance suite (module `conformance`, in the crate's tests and
//! under feature `conformance`; PostgreSQL against the real server).
//!
//! Cargo features: `sqlite` ([`SqliteStore`], rusqlite) and `postgres` ([`PgStore`],
//! tokio-postgres, deadpool and rustls), both default; `conformance` (the suite, for
//! out-of-crate backends). [`MemoryStore`] and the traits are always there, so a crate that
//! needs only the traits (the vault) depends on this one with `default-features = false` and
//! compiles no database driver; within the workspace that is how it is declared, and the
//! gateway asks for `sqlite` and `postgres` (scripts/check-architecture.sh holds the vault to
//! it).
//!
//! The store never sees card data in plaintext: callers hand it ciphertext, hashes and masked
//! metadata only. Secrets such as API keys are stored as SHA-256 hashes.

mod chat_model;
mod chat_store;
mod error;
mod memory;
mod model;
mod payment_model;
mod payment_store;
#[cfg(feature = "postgres")]
pub mod postgres;
mod recording_model;
mod recording_store;
mod refund_model;
mod refund_store;
mod room_model;
mod room_store;
#[cfg(feature = "sqlite")]
mod sqlite;
mod tenant_store;
mod vault_model;
mod vault_store;
mod webhook_store;

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
#[cfg(any(test, feature = "conformance"))]
mod conformance_chat;
#[cfg(any(test, feature = "conformance"))]
mod conformance_leases;
#[cfg(any(test, feature = "conformance"))]
mod conformance_payments;
#[cfg(any(test, feature = "conformance"))]
mod conformance_recordings;
#[cfg(any(test, feature = "conformance"))]
mod conformance_refunds;
#[cfg(any(test, feature = "conformance"))]
mod conformance_rooms;
#[cfg(any(test, feature = "conformance"))]
mod conformance_vault;

pub use chat_model::ChatRecord;
pub use chat_store::ChatStore;
pub use error::StoreError;
pub use memory::MemoryStore;
pub use model::{ApiKeyId, ApiKeyRecord, Tenant, TenantId, UnixTime};
pub use payment_model::{
    DeliveryAttempt, DeliveryLease, DeliveryRecord, DeliveryStatus, OutboxEvent, PaymentRecord,
    WebhookEndpointRecord, WebhookFormat,
};
pub use payment_store::PaymentStore;
#[cfg(feature = "postgres")]
pub use postgres::{PgStore, PgUrl, ScratchSchema};
pub use recording_model::{RecordingLease, RecordingRecord};
pub use recording_store::RecordingStore;
pub use refund_model::{RefundInsert, RefundRecord};
pub use refund_store::RefundStore;
pub use room_model::RoomRecord;
pub use room_store::RoomStore;
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteStore;
pub use tenant_store::TenantStore;
pub use vault_model::{AuditRecord, DataKeyRecord, DataKeyState, SavedCardRecord, TokenRecord};
pub use vault_store::{AuditChainer, VaultStore};
pub use webhook_store::WebhookStore;

/// The durable records of a Hushpay gateway: every area's trait at once, for the gateway that
/// keeps one `Arc<dyn Store>`. Implemented for every type that implements them all; a caller
/// that needs one area takes that area's trait (`Arc<dyn Store>` upcasts to
/// `Arc<dyn VaultStore>`).
///
/// Every method is one query (or one transaction around one logical write). Errors are typed:
/// [`StoreError::Conflict`] for uniqueness violations, [`StoreError::Backend`] for everything the
/// backend reports.
pub trait Store:
    TenantStore
    + VaultStore
    + PaymentStore
    + WebhookStore
    + RefundStore
    + ChatStore
    + RoomStore
    + RecordingStore
{
}

impl<T> Store for T where
    T: TenantStore
        + VaultStore
        + PaymentStore
        + WebhookStore
        + RefundStore
        + ChatStore
        + RoomStore
        + RecordingStore
        + ?Sized
{
}
