//! Refunds: each a resource of its own (`re_...`) against a payment that was charged
//! (`succeeded` in `charge` mode) or captured (`captured`), with its own state:
//!
//! ```text
//! pending --the connector refunded--> succeeded
//! pending --the connector refused---> failed
//! ```
//!
//! A payment's refunds that are `pending` or `succeeded` never add up to more than
//! [`Payment::refundable`]: the store checks it in the transaction that inserts a refund, so
//! concurrent refunds cannot pass it together. A `failed` refund frees its amount.

use serde::{Deserialize, Serialize};

use hushpay_store::UnixTime;

use super::model::Payment;
use super::request::{MAX_AMOUNT_MINOR, RequestError, check_reference};

/// Where a refund is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefundState {
    /// With the connector (its amount counts against the payment's limit).
    Pending,
    Succeeded,
    /// Refused by the connector (`error` says why); its amount no longer counts.
    Failed,
}

impl RefundState {
    /// Every state.
    pub const ALL: [RefundState; 3] = [
        RefundState::Pending,
        RefundState::Succeeded,
        RefundState::Failed,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RefundState::Pending => "pending",
            RefundState::Succeeded => "succeeded",
            RefundState::Failed => "failed",
        }
    }
}

/// A refund as stored and shown: amounts and names only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Refund {
    /// `re_` + base62.
    pub id: String,
    pub tenant: String,
    /// The refunded payment (`pay_...`).
    pub payment: String,
    /// Minor units, in the payment's currency.
    pub amount: u64,
    pub currency: String,
    /// The tenant's note (1-128 printable characters, no card number).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub state: RefundState,
    /// Why the connector refused it (`processing-error`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Who asked (`key_...`).
    pub created_by: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
}

/// A refund as the tenant asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    pub amount: u64,
    pub reason: Option<String>,
}

impl RefundRequest {
    /// A `pending` refund of `payment` (checked: amount within the bounds of any amount,
    /// reason printable without a card number). The payment's own limit is the store's to
    /// check ([`Payment::refundable`]).
    pub fn into_refund(
        self,
        id: String,
        payment: &Payment,
        created_by: &str,
        now: UnixTime,
    ) -> Result<Refund, RequestError> {
        if !(1..=MAX_AMOUNT_MINOR).contains(&self.amount) {
            return Err(RequestError::Amount);
        }
        if let Some(reason) = &self.reason {
            check_reference(reason).map_err(|_| RequestError::Reason)?;
        }
        Ok(Refund {
            id,
            tenant: payment.tenant.clone(),
            payment: payment.id.clone(),
            amount: self.amount,
            currency: payment.currency.clone(),
            reason: self.reason,
            state: RefundState::Pending,
            error: None,
            created_by: created_by.to_owned(),
            created_at: now,
            updated_at: now,
        })
    }
}

impl Refund {
    /// The refund once the connector answered: `succeeded`, or `failed` with `error`. Only a
    /// `pending` refund is finished; `None` otherwise.
    pub fn finish(&self, error: Option<String>, now: UnixTime) -> Option<Refund> {
        if self.state != RefundState::Pending {
            return None;
        }
        let mut r = self.clone();
        r.state = if error.is_some() {
            RefundState::Failed
        } else {
            RefundState::Succeeded
        };
        r.error = error;
        r.updated_at = now;
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::payment::{Method, Mode, PaymentRequest};

    fn payment() -> Payment {
        PaymentRequest {
            amount: 900,
            currency: "GBP".into(),
            reference: "r".into(),
            mode: Mode::Charge,
            method: Method::Link,
            required_fields: None,
            allowed_brands: None,
            attempts: None,
            timeout_secs: None,
            room: None,
            hand_off: None,
            locale: None,
        }
        .into_payment("pay_r".into(), "ten_r", "key_r", 0)
        .unwrap()
    }

    #[test]
    fn a_refund_takes_the_payments_currency_and_checks_its_input() {
        let p = payment();
        let ok = |amount, reason: Option<&str>| {
            RefundRequest {
                amount,
                reason: reason.map(str::to_owned),
            }
            .into_refund("re_1".into(), &p, "key_r", 7)
        };
        let r = ok(300, Some("duplicate visit")).unwrap();
        assert_eq!(
            (
                r.currency.as_str(),
                r.state,
                r.payment.as_str(),
                r.created_at
            ),
            ("GBP", RefundState::Pending, "pay_r", 7)
        );
        assert_eq!(ok(0, None), Err(RequestError::Amount));
        assert_eq!(ok(MAX_AMOUNT_MINOR + 1, None), Err(RequestError::Amount));
        assert_eq!(ok(1, Some("")), Err(RequestError::Reason));
        assert_eq!(ok(1, Some("a\u{7}b")), Err(RequestError::Reason));
        assert_eq!(
            ok(1, Some("card 4242 4242 4242 4242")),
            Err(RequestError::Reason),
            "no card number in a reason"
        );
    }

    #[test]
    fn only_a_pending_refund_finishes() {
        let p = payment();
        let r = RefundRequest {
            amount: 5,
            reason: None,
        }
        .into_refund("re_2".into(), &p, "key_r", 1)
        .unwrap();
        let done = r.finish(None, 2).unwrap();
        assert_eq!((done.state, done.updated_at), (RefundState::Succeeded, 2));
        assert!(done.finish(None, 3).is_none());
        let failed = r.finish(Some("processing-error".into()), 2).unwrap();
        assert_eq!(failed.state, RefundState::Failed);
        assert_eq!(failed.error.as_deref(), Some("processing-error"));
        assert!(failed.finish(None, 3).is_none());
    }
}
