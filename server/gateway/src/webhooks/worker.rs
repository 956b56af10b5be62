//! The delivery worker: polls the store for due deliveries and sends them concurrently, signed
//! (Standard Webhooks over `id.timestamp.body`), recording each attempt in the delivery log.
//! Failures are retried with exponential back-off and jitter until `max_attempts`.
//!
//! Fairness: at most `max_in_flight` deliveries are in flight, at most
//! `max_in_flight_per_tenant` of one tenant, and the store hands out due deliveries in turns
//! between tenants ([`hushpay_store::WebhookStore::claim_deliveries`]), so a tenant whose
//! receivers never answer uses its own slots only. An endpoint whose circuit is open ([`super::circuit`]) has its
//! deliveries moved later in the outbox.
//!
//! Many gateways on one database: each worker claims what it sends with a lease in the store
//! (owner = this worker, until [`lease_secs`] from now), so a delivery is sent by one node
//! only; recording the attempt ends the lease, and what was claimed but not started is
//! released at once. A delivery stays pending in the store until its attempt is recorded, so
//! when a node dies mid-flight another node (or this one, restarted) sends it once the lease
//! has run out.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use hushpay_store::{
    DeliveryAttempt, DeliveryLease, DeliveryRecord, DeliveryStatus, Store, StoreError, TenantId,
    WebhookFormat,
};
use hushpay_vault::unix_now;
use hushpay_vault::webhook::sign;
use rand::Rng;
use tokio::task::{Id, JoinSet};

use super::Webhooks;
use super::circuit::Admission;
use super::deliver::Delivery;
/// Seconds to wait before attempt `attempt + 1`: `base * 2^(attempt-1)` capped at one hour,
/// with "equal jitter" (half fixed, half random), at least one second.
pub fn backoff(base: Duration, attempt: u32, jitter: f64) -> i64 {
    let full = base
        .as_secs()
        .saturating_mul(1u64 << attempt.saturating_sub(1).min(20))
        .min(3600) as f64;
    ((full / 2.0) + (full / 2.0) * jitter.clamp(0.0, 1.0)).max(1.0) as i64
}

/// How long a claimed delivery stays this worker's: twice the longest attempt (name lookup
/// plus request) and half a minute for the store round trips around it. A node that dies
/// holding a delivery delays it by at most this long.
pub fn lease_secs(config: &super::WebhookConfig) -> i64 {
    attempt_secs(config).saturating_mul(2).saturating_add(30)
}

/// The longest one attempt takes (name lookup plus request), rounded up to whole seconds.
fn attempt_secs(config: &super::WebhookConfig) -> i64 {
    (config.request_timeout + config.dns_timeout).as_secs() as i64 + 1
}

/// Runs until the task is aborted (which aborts the deliveries in flight: they stay pending,
/// leased to this worker until their lease runs out).
pub async fn run(store: Arc<dyn Store>, webhooks: Arc<Webhooks>) {
    let owner = format!(
        "{}-{}-{:016x}",
        hostname(),
        std::process::id(),
        rand::random::<u64>()
    );
    let mut flights = InFlight::default();
    let mut tasks: JoinSet<()> = JoinSet::new();
    loop {
        if let Err(e) = dispatch(&store, &webhooks, &owner, &mut flights, &mut tasks).await {
            tracing::warn!(error = %e, "webhook worker: store unavailable");
        }
        tokio::select! {
            _ = tokio::time::sleep(webhooks.config.poll_interval) => {}
            Some(done) = tasks.join_next_with_id() => flights.land(done.map_or_else(|e| e.id(), |(id, ())| id)),
        }
        while let Some(done) = tasks.try_join_next_with_id() {
            flights.land(done.map_or_else(|e| e.id(), |(id, ())| id));
        }
    }
}

/// The deliveries in flight, by task, delivery and tenant.
#[derive(Debug, Default)]
struct InFlight {
    tasks: HashMap<Id, ((String, String), TenantId)>,
    keys: HashSet<(String, String)>,
    per_tenant: HashMap<TenantId, usize>,
}

impl InFlight {
    fn take_off(&mut self, id: Id, key: (String, String), tenant: TenantId) {
        self.keys.insert(key.clone());
        *self.per_tenant.entry(tenant.clone()).or_default() += 1;
        self.tasks.insert(id, (key, tenant));
    }

    fn land(&mut self, id: Id) {
        let Some((key, tenant)) = self.tasks.remove(&id) else {
            return;
        };
        self.keys.remove(&key);
        if let Some(n) = self.per_tenant.get_mut(&tenant) {
            *n -= 1;
            if *n == 0 {
                self.per_tenant.remove(&tenant);
            }
        }
    }

    fn of_tenant(&self, t: &TenantId) -> usize {
        self.per_tenant.get(t).copied().unwrap_or(0)
    }
}

/// The host's name for lease owners (diagnostics only: the owner is unique by its random
/// part).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_else(|_| "node".into())
}

