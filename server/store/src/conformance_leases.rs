//! Webhook delivery leases, part of the [`crate::conformance`] suite: gateways sharing one
//! store claim due deliveries ([`crate::WebhookStore::claim_deliveries`]) so that each is sent
//! by exactly one of them; a lease that runs out (its node died) makes the delivery claimable
//! again, and recording an attempt or releasing the delivery ends the lease at once.
//!
//! The times here (from 10,000 on) are later than anything else in the suite, so claims that
//! sweep up other tests' pending deliveries release them again before returning.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use crate::conformance::{tenant, unique};
use crate::conformance_payments::{endpoint, event};
use crate::{
    DeliveryAttempt, DeliveryLease, DeliveryRecord, DeliveryStatus, OutboxEvent, Store, TenantId,
};

pub(crate) async fn run_all(store: &dyn Store) {
    concurrent_claimers_never_share_a_delivery(store).await;
    an_expired_lease_is_claimable_again(store).await;
    a_recorded_attempt_or_a_release_ends_the_lease(store).await;
}

fn lease(owner: &str, now: i64, secs: i64) -> DeliveryLease {
    DeliveryLease {
        owner: owner.to_owned(),
        now,
        until: now + secs,
    }
}

/// Claims for `owner` and keeps only tenant `t`'s deliveries, releasing the rest. (`limit` is
/// kept large so that other tenants' leftovers, which take their turns first, never crowd
/// `t` out of a claim.)
async fn claim(
    store: &dyn Store,
    t: &TenantId,
    lease: &DeliveryLease,
    per_tenant: usize,
    limit: usize,
) -> Vec<DeliveryRecord> {
    let claimed = store
        .claim_deliveries(lease, per_tenant, limit)
        .await
        .unwrap();
    let (ours, others): (Vec<_>, Vec<_>) = claimed.into_iter().partition(|d| &d.tenant == t);
    let others: Vec<(String, String)> = others
        .into_iter()
        .map(|d| (d.event_id, d.endpoint_id))
        .collect();
    store
        .release_deliveries(&lease.owner, &others)
        .await
        .unwrap();
    ours
}

fn keys(ds: &[DeliveryRecord]) -> Vec<(String, String)> {
    ds.iter()
        .map(|d| (d.event_id.clone(), d.endpoint_id.clone()))
        .collect()
}

/// Four claimers at once, round after round, until nothing is left: every delivery is
/// claimed exactly once. (On PostgreSQL the four run on four pooled connections.)
async fn concurrent_claimers_never_share_a_delivery(store: &dyn Store) {
    let t = tenant("lc-");
    store.insert_tenant(&t).await.unwrap();
    let (w1, w2) = (endpoint(&t.id), endpoint(&t.id));
    store.insert_webhook_endpoint(&w1).await.unwrap();
    store.insert_webhook_endpoint(&w2).await.unwrap();
    let events: Vec<OutboxEvent> = (0..30).map(|i| event(&t.id, 10_000 + i % 3)).collect();
    store.insert_events(&events).await.unwrap();
    let expected: HashSet<(String, String)> = events
        .iter()
        .flat_map(|e| [&w1.id, &w2.id].map(|w| (e.id.clone(), w.clone())))
        .collect();
    let owners = [
        unique("node-a-"),
        unique("node-b-"),
        unique("node-c-"),
        unique("node-d-"),
    ];
    let leases = owners.clone().map(|o| lease(&o, 10_010, 300));
    let mut seen: HashSet<(String, String)> = HashSet::new();
    for _round in 0..100 {
        let (a, b, c, d) = tokio::join!(
            claim(store, &t.id, &leases[0], 3, 10_000),
            claim(store, &t.id, &leases[1], 3, 10_000),
            claim(store, &t.id, &leases[2], 3, 10_000),
            claim(store, &t.id, &leases[3], 3, 10_000),
        );
        let round: Vec<DeliveryRecord> = [a, b, c, d].concat();
        if round.is_empty() {
            break;
        }
        for k in keys(&round) {
            assert!(seen.insert(k.clone()), "{k:?} claimed twice");
        }
    }
    assert_eq!(seen, expected, "every delivery claimed once");
    let again = claim(
        store,
        &t.id,
        &lease(&unique("node-e-"), 10_010, 300),
        100,
        1000,
    )
    .await;
    assert!(
        again.is_empty(),
        "leased deliveries are not handed out again"
    );
}

