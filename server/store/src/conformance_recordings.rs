//! The recording index, part of the [`crate::conformance`] suite: recordings indexed by the
//! gateway that wrote them are found by any gateway sharing the store (by tenant, by room,
//! newest first), and retention sweepers claim them so that each is deleted by one of them
//! ([`crate::RecordingStore::claim_recordings_for_deletion`]); a lease that runs out (its sweeper died) makes
//! the recording claimable again, and only the last claimer may mark or delete it.
//!
//! Each check uses its own range of start times (far below real ones), each lower than the
//! one before, and claims only below it, so the claims of one never reach the recordings of
//! a later one (nor, when the suite runs again on the same store, what an earlier run left
//! leased).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashSet;

use crate::conformance::{tenant, unique};
use crate::{RecordingLease, RecordingRecord, Store, StoreError, TenantId};

pub(crate) async fn run_all(store: &dyn Store) {
    recordings_round_trip_newest_first_by_tenant_and_room(store).await;
    concurrent_sweepers_never_share_a_recording(store).await;
    a_dead_sweepers_lease_runs_out_and_only_the_last_claimer_deletes(store).await;
}

fn recording(t: &TenantId, room: &str, started_at_ms: i64) -> RecordingRecord {
    RecordingRecord {
        tenant: t.clone(),
        id: unique("rec_"),
        room: room.to_owned(),
        started_at_ms,
        deletion_audited: false,
    }
}

fn lease(owner: &str, now: i64, secs: i64) -> RecordingLease {
    RecordingLease {
        owner: owner.to_owned(),
        now,
        until: now + secs,
    }
}

/// Claims for `lease.owner` and keeps only tenant `t`'s recordings.
async fn claim(
    store: &dyn Store,
    t: &TenantId,
    lease: &RecordingLease,
    before: i64,
    limit: usize,
) -> Vec<RecordingRecord> {
    store
        .claim_recordings_for_deletion(lease, before, limit)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| &r.tenant == t)
        .collect()
}

async fn recordings_round_trip_newest_first_by_tenant_and_room(store: &dyn Store) {
    let (t, u) = (tenant("ri-"), tenant("rj-"));
    store.insert_tenant(&t).await.unwrap();
    store.insert_tenant(&u).await.unwrap();
    let base = 1_700_000_000_000;
    let a1 = recording(&t.id, "room-a", base);
    let b1 = recording(&t.id, "room-b", base + 10);
    let a2 = recording(&t.id, "room-a", base + 20);
    let other = recording(&u.id, "room-a", base + 30);
    for r in [&a1, &b1, &a2, &other] {
        store.insert_recording(r).await.unwrap();
    }
    assert!(
        matches!(
            store.insert_recording(&a1).await,
            Err(StoreError::Conflict(_))
        ),
        "the same recording twice is a conflict"
    );
    let stray = recording(&TenantId::new(unique("ten_missing_")), "r", base);
    assert!(
        store.insert_recording(&stray).await.is_err(),
        "an unknown tenant is refused"
    );
    assert_eq!(
        store.recording(&t.id, &a1.id).await.unwrap(),
        Some(a1.clone())
    );
    assert_eq!(
        store.recording(&u.id, &a1.id).await.unwrap(),
        None,
        "another tenant's recording is not found"
    );
    let all = store.recordings(&t.id, None, 100).await.unwrap();
    assert_eq!(
        all,
        vec![a2.clone(), b1.clone(), a1.clone()],
        "newest first"
    );
    let room_a = store.recordings(&t.id, Some("room-a"), 100).await.unwrap();
    assert_eq!(room_a, vec![a2.clone(), a1.clone()]);
    assert_eq!(
        store.recordings(&t.id, None, 2).await.unwrap(),
        vec![a2, b1],
        "the limit keeps the newest"
    );
    assert_eq!(
        store.recordings(&u.id, None, 100).await.unwrap(),
        vec![other]
    );
    assert!(
        store
            .recordings(&t.id, Some("room-c"), 100)
            .await
            .unwrap()
            .is_empty()
    );
}

