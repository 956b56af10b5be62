//! Refunds as stored: the masked refund document (amounts and names only) with the columns
//! the limit check and idempotency need.

use crate::{TenantId, UnixTime};

/// A refund of a payment, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRecord {
    /// `re_` + base62.
    pub id: String,
    pub tenant: TenantId,
    /// The refunded payment (`pay_...`).
    pub payment_id: String,
    /// The caller's `Idempotency-Key`, unique per tenant among refunds.
    pub idempotency_key: Option<String>,
    /// Lower-case hex SHA-256 of the canonical request (same key + other body is refused).
    pub request_hash: String,
    /// Minor units; counts against the payment's limit unless `failed`.
    pub amount: u64,
    /// `pending`, `succeeded` or `failed`.
    pub state: String,
    /// The refund as JSON (no card data).
    pub document: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// What [`crate::RefundStore::insert_refund`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundInsert {
    /// Stored as `pending`.
    Inserted,
    /// Not stored: with it, the payment's refunds that are not `failed` would exceed the
    /// limit. `refunded` is what they add up to without it.
    Exceeds { refunded: u64 },
}
