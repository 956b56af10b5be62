//! The payments and webhooks part of the [`crate::conformance`] suite: payments with
//! idempotency keys and compare-and-swap updates, the outbox with its fan-out to endpoints,
//! endpoint deletion, due deliveries and the delivery log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::conformance::{tenant, unique};
use crate::{
    DeliveryAttempt, DeliveryLease, DeliveryStatus, OutboxEvent, PaymentRecord, Store, StoreError,
    TenantId, WebhookEndpointRecord, WebhookFormat,
};

pub(crate) async fn run_all(store: &dyn Store) {
    payments_round_trip_with_idempotency_keys(store).await;
    payment_updates_are_compare_and_swap_with_their_events(store).await;
    overdue_payments_are_the_open_ones_past_their_deadline(store).await;
    endpoints_are_scoped_and_deletion_stops_deliveries(store).await;
    fhir_endpoints_get_only_events_with_a_fhir_resource(store).await;
    deliveries_come_due_and_attempts_are_logged(store).await;
    due_deliveries_take_turns_between_tenants(store).await;
    deferred_deliveries_keep_their_attempts(store).await;
    crate::conformance_leases::run_all(store).await;
}

pub(crate) fn payment(tenant: &TenantId, key: Option<&str>) -> PaymentRecord {
    PaymentRecord {
        id: unique("pay_"),
        tenant: tenant.clone(),
        idempotency_key: key.map(str::to_owned),
        request_hash: "cd".repeat(32),
        state: "requested".into(),
        document: r#"{"amount":100,"reference":"é \"q\""}"#.into(),
        client_secret_hash: Some("ef".repeat(32)),
        created_at: 1_700_000_010,
        updated_at: 1_700_000_010,
        expires_at: 1_700_000_910,
        version: 1,
    }
}

pub(crate) fn event(tenant: &TenantId, at: i64) -> OutboxEvent {
    OutboxEvent {
        id: unique("evt_"),
        tenant: tenant.clone(),
        event_type: "payment.succeeded".into(),
        payload: r#"{"type":"payment.succeeded"}"#.into(),
        fhir_payload: None,
        created_at: at,
    }
}

pub(crate) fn endpoint(tenant: &TenantId) -> WebhookEndpointRecord {
    WebhookEndpointRecord {
        id: unique("whe_"),
        tenant: tenant.clone(),
        url: "https://hooks.example/x".into(),
        key_version: 1,
        secret_ciphertext: vec![1, 0, 255, 7],
        format: WebhookFormat::StandardWebhooks,
        created_at: 1_700_000_020,
        deleted_at: None,
    }
}

