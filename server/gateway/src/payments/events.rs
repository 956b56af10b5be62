//! Webhook events put in the outbox: `payment.succeeded`, `payment.failed`,
//! `payment.cancelled`, `payment.captured`, `payment.voided`, `refund.succeeded`,
//! `refund.failed`, `token.created`. Bodies follow the Standard Webhooks shape
//! `{"type", "timestamp", "data"}` and hold masked data only; events with a FHIR R4 form
//! ([`crate::webhooks::fhir`]) carry that resource too, for `fhir-r4` endpoints.

use hushpay_store::{OutboxEvent, TenantId, UnixTime};
use hushpay_vault::TokenMetadata;
use hushpay_vault::payment::{Payment, Refund, RefundState, State};
use serde_json::json;

fn event(
    tenant: &TenantId,
    event_type: &str,
    data: serde_json::Value,
    fhir: Option<serde_json::Value>,
    now: UnixTime,
) -> OutboxEvent {
    let timestamp = time::OffsetDateTime::from_unix_timestamp(now)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    OutboxEvent {
        id: format!("evt_{}", crate::ids::base62(24)),
        tenant: tenant.clone(),
        event_type: event_type.to_owned(),
        payload: json!({ "type": event_type, "timestamp": timestamp, "data": data }).to_string(),
        fhir_payload: fhir.map(|r| r.to_string()),
        created_at: now,
    }
}

/// The event a payment's move from `before` reports, if any: entering `succeeded` (or
/// `authorized` from `authorizing`: the collection succeeded, the funds wait), `failed` or
/// `expired` (reported as `payment.failed` with result `input-timeout`), `cancelled`,
/// (entering `authenticating`, a 3-D Secure challenge, reports nothing: no webhook needs it)
/// `captured` (`payment.captured`), `voided` (`payment.voided`). The steps in between
/// (`capturing`, `voiding`, and back to `authorized` after a refusal) report nothing.
pub fn for_payment(before: State, after: &Payment, now: UnixTime) -> Option<OutboxEvent> {
    if before == after.state {
        return None;
    }
    let event_type = match (before, after.state) {
        (_, State::Succeeded) | (State::Authorizing | State::Authenticating, State::Authorized) => {
            "payment.succeeded"
        }
        (_, State::Failed | State::Expired) => "payment.failed",
        (_, State::Cancelled) => "payment.cancelled",
        (_, State::Captured) => "payment.captured",
        (_, State::Voided) => "payment.voided",
        _ => return None,
    };
    let data = serde_json::to_value(after).ok()?;
    Some(event(
        &TenantId::new(after.tenant.as_str()),
        event_type,
        data,
        crate::webhooks::fhir::for_payment(after, now),
        now,
    ))
}

/// `refund.succeeded` or `refund.failed` for a refund the connector answered (none while
/// it is `pending`).
pub fn for_refund(refund: &Refund, now: UnixTime) -> Option<OutboxEvent> {
    let event_type = match refund.state {
        RefundState::Succeeded => "refund.succeeded",
        RefundState::Failed => "refund.failed",
        RefundState::Pending => return None,
    };
    let data = serde_json::to_value(refund).ok()?;
    Some(event(
        &TenantId::new(refund.tenant.as_str()),
        event_type,
        data,
        crate::webhooks::fhir::for_refund(refund, now),
        now,
    ))
}

/// `token.created` for a new token (masked metadata only). The vault writes it in the token's
/// own transaction ([`hushpay_vault::Vault::announcing_tokens`]).
pub fn token_created(meta: &TokenMetadata, now: UnixTime) -> OutboxEvent {
    let data = json!({
        "id": meta.id,
        "brand": meta.brand,
        "last4": meta.last4,
        "exp_month": meta.exp_month,
        "exp_year": meta.exp_year,
        "fingerprint": meta.fingerprint,
        "created_at": meta.created_at,
    });
    event(
        &TenantId::new(meta.tenant.as_str()),
        "token.created",
        data,
        None,
        now,
    )
}
