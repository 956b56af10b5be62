//! Records of payment sessions and webhooks: the masked payment document, the outbox of
//! events, webhook endpoints (secret as ciphertext) and their deliveries. None of them ever
//! holds card data: the payment document is the masked record built by `hushpay-vault`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{TenantId, UnixTime};

/// A payment session as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    /// `pay_` + base62.
    pub id: String,
    pub tenant: TenantId,
    /// The caller's `Idempotency-Key`, unique per tenant.
    pub idempotency_key: Option<String>,
    /// Lower-case hex SHA-256 of the canonical request (same key + other body is refused).
    pub request_hash: String,
    /// The state name (`requested`, ..., `succeeded`), for queries.
    pub state: String,
    /// The masked payment as JSON.
    pub document: String,
    /// Lower-case hex SHA-256 of the client secret (card form and link), if any.
    pub client_secret_hash: Option<String>,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// When the payment times out if it is still open (`requested`, `collecting`, `ready`):
    /// the expiry sweeper finds overdue payments by it ([`crate::PaymentStore::overdue_payments`]).
    pub expires_at: UnixTime,
    /// Incremented by every update (optimistic concurrency).
    pub version: u64,
}

/// The stored states of a payment that can still expire (the sweeper's query).
pub(crate) const OPEN_STATES: [&str; 3] = ["requested", "collecting", "ready"];

/// True for a stored state in [`OPEN_STATES`].
pub(crate) fn is_open(state: &str) -> bool {
    OPEN_STATES.contains(&state)
}

/// An event waiting in the outbox (written in the same transaction as the change it
/// reports); one delivery per active endpoint of its tenant is created with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEvent {
    /// `evt_` + base62: the `webhook-id`, stable across retries.
    pub id: String,
    pub tenant: TenantId,
    /// `payment.succeeded`, `payment.failed`, `payment.cancelled`, `token.created`.
    pub event_type: String,
    /// The JSON body sent to receivers (masked data only).
    pub payload: String,
    /// The event's FHIR R4 resource (JSON, masked data only), if it has one: endpoints of
    /// format [`WebhookFormat::FhirR4`] get a delivery of it, and only of events that have one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fhir_payload: Option<String>,
    pub created_at: UnixTime,
}

/// What a webhook endpoint receives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WebhookFormat {
    /// Every event as Hushpay's JSON (`{"type", "timestamp", "data"}`).
    #[default]
    StandardWebhooks,
    /// The events that have a FHIR R4 resource, as that resource (`application/fhir+json`).
    FhirR4,
}

impl WebhookFormat {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::StandardWebhooks => "standard-webhooks",
            WebhookFormat::FhirR4 => "fhir-r4",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "standard-webhooks" => Some(WebhookFormat::StandardWebhooks),
            "fhir-r4" => Some(WebhookFormat::FhirR4),
            _ => None,
        }
    }
}

/// A tenant's webhook endpoint. The signing secret is encrypted by the vault.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookEndpointRecord {
    /// `whe_` + base62.
    pub id: String,
    pub tenant: TenantId,
    pub url: String,
    /// Data key version the secret is encrypted under.
    pub key_version: u32,
    /// Nonce + AES-256-GCM ciphertext + tag of the secret.
    pub secret_ciphertext: Vec<u8>,
    /// What it receives.
    pub format: WebhookFormat,
    pub created_at: UnixTime,
    pub deleted_at: Option<UnixTime>,
}

impl fmt::Debug for WebhookEndpointRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookEndpointRecord")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("url", &self.url)
            .field("format", &self.format)
            .field("deleted_at", &self.deleted_at)
            .finish_non_exhaustive()
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Gave up after the last retry, or the endpoint was deleted.
    Failed,
}

impl DeliveryStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(DeliveryStatus::Pending),
            "delivered" => Some(DeliveryStatus::Delivered),
            "failed" => Some(DeliveryStatus::Failed),
            _ => None,
        }
    }
}

/// One event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    pub event_id: String,
    pub endpoint_id: String,
    pub tenant: TenantId,
    pub attempts: u32,
    pub status: DeliveryStatus,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<UnixTime>,
}

/// A claim on due deliveries ([`crate::WebhookStore::claim_deliveries`]): who claims, when, and until
/// when the claimed deliveries are theirs alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLease {
    /// The claiming node (any string unique among the nodes sharing the store).
    pub owner: String,
    /// The time deliveries are due at and leases are judged expired at.
    pub now: UnixTime,
    /// When the lease ends if no attempt is recorded first (after `now`).
    pub until: UnixTime,
}

/// One attempt, as kept in the delivery log; also the update applied to its delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryAttempt {
    pub event_id: String,
    pub endpoint_id: String,
    pub tenant: TenantId,
    /// 1, 2, ...
    pub attempt: u32,
    pub at: UnixTime,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// Why it failed (transport error, refused target); never body content.
    pub error: Option<String>,
    /// The delivery's status after this attempt.
    pub status: DeliveryStatus,
    /// When to try again (pending only).
    pub next_attempt_at: Option<UnixTime>,
}
