//! The delivery worker: polls the store for due deliveries, signs each one (Standard
//! Webhooks over `id.timestamp.body`), sends it, and records the attempt in the delivery log.
//! Failures are retried with exponential back-off and jitter until `max_attempts`.

use std::sync::Arc;
use std::time::Duration;

use hushpay_store::{DeliveryAttempt, DeliveryRecord, DeliveryStatus, Store};
use hushpay_vault::unix_now;
use hushpay_vault::webhook::sign;
use rand::Rng;

use super::Webhooks;
use super::deliver::{self, Delivery};

/// Seconds to wait before attempt `attempt + 1`: `base * 2^(attempt-1)` capped at one hour,
/// with "equal jitter" (half fixed, half random), at least one second.
pub fn backoff(base: Duration, attempt: u32, jitter: f64) -> i64 {
    let full = base
        .as_secs()
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
        .min(3600) as f64;
    ((full / 2.0) + (full / 2.0) * jitter.clamp(0.0, 1.0)).max(1.0) as i64
}

/// Runs until the task is aborted.
pub async fn run(store: Arc<dyn Store>, webhooks: Arc<Webhooks>) {
    loop {
        if let Err(e) = tick(store.as_ref(), &webhooks).await {
            tracing::warn!(error = %e, "webhook worker: store unavailable");
        }
        tokio::time::sleep(webhooks.config.poll_interval).await;
    }
}

/// Delivers everything due now; returns how many attempts were made.
pub async fn tick(
    store: &dyn Store,
    webhooks: &Webhooks,
) -> Result<usize, hushpay_store::StoreError> {
    let due = store.due_deliveries(unix_now(), 50, 50).await?;
    for d in &due {
        let attempt = attempt(store, webhooks, d).await?;
        store.record_delivery_attempt(&attempt).await?;
    }
    Ok(due.len())
}

async fn attempt(
    store: &dyn Store,
    webhooks: &Webhooks,
    d: &DeliveryRecord,
) -> Result<DeliveryAttempt, hushpay_store::StoreError> {
    let now = unix_now();
    let n = d.attempts + 1;
    let mut record = DeliveryAttempt {
        event_id: d.event_id.clone(),
        endpoint_id: d.endpoint_id.clone(),
        tenant: d.tenant.clone(),
        attempt: n,
        at: now,
        status_code: None,
        error: None,
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
    };
    let event = store.event(&d.event_id).await?;
    let endpoint = store.webhook_endpoint(&d.tenant, &d.endpoint_id).await?;
    let (Some(event), Some(endpoint)) = (event, endpoint.filter(|e| e.deleted_at.is_none())) else {
        record.error = Some("event or endpoint gone".into());
        return Ok(record);
    };
    let secret = match webhooks.secret(&endpoint).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, endpoint = %endpoint.id, "webhook secret unreadable");
            record.error = Some("signing secret unreadable".into());
            return Ok(record);
        }
    };
    let Ok(signature) = sign(&secret, &event.id, now, event.payload.as_bytes()) else {
        record.error = Some("signing failed".into());
        return Ok(record);
    };
    let config = &webhooks.config;
    let delivery = Delivery {
        url: &endpoint.url,
        webhook_id: &event.id,
        timestamp: now,
        signature: &signature,
        body: &event.payload,
    };
    let result = deliver::send(
        &delivery,
        config.danger_allow_private_webhook_targets,
        config.request_timeout,
    )
    .await;
    match result {
        Ok(code) if (200..300).contains(&code) => {
            record.status_code = Some(code);
            record.status = DeliveryStatus::Delivered;
            return Ok(record);
        }
        Ok(code) => record.status_code = Some(code),
        Err(e) => record.error = Some(e.to_string()),
    }
    if n < config.max_attempts {
        let jitter: f64 = rand::thread_rng().r#gen();
        record.status = DeliveryStatus::Pending;
        record.next_attempt_at = Some(now + backoff(config.retry_base, n, jitter));
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_and_is_capped() {
        let base = Duration::from_secs(10);
        assert_eq!(backoff(base, 1, 0.0), 5);
        assert_eq!(backoff(base, 1, 1.0), 10);
        assert_eq!(backoff(base, 2, 1.0), 20);
        assert_eq!(backoff(base, 4, 1.0), 80);
        assert_eq!(backoff(base, 30, 1.0), 3600);
        assert_eq!(backoff(base, 30, 0.0), 1800);
        assert_eq!(
            backoff(Duration::from_secs(1), 1, 0.0),
            1,
            "at least a second"
        );
        for a in 1..10 {
            let lo = backoff(base, a, 0.0);
            let hi = backoff(base, a, 1.0);
            assert!(lo <= hi && hi <= 2 * lo + 1);
        }
    }
}