/// Claims what is due and fits the bounds, starts it, and releases the rest of the claim;
/// returns how many deliveries started.
async fn dispatch(
    store: &Arc<dyn Store>,
    webhooks: &Arc<Webhooks>,
    owner: &str,
    flights: &mut InFlight,
    tasks: &mut JoinSet<()>,
) -> Result<usize, StoreError> {
    let config = &webhooks.config;
    let free = config.max_in_flight.saturating_sub(flights.tasks.len());
    if free == 0 {
        return Ok(0);
    }
    let now = unix_now();
    let lease = DeliveryLease {
        owner: owner.to_owned(),
        now,
        until: now + lease_secs(config),
    };
    // Twice the free slots: some of a tenant at its bound come back and are released.
    let due = store
        .claim_deliveries(&lease, config.max_in_flight_per_tenant, free * 2)
        .await?;
    let trial_hold = attempt_secs(config);
    let mut held: HashSet<String> = HashSet::new();
    let mut unsent: Vec<(String, String)> = Vec::new();
    let mut started = 0;
    for d in due {
        let key = (d.event_id.clone(), d.endpoint_id.clone());
        if flights.keys.contains(&key) {
            // Still in flight here after its lease ran out: its attempt ends the new lease.
            continue;
        }
        if flights.tasks.len() >= config.max_in_flight
            || flights.of_tenant(&d.tenant) >= config.max_in_flight_per_tenant
            || held.contains(&d.endpoint_id)
        {
            unsent.push(key);
            continue;
        }
        if let Admission::Hold(until) = webhooks.circuits.admit(&d.endpoint_id, now, trial_hold) {
            if let Err(e) = store
                .defer_deliveries(&d.tenant, &d.endpoint_id, until)
                .await
            {
                tracing::warn!(error = %e, "webhook worker: cannot defer deliveries");
            }
            held.insert(d.endpoint_id.clone());
            unsent.push(key);
            continue;
        }
        let tenant = d.tenant.clone();
        let (store, webhooks, owner) = (Arc::clone(store), Arc::clone(webhooks), owner.to_owned());
        let handle =
            tasks.spawn(async move { deliver(store.as_ref(), &webhooks, &owner, &d).await });
        flights.take_off(handle.id(), key, tenant);
        started += 1;
    }
    if !unsent.is_empty() {
        store.release_deliveries(owner, &unsent).await?;
    }
    Ok(started)
}

/// One delivery: the attempt, its outcome for the endpoint's circuit, and its log entry.
/// When the store fails before the attempt, the delivery is released for the next poll
/// (or, if that fails too, waits for its lease to run out).
async fn deliver(store: &dyn Store, webhooks: &Webhooks, owner: &str, d: &DeliveryRecord) {
    let (record, endpoint_answered) = match attempt(store, webhooks, d).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(error = %e, "webhook worker: store unavailable");
            let key = [(d.event_id.clone(), d.endpoint_id.clone())];
            if let Err(e) = store.release_deliveries(owner, &key).await {
                tracing::warn!(error = %e, "webhook worker: cannot release a delivery");
            }
            return;
        }
    };
    if let Some(ok) = endpoint_answered {
        webhooks.circuits.record(&d.endpoint_id, ok, unix_now());
    }
    if let Err(e) = store.record_delivery_attempt(&record).await {
        tracing::warn!(error = %e, "webhook worker: cannot record a delivery attempt");
    }
}

/// The attempt to record and, when the endpoint was tried, whether it answered 2xx.
async fn attempt(
    store: &dyn Store,
    webhooks: &Webhooks,
    d: &DeliveryRecord,
) -> Result<(DeliveryAttempt, Option<bool>), StoreError> {
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
        return Ok((record, None));
    };
    let secret = match webhooks.secret(&endpoint).await {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, endpoint = %endpoint.id, "webhook secret unreadable");
            record.error = Some("signing secret unreadable".into());
            return Ok((record, None));
        }
    };
    let (body, content_type) = match endpoint.format {
        WebhookFormat::StandardWebhooks => (event.payload.as_str(), "application/json"),
        WebhookFormat::FhirR4 => match event.fhir_payload.as_deref() {
            Some(resource) => (resource, "application/fhir+json"),
            None => {
                record.error = Some("the event has no FHIR form".into());
                return Ok((record, None));
            }
        },
    };
    let Ok(signature) = sign(&secret, &event.id, now, body.as_bytes()) else {
        record.error = Some("signing failed".into());
        return Ok((record, None));
    };
    let delivery = Delivery {
        url: &endpoint.url,
        webhook_id: &event.id,
        timestamp: now,
        signature: &signature,
        content_type,
        body,
    };
    match webhooks.sender.send(&delivery).await {
        Ok(code) if (200..300).contains(&code) => {
            record.status_code = Some(code);
            record.status = DeliveryStatus::Delivered;
            return Ok((record, Some(true)));
        }
        Ok(code) => record.status_code = Some(code),
        Err(e) => record.error = Some(e.to_string()),
    }
    let config = &webhooks.config;
    if n < config.max_attempts {
        let jitter: f64 = rand::thread_rng().r#gen();
        record.status = DeliveryStatus::Pending;
        record.next_attempt_at = Some(unix_now() + backoff(config.retry_base, n, jitter));
    }
    Ok((record, Some(false)))
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