/// Four sweepers at once, round after round: every old recording is claimed exactly once, and
/// none younger than the cut-off.
async fn concurrent_sweepers_never_share_a_recording(store: &dyn Store) {
    let t = tenant("rc-");
    store.insert_tenant(&t).await.unwrap();
    let old: Vec<RecordingRecord> = (0..24)
        .map(|i| recording(&t.id, "r", 1_000 + i % 5))
        .collect();
    for r in &old {
        store.insert_recording(r).await.unwrap();
    }
    let young = recording(&t.id, "r", 1_900);
    store.insert_recording(&young).await.unwrap();
    let owners = [
        unique("sweeper-a-"),
        unique("sweeper-b-"),
        unique("sweeper-c-"),
        unique("sweeper-d-"),
    ];
    let leases = owners.clone().map(|o| lease(&o, 50_000, 300));
    let mut seen: HashSet<String> = HashSet::new();
    for _round in 0..100 {
        let (a, b, c, d) = tokio::join!(
            claim(store, &t.id, &leases[0], 1_500, 3),
            claim(store, &t.id, &leases[1], 1_500, 3),
            claim(store, &t.id, &leases[2], 1_500, 3),
            claim(store, &t.id, &leases[3], 1_500, 3),
        );
        let round = [a, b, c, d].concat();
        if round.is_empty() {
            break;
        }
        for r in round {
            assert!(r.started_at_ms < 1_500, "{} is younger", r.id);
            assert!(seen.insert(r.id.clone()), "{} claimed twice", r.id);
        }
    }
    let expected: HashSet<String> = old.iter().map(|r| r.id.clone()).collect();
    assert_eq!(seen, expected, "every old recording claimed once");
    assert!(
        claim(
            store,
            &t.id,
            &lease(&unique("late-"), 50_100, 300),
            1_500,
            100
        )
        .await
        .is_empty(),
        "leased recordings are not handed out again"
    );
    assert_eq!(
        store.recording(&t.id, &young.id).await.unwrap(),
        Some(young),
        "the young one stays"
    );
}

/// A sweeper claims, audits and dies: its lease runs out, the next one finds the deletion
/// audited (no second audit entry) and deletes it; the dead one's late calls change nothing.
async fn a_dead_sweepers_lease_runs_out_and_only_the_last_claimer_deletes(store: &dyn Store) {
    let t = tenant("rd-");
    store.insert_tenant(&t).await.unwrap();
    let r = recording(&t.id, "r", 500);
    store.insert_recording(&r).await.unwrap();
    let (dead, alive) = (unique("dead-"), unique("alive-"));
    let first = claim(store, &t.id, &lease(&dead, 60_000, 30), 600, 10).await;
    assert_eq!(first, vec![r.clone()]);
    assert!(
        !store
            .mark_recording_deletion_audited(&t.id, &r.id, &alive)
            .await
            .unwrap(),
        "only the claimer marks"
    );
    assert!(
        store
            .mark_recording_deletion_audited(&t.id, &r.id, &dead)
            .await
            .unwrap()
    );
    assert!(
        claim(store, &t.id, &lease(&alive, 60_029, 30), 600, 10)
            .await
            .is_empty(),
        "still leased a second before it runs out"
    );
    let taken = claim(store, &t.id, &lease(&alive, 60_030, 30), 600, 10).await;
    assert_eq!(taken.len(), 1);
    assert!(taken[0].deletion_audited, "the audit is remembered");
    assert!(
        !store.delete_recording(&t.id, &r.id, &dead).await.unwrap(),
        "the dead sweeper's late delete does nothing"
    );
    assert!(store.recording(&t.id, &r.id).await.unwrap().is_some());
    assert!(store.delete_recording(&t.id, &r.id, &alive).await.unwrap());
    assert_eq!(store.recording(&t.id, &r.id).await.unwrap(), None);
    assert!(store.recordings(&t.id, None, 10).await.unwrap().is_empty());
    assert!(!store.delete_recording(&t.id, &r.id, &alive).await.unwrap());
}