/// A node that claimed and died: its lease runs out and another node takes the delivery,
/// not a second before.
async fn an_expired_lease_is_claimable_again(store: &dyn Store) {
    let t = tenant("le-");
    store.insert_tenant(&t).await.unwrap();
    let w = endpoint(&t.id);
    store.insert_webhook_endpoint(&w).await.unwrap();
    let e = event(&t.id, 11_000);
    store.insert_events(std::slice::from_ref(&e)).await.unwrap();
    let (dead, alive) = (unique("dead-"), unique("alive-"));
    let first = claim(store, &t.id, &lease(&dead, 11_000, 30), 10, 10_000).await;
    assert_eq!(keys(&first), vec![(e.id.clone(), w.id.clone())]);
    assert!(
        claim(store, &t.id, &lease(&alive, 11_029, 30), 10, 10_000)
            .await
            .is_empty(),
        "still leased a second before it runs out"
    );
    let taken = claim(store, &t.id, &lease(&alive, 11_030, 30), 10, 10_000).await;
    assert_eq!(taken, first, "claimable again once the lease ran out");
    assert_eq!(
        store
            .release_deliveries(&dead, &keys(&first))
            .await
            .unwrap(),
        0,
        "the dead node's late release does not end the new owner's lease"
    );
    assert!(
        claim(store, &t.id, &lease(&dead, 11_031, 30), 10, 10_000)
            .await
            .is_empty()
    );
}

/// Recording the attempt ends the lease: a retry is due at its own time, not the lease's end;
/// a delivered one is never claimed again. A release hands an unsent delivery back at once.
async fn a_recorded_attempt_or_a_release_ends_the_lease(store: &dyn Store) {
    let t = tenant("lr-");
    store.insert_tenant(&t).await.unwrap();
    let w = endpoint(&t.id);
    store.insert_webhook_endpoint(&w).await.unwrap();
    let (e1, e2) = (event(&t.id, 12_000), event(&t.id, 12_000));
    store
        .insert_events(&[e1.clone(), e2.clone()])
        .await
        .unwrap();
    let (a, b) = (unique("node-a-"), unique("node-b-"));
    let claimed = claim(store, &t.id, &lease(&a, 12_000, 600), 10, 10_000).await;
    assert_eq!(claimed.len(), 2);
    let retry = DeliveryAttempt {
        event_id: e1.id.clone(),
        endpoint_id: w.id.clone(),
        tenant: t.id.clone(),
        attempt: 1,
        at: 12_001,
        status_code: Some(503),
        error: None,
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(12_010),
    };
    assert!(store.record_delivery_attempt(&retry).await.unwrap());
    assert!(
        claim(store, &t.id, &lease(&b, 12_009, 600), 10, 10_000)
            .await
            .is_empty(),
        "the retry is not due yet and e2 is still leased"
    );
    let again = claim(store, &t.id, &lease(&b, 12_010, 600), 10, 10_000).await;
    assert_eq!(keys(&again), vec![(e1.id.clone(), w.id.clone())]);
    assert_eq!(again[0].attempts, 1);
    let delivered = DeliveryAttempt {
        attempt: 2,
        at: 12_011,
        status_code: Some(200),
        status: DeliveryStatus::Delivered,
        next_attempt_at: None,
        ..retry
    };
    assert!(store.record_delivery_attempt(&delivered).await.unwrap());
    let e2_key = vec![(e2.id.clone(), w.id.clone())];
    assert_eq!(store.release_deliveries(&b, &e2_key).await.unwrap(), 0);
    assert_eq!(store.release_deliveries(&a, &e2_key).await.unwrap(), 1);
    let rest = claim(store, &t.id, &lease(&b, 12_012, 600), 10, 10_000).await;
    assert_eq!(
        keys(&rest),
        e2_key,
        "released at once; the delivered one is done"
    );
    let done = DeliveryAttempt {
        event_id: e2.id.clone(),
        ..delivered
    };
    assert!(store.record_delivery_attempt(&done).await.unwrap());
    assert!(
        claim(store, &t.id, &lease(&a, 99_999, 600), 10, 10_000)
            .await
            .is_empty()
    );
}