/// An endpoint of format `fhir-r4` is stored with its format and gets deliveries of the events
/// that carry a FHIR resource only (stored and read back with it); a standard endpoint gets
/// every event.
async fn fhir_endpoints_get_only_events_with_a_fhir_resource(store: &dyn Store) {
    let t = tenant("wf-");
    store.insert_tenant(&t).await.unwrap();
    let standard = endpoint(&t.id);
    let fhir = WebhookEndpointRecord {
        format: WebhookFormat::FhirR4,
        ..endpoint(&t.id)
    };
    store.insert_webhook_endpoint(&standard).await.unwrap();
    store.insert_webhook_endpoint(&fhir).await.unwrap();
    assert_eq!(
        store.webhook_endpoint(&t.id, &fhir.id).await.unwrap(),
        Some(fhir.clone())
    );
    let plain = event(&t.id, 90);
    let with_fhir = OutboxEvent {
        fhir_payload: Some(r#"{"resourceType":"PaymentNotice"}"#.into()),
        ..event(&t.id, 91)
    };
    store
        .insert_events(&[plain.clone(), with_fhir.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.event(&with_fhir.id).await.unwrap(),
        Some(with_fhir.clone())
    );
    assert_eq!(store.event(&plain.id).await.unwrap(), Some(plain.clone()));
    let mut due: Vec<(String, String)> = due_for(store, &t.id, 91)
        .await
        .into_iter()
        .map(|d| (d.event_id, d.endpoint_id))
        .collect();
    due.sort();
    let mut expected = vec![
        (plain.id.clone(), standard.id.clone()),
        (with_fhir.id.clone(), standard.id.clone()),
        (with_fhir.id.clone(), fhir.id.clone()),
    ];
    expected.sort();
    assert_eq!(due, expected, "the FHIR endpoint gets the FHIR event only");
}

async fn payments_round_trip_with_idempotency_keys(store: &dyn Store) {
    let (a, b) = (tenant("pa-"), tenant("pb-"));
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let p = payment(&a.id, Some("key-1"));
    store.insert_payment(&p).await.unwrap();
    assert_eq!(store.payment(&p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(store.payment("pay_none").await.unwrap(), None);
    assert_eq!(
        store
            .payment_by_idempotency_key(&a.id, "key-1")
            .await
            .unwrap(),
        Some(p.clone())
    );
    assert_eq!(
        store
            .payment_by_idempotency_key(&b.id, "key-1")
            .await
            .unwrap(),
        None,
        "idempotency keys are per tenant"
    );
    assert!(matches!(
        store.insert_payment(&payment(&a.id, Some("key-1"))).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.insert_payment(&p).await,
        Err(StoreError::Conflict(_))
    ));
    store
        .insert_payment(&payment(&b.id, Some("key-1")))
        .await
        .unwrap();
    store.insert_payment(&payment(&a.id, None)).await.unwrap();
    store.insert_payment(&payment(&a.id, None)).await.unwrap();
    let unknown = payment(&TenantId::new(unique("ten_")), None);
    assert!(store.insert_payment(&unknown).await.is_err());
}

async fn payment_updates_are_compare_and_swap_with_their_events(store: &dyn Store) {
    let t = tenant("pu-");
    store.insert_tenant(&t).await.unwrap();
    let w = endpoint(&t.id);
    store.insert_webhook_endpoint(&w).await.unwrap();
    let p = payment(&t.id, Some("k"));
    store.insert_payment(&p).await.unwrap();
    let next = PaymentRecord {
        state: "succeeded".into(),
        document: "{\"state\":\"succeeded\"}".into(),
        updated_at: p.updated_at + 5,
        version: 2,
        ..p.clone()
    };
    let stale_event = event(&t.id, 10);
    assert!(
        !store
            .update_payment(&next, 7, std::slice::from_ref(&stale_event))
            .await
            .unwrap(),
        "a stale version writes nothing"
    );
    assert_eq!(store.event(&stale_event.id).await.unwrap(), None);
    let e = event(&t.id, 10);
    assert!(
        store
            .update_payment(&next, 1, std::slice::from_ref(&e))
            .await
            .unwrap()
    );
    let got = store.payment(&p.id).await.unwrap().unwrap();
    assert_eq!(got, next);
    assert!(!store.update_payment(&next, 1, &[]).await.unwrap());
    assert_eq!(store.event(&e.id).await.unwrap(), Some(e.clone()));
    let due = due_for(store, &t.id, 10).await;
    assert_eq!(due.len(), 1, "one delivery per endpoint");
    assert_eq!(
        (due[0].event_id.as_str(), due[0].endpoint_id.as_str()),
        (e.id.as_str(), w.id.as_str())
    );
    assert!(
        due_for(store, &t.id, 9).await.is_empty(),
        "not due before created_at"
    );
    // An event whose id exists already rolls the whole update back.
    let again = PaymentRecord {
        version: 3,
        ..next.clone()
    };
    assert!(
        store
            .update_payment(&again, 2, std::slice::from_ref(&e))
            .await
            .is_err()
    );
    assert_eq!(store.payment(&p.id).await.unwrap().unwrap().version, 2);
}

async fn due_for(store: &dyn Store, t: &TenantId, now: i64) -> Vec<crate::DeliveryRecord> {
    let mut due = peek(store, now, 10_000, 10_000).await;
    due.retain(|d| &d.tenant == t);
    due
}

/// What a claim at `now` would return, leaving nothing leased: claims under a fresh owner and
/// releases everything it got.
pub(crate) async fn peek(
    store: &dyn Store,
    now: i64,
    per_tenant: usize,
    limit: usize,
) -> Vec<crate::DeliveryRecord> {
    let lease = DeliveryLease {
        owner: unique("peek-"),
        now,
        until: now + 60,
    };
    let due = store
        .claim_deliveries(&lease, per_tenant, limit)
        .await
        .unwrap();
    let keys: Vec<(String, String)> = due
        .iter()
        .map(|d| (d.event_id.clone(), d.endpoint_id.clone()))
        .collect();
    let released = store.release_deliveries(&lease.owner, &keys).await.unwrap();
    assert_eq!(released, keys.len() as u64, "a claim's leases are its own");
    due
}

async fn endpoints_are_scoped_and_deletion_stops_deliveries(store: &dyn Store) {
    let (a, b) = (tenant("wa-"), tenant("wb-"));
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let (w1, w2) = (endpoint(&a.id), endpoint(&a.id));
    store.insert_webhook_endpoint(&w1).await.unwrap();
    store.insert_webhook_endpoint(&w2).await.unwrap();
    assert!(matches!(
        store.insert_webhook_endpoint(&w1).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .insert_webhook_endpoint(&endpoint(&TenantId::new(unique("ten_"))))
            .await
            .is_err()
    );
    assert_eq!(
        store.webhook_endpoints(&a.id).await.unwrap(),
        vec![w1.clone(), w2.clone()]
    );
    assert!(store.webhook_endpoints(&b.id).await.unwrap().is_empty());
    assert_eq!(store.webhook_endpoint(&b.id, &w1.id).await.unwrap(), None);
    store.insert_events(&[event(&a.id, 50)]).await.unwrap();
    assert_eq!(due_for(store, &a.id, 50).await.len(), 2);
    assert!(
        !store
            .delete_webhook_endpoint(&b.id, &w1.id, 60)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_webhook_endpoint(&a.id, &w1.id, 60)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_webhook_endpoint(&a.id, &w1.id, 61)
            .await
            .unwrap()
    );
    assert_eq!(
        store.webhook_endpoints(&a.id).await.unwrap(),
        vec![w2.clone()]
    );
    let deleted = store
        .webhook_endpoint(&a.id, &w1.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.deleted_at, Some(60));
    let due = due_for(store, &a.id, 50).await;
    assert_eq!(due.len(), 1, "the deleted endpoint's delivery stopped");
    assert_eq!(due[0].endpoint_id, w2.id);
    store.insert_events(&[event(&a.id, 70)]).await.unwrap();
    assert_eq!(
        due_for(store, &a.id, 70).await.len(),
        2,
        "no fan-out to deleted endpoints"
    );
    // Tenants without endpoints still keep their events.
    let lone = event(&b.id, 80);
    store
        .insert_events(std::slice::from_ref(&lone))
        .await
        .unwrap();
    assert_eq!(store.event(&lone.id).await.unwrap(), Some(lone));
}

async fn deliveries_come_due_and_attempts_are_logged(store: &dyn Store) {
    let t = tenant("dl-");
    store.insert_tenant(&t).await.unwrap();
    let w = endpoint(&t.id);
    store.insert_webhook_endpoint(&w).await.unwrap();
    let (e1, e2) = (event(&t.id, 100), event(&t.id, 90));
    store
        .insert_events(&[e1.clone(), e2.clone()])
        .await
        .unwrap();
    let due = due_for(store, &t.id, 100).await;
    assert_eq!(
        due.iter().map(|d| d.event_id.as_str()).collect::<Vec<_>>(),
        vec![e2.id.as_str(), e1.id.as_str()],
        "earliest first"
    );
    assert_eq!(
        (due[0].attempts, due[0].status),
        (0, DeliveryStatus::Pending)
    );
    let retry = DeliveryAttempt {
        event_id: e1.id.clone(),
        endpoint_id: w.id.clone(),
        tenant: t.id.clone(),
        attempt: 1,
        at: 100,
        status_code: Some(503),
        error: None,
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(130),
    };
    assert!(store.record_delivery_attempt(&retry).await.unwrap());
    let due = due_for(store, &t.id, 100).await;
    assert_eq!(due.len(), 1, "retried delivery waits");
    let later = due_for(store, &t.id, 130).await;
    let d1 = later.iter().find(|d| d.event_id == e1.id).unwrap();
    assert_eq!(d1.attempts, 1);
    let done = DeliveryAttempt {
        attempt: 2,
        at: 130,
        status_code: Some(204),
        status: DeliveryStatus::Delivered,
        next_attempt_at: None,
        ..retry.clone()
    };
    assert!(store.record_delivery_attempt(&done).await.unwrap());
    assert!(
        due_for(store, &t.id, 1_000)
            .await
            .iter()
            .all(|d| d.event_id != e1.id)
    );
    let log = store.delivery_log(&t.id, &w.id, 10).await.unwrap();
    assert_eq!(log, vec![done.clone(), retry.clone()], "newest first");
    assert_eq!(store.delivery_log(&t.id, &w.id, 1).await.unwrap().len(), 1);
    let other = TenantId::new(unique("ten_"));
    assert!(
        store
            .delivery_log(&other, &w.id, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let foreign = DeliveryAttempt {
        tenant: other,
        ..done.clone()
    };
    assert!(!store.record_delivery_attempt(&foreign).await.unwrap());
    let error = DeliveryAttempt {
        event_id: e2.id.clone(),
        attempt: 1,
        status_code: None,
        error: Some("connection refused".into()),
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        ..retry
    };
    assert!(store.record_delivery_attempt(&error).await.unwrap());
    assert!(due_for(store, &t.id, 1_000).await.is_empty());
}

/// Issue 12, finding 5: a tenant with a backlog cannot fill the batch; each tenant gets at
/// most `per_tenant`, and every tenant's earliest comes before anyone's second.
async fn due_deliveries_take_turns_between_tenants(store: &dyn Store) {
    let (a, b) = (tenant("rra-"), tenant("rrb-"));
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let (wa, wb) = (endpoint(&a.id), endpoint(&b.id));
    store.insert_webhook_endpoint(&wa).await.unwrap();
    store.insert_webhook_endpoint(&wb).await.unwrap();
    let backlog: Vec<OutboxEvent> = (0..5).map(|i| event(&a.id, 200 + i)).collect();
    store.insert_events(&backlog).await.unwrap();
    let late = event(&b.id, 300);
    store
        .insert_events(std::slice::from_ref(&late))
        .await
        .unwrap();
    let due = peek(store, 300, 2, 10_000).await;
    let ours: Vec<&str> = due
        .iter()
        .filter(|d| d.tenant == a.id || d.tenant == b.id)
        .map(|d| d.event_id.as_str())
        .collect();
    assert_eq!(
        ours,
        vec![
            backlog[0].id.as_str(),
            late.id.as_str(),
            backlog[1].id.as_str()
        ],
        "A's earliest, B's earliest, then A's second; A's others wait"
    );
    assert_eq!(peek(store, 300, 2, 1).await.len(), 1);
}

/// Issue 12, finding 5: an open circuit moves an endpoint's deliveries later; they stay
/// pending with their attempt count, and other endpoints are untouched.
async fn deferred_deliveries_keep_their_attempts(store: &dyn Store) {
    let t = tenant("df-");
    store.insert_tenant(&t).await.unwrap();
    let (w1, w2) = (endpoint(&t.id), endpoint(&t.id));
    store.insert_webhook_endpoint(&w1).await.unwrap();
    store.insert_webhook_endpoint(&w2).await.unwrap();
    let (e1, e2) = (event(&t.id, 400), event(&t.id, 401));
    store
        .insert_events(&[e1.clone(), e2.clone()])
        .await
        .unwrap();
    let other = TenantId::new(unique("ten_"));
    assert_eq!(
        store.defer_deliveries(&other, &w1.id, 500).await.unwrap(),
        0
    );
    assert_eq!(store.defer_deliveries(&t.id, &w1.id, 500).await.unwrap(), 2);
    assert_eq!(
        store.defer_deliveries(&t.id, &w1.id, 450).await.unwrap(),
        0,
        "never earlier"
    );
    let due = due_for(store, &t.id, 499).await;
    assert!(
        due.iter().all(|d| d.endpoint_id == w2.id) && due.len() == 2,
        "{due:?}"
    );
    let later = due_for(store, &t.id, 500).await;
    assert_eq!(later.len(), 4);
    assert!(
        later
            .iter()
            .all(|d| d.attempts == 0 && d.status == DeliveryStatus::Pending)
    );
}

/// The expiry sweeper's query: open payments (`requested`, `collecting`, `ready`) at or past
/// their deadline, earliest first, up to the limit; a finished payment or one not yet due is
/// not listed, and an update moves the deadline with it.
async fn overdue_payments_are_the_open_ones_past_their_deadline(store: &dyn Store) {
    let t = tenant("od-");
    store.insert_tenant(&t).await.unwrap();
    // Other tests' payments (earlier deadlines) are due too: only these are looked at.
    let base = 4_000_000_000;
    let mut rows = Vec::new();
    for (state, expires_at) in [
        ("requested", base + 30),
        ("collecting", base + 10),
        ("ready", base + 20),
        ("succeeded", base + 5),
        ("expired", base + 5),
        ("requested", base + 100),
    ] {
        let mut p = payment(&t.id, None);
        p.state = state.into();
        p.expires_at = expires_at;
        store.insert_payment(&p).await.unwrap();
        rows.push(p);
    }
    let ours = |ids: Vec<String>| -> Vec<String> {
        ids.into_iter()
            .filter(|id| rows.iter().any(|r| &r.id == id))
            .collect()
    };
    let due = ours(store.overdue_payments(base + 30, 10_000).await.unwrap());
    assert_eq!(
        due,
        vec![rows[1].id.clone(), rows[2].id.clone(), rows[0].id.clone()],
        "open and due only, earliest deadline first"
    );
    let all_due = store.overdue_payments(base + 30, 10_000).await.unwrap();
    let first_two = store.overdue_payments(base + 30, 2).await.unwrap();
    assert_eq!(
        first_two,
        all_due[..2].to_vec(),
        "the limit keeps the earliest"
    );
    // Expiring one (an update to a terminal state) takes it off the list.
    let mut done = rows[1].clone();
    done.state = "expired".into();
    done.version = 2;
    assert!(store.update_payment(&done, 1, &[]).await.unwrap());
    let due = ours(store.overdue_payments(base + 30, 10_000).await.unwrap());
    assert_eq!(due, vec![rows[2].id.clone(), rows[0].id.clone()]);
    assert_eq!(
        store
            .payment(&rows[5].id)
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        base + 100,
        "the deadline round-trips"
    );
}
