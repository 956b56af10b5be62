//! FHIR R4 forms of payment events, for webhook endpoints of format `fhir-r4`: health systems'
//! integration engines read resources, not Hushpay's event JSON.
//!
//! * A charge that succeeded, or an authorization captured, is a
//!   [`PaymentNotice`](https://hl7.org/fhir/R4/paymentnotice.html): `status` `active`,
//!   `paymentStatus` `paid`, the amount paid (charged, or captured) as `Money` (decimal in the
//!   currency's major unit), the payment's id as its `identifier` and as the (logical)
//!   `payment` reference, the payment's `reference` (invoice, account) as the `request`, the
//!   tenant as `recipient`.
//! * A refund the connector answered is a
//!   [`PaymentReconciliation`](https://hl7.org/fhir/R4/paymentreconciliation.html): the refund's
//!   id as `identifier` and `paymentIdentifier`, `outcome` `complete` (succeeded) or `error`
//!   (failed, `disposition` says why), the tenant as `paymentIssuer` (it pays the money back),
//!   `paymentAmount` the refund, and one `detail` of type `adjustment` against the payment
//!   (`request`) with the amount as a negative `Money`.
//!
//! Only masked data goes in: ids, amounts, the reference, and the card's brand and last four in
//! the payment's display text. Events without a FHIR form (tokenizations, authorizations,
//! failures, cancellations, voids) are not sent to `fhir-r4` endpoints.

use hushpay_vault::payment::{Mode, Payment, Refund, RefundState, State, money};
use serde_json::{Value, json};

/// The identifier systems (URNs: stable names, not endpoints).
pub const PAYMENT_SYSTEM: &str = "urn:hushpay:payment";
pub const REFERENCE_SYSTEM: &str = "urn:hushpay:payment-reference";
pub const TENANT_SYSTEM: &str = "urn:hushpay:tenant";
pub const REFUND_SYSTEM: &str = "urn:hushpay:refund";
const PAYMENT_STATUS: &str = "http://terminology.hl7.org/CodeSystem/paymentstatus";
const PAYMENT_TYPE: &str = "http://terminology.hl7.org/CodeSystem/payment-type";

/// The FHIR resource for a payment's move into its current state, if it has one: a
/// `PaymentNotice` for a charge that succeeded or an authorization captured.
pub fn for_payment(p: &Payment, now: i64) -> Option<Value> {
    let paid = match (p.state, p.mode) {
        (State::Succeeded, Mode::Charge) => p.amount,
        (State::Captured, _) => p.amount_captured?,
        _ => return None,
    };
    Some(payment_notice(p, paid, now))
}

/// The FHIR resource for a refund the connector answered: a `PaymentReconciliation`.
pub fn for_refund(r: &Refund, now: i64) -> Option<Value> {
    let (outcome, disposition) = match r.state {
        RefundState::Pending => return None,
        RefundState::Succeeded => (
            "complete",
            format!("Refund {} of payment {}", r.id, r.payment),
        ),
        RefundState::Failed => (
            "error",
            format!(
                "Refund {} of payment {} failed: {}",
                r.id,
                r.payment,
                r.error.as_deref().unwrap_or("refused")
            ),
        ),
    };
    let refund_id = json!({ "system": REFUND_SYSTEM, "value": r.id });
    let payment_id = json!({ "system": PAYMENT_SYSTEM, "value": r.payment });
    Some(json!({
        "resourceType": "PaymentReconciliation",
        "identifier": [refund_id],
        "status": "active",
        "created": date_time(now),
        "paymentIssuer": { "identifier": { "system": TENANT_SYSTEM, "value": r.tenant } },
        "outcome": outcome,
        "disposition": disposition,
        "paymentDate": date(r.updated_at),
        "paymentAmount": money_of(r.amount, &r.currency),
        "paymentIdentifier": refund_id,
        "detail": [{
            "identifier": refund_id,
            "type": { "coding": [{ "system": PAYMENT_TYPE, "code": "adjustment", "display": "Adjustment" }] },
            "request": { "identifier": payment_id },
            "date": date(r.updated_at),
            "amount": negative_money_of(r.amount, &r.currency),
        }],
    }))
}

fn payment_notice(p: &Payment, paid: u64, now: i64) -> Value {
    let payment_id = json!({ "system": PAYMENT_SYSTEM, "value": p.id });
    let display = match &p.card {
        Some(c) => format!("Card payment {} ({} ending in {})", p.id, c.brand, c.last4),
        None => format!("Card payment {}", p.id),
    };
    json!({
        "resourceType": "PaymentNotice",
        "identifier": [payment_id],
        "status": "active",
        "request": {
            "identifier": { "system": REFERENCE_SYSTEM, "value": p.reference },
            "display": p.reference,
        },
        "created": date_time(now),
        "payment": { "identifier": payment_id, "display": display },
        "paymentDate": date(p.updated_at),
        "recipient": { "identifier": { "system": TENANT_SYSTEM, "value": p.tenant } },
        "amount": money_of(paid, &p.currency),
        "paymentStatus": {
            "coding": [{ "system": PAYMENT_STATUS, "code": "paid", "display": "Paid" }],
        },
    })
}

