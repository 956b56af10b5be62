//! Webhook events put in the outbox: `payment.succeeded`, `payment.failed`,
//! `payment.cancelled`, `token.created`. Bodies follow the Standard Webhooks shape
//! `{"type", "timestamp", "data"}` and hold masked data only; events with a FHIR R4 form
//! ([`crate::webhooks::fhir`]) carry that resource too, for `fhir-r4` endpoints.

use hushpay_store::{OutboxEvent, TenantId, UnixTime};
use hushpay_vault::TokenMetadata;
use hushpay_vault::payment::{Payment, State};
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

/// The event a payment's move from `before` reports, if any: entering `succeeded`, `failed`
/// or `expired` (reported as `payment.failed` with result `input-timeout`), `cancelled`.
pub fn for_payment(before: State, after: &Payment, now: UnixTime) -> Option<OutboxEvent> {
    if before == after.state {
        return None;
    }
    let event_type = match after.state {
        State::Succeeded => "payment.succeeded",
        State::Failed | State::Expired => "payment.failed",
        State::Cancelled => "payment.cancelled",
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

/// `token.created` for a new token (masked metadata only).
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