/// FHIR `Money`: the decimal value in the major unit and the ISO 4217 code.
fn money_of(minor: u64, currency: &str) -> Value {
    let value: Value =
        serde_json::from_str(&money::decimal(minor, currency)).unwrap_or(Value::Null);
    json!({ "value": value, "currency": currency })
}

/// FHIR `Money` of `-minor` (money going back).
fn negative_money_of(minor: u64, currency: &str) -> Value {
    let value: Value = serde_json::from_str(&format!("-{}", money::decimal(minor, currency)))
        .unwrap_or(Value::Null);
    json!({ "value": value, "currency": currency })
}

/// FHIR `dateTime` (UTC, seconds).
fn date_time(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// FHIR `date` (UTC).
fn date(unix: i64) -> String {
    date_time(unix).chars().take(10).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hushpay_vault::payment::{MaskedCard, Method, PaymentRequest};

    fn succeeded(mode: Mode) -> Payment {
        let mut p = PaymentRequest {
            amount: 4250,
            currency: "USD".into(),
            reference: "INV-7".into(),
            mode,
            method: Method::CardForm,
            required_fields: None,
            allowed_brands: None,
            attempts: None,
            timeout_secs: None,
            room: None,
            hand_off: None,
            locale: None,
        }
        .into_payment("pay_1".into(), "ten_1", "key_1", 1_765_000_000)
        .unwrap();
        p.updated_at = 1_765_000_050;
        p.state = State::Succeeded;
        p.card = Some(MaskedCard {
            token: "tok_1".into(),
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 12,
            exp_year: 2034,
        });
        p
    }

    #[test]
    fn a_succeeded_charge_is_a_paid_payment_notice() {
        let r = for_payment(&succeeded(Mode::Charge), 1_765_000_100).unwrap();
        assert_eq!(r["resourceType"], "PaymentNotice");
        assert_eq!(r["amount"], json!({ "value": 42.5, "currency": "USD" }));
        assert_eq!(r["identifier"][0]["value"], "pay_1");
        assert_eq!(r["request"]["identifier"]["value"], "INV-7");
        assert_eq!(r["paymentStatus"]["coding"][0]["code"], "paid");
        assert_eq!(r["created"], "2025-12-06T05:48:20Z");
        assert_eq!(r["paymentDate"], "2025-12-06");
        assert!(
            r["payment"]["display"]
                .as_str()
                .unwrap()
                .ends_with("(visa ending in 4242)")
        );
    }

    #[test]
    fn a_captured_authorization_is_a_payment_notice_of_the_captured_amount() {
        let mut p = succeeded(Mode::Authorize);
        p.state = State::Authorized;
        assert!(for_payment(&p, 0).is_none(), "nothing is paid yet");
        p.state = State::Captured;
        p.amount_captured = Some(1999);
        let r = for_payment(&p, 1_765_000_100).unwrap();
        assert_eq!(r["amount"], json!({ "value": 19.99, "currency": "USD" }));
        p.state = State::Voided;
        assert!(for_payment(&p, 0).is_none());
    }

    #[test]
    fn an_answered_refund_is_a_payment_reconciliation() {
        let mut r = Refund {
            id: "re_1".into(),
            tenant: "ten_1".into(),
            payment: "pay_1".into(),
            amount: 500,
            currency: "JPY".into(),
            reason: Some("duplicate".into()),
            state: RefundState::Pending,
            error: None,
            created_by: "key_1".into(),
            created_at: 1_765_000_000,
            updated_at: 1_765_000_050,
        };
        assert!(for_refund(&r, 0).is_none(), "still with the connector");
        r.state = RefundState::Succeeded;
        let v = for_refund(&r, 1_765_000_100).unwrap();
        assert_eq!(v["resourceType"], "PaymentReconciliation");
        assert_eq!(v["outcome"], "complete");
        assert_eq!(
            v["paymentAmount"],
            json!({ "value": 500, "currency": "JPY" })
        );
        assert_eq!(
            v["detail"][0]["amount"],
            json!({ "value": -500, "currency": "JPY" })
        );
        assert_eq!(v["detail"][0]["request"]["identifier"]["value"], "pay_1");
        assert_eq!(v["detail"][0]["type"]["coding"][0]["code"], "adjustment");
        r.state = RefundState::Failed;
        r.error = Some("processing-error".into());
        let v = for_refund(&r, 1_765_000_100).unwrap();
        assert_eq!(v["outcome"], "error");
        assert!(
            v["disposition"]
                .as_str()
                .unwrap()
                .ends_with("processing-error")
        );
    }

    #[test]
    fn tokenizations_and_unfinished_payments_have_no_fhir_form() {
        assert!(for_payment(&succeeded(Mode::Tokenize), 0).is_none());
        let mut p = succeeded(Mode::Charge);
        p.state = State::Failed;
        assert!(for_payment(&p, 0).is_none());
    }
}
