//! The refunds part of the [`crate::conformance`] suite: a payment's refunds never add up to
//! more than its limit (one at a time or all at once), failed ones free their amount, only a
//! pending refund finishes (with its events), idempotency keys are per tenant.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::conformance::{tenant, unique};
use crate::conformance_payments::{event, payment};
use crate::{RefundInsert, RefundRecord, Store, StoreError, TenantId};

pub(crate) async fn run_all(store: &dyn Store) {
    refunds_stay_within_the_limit_and_failed_ones_free_it(store).await;
    concurrent_refunds_cannot_pass_the_limit_together(store).await;
    refunds_are_the_tenants_and_keys_are_unique_per_tenant(store).await;
}

fn refund(tenant: &TenantId, payment_id: &str, amount: u64, at: i64) -> RefundRecord {
    RefundRecord {
        id: unique("re_"),
        tenant: tenant.clone(),
        payment_id: payment_id.to_owned(),
        idempotency_key: Some(unique("k-")),
        request_hash: "ab".repeat(32),
        amount,
        state: "pending".into(),
        document: r#"{"amount":1,"reason":"é \"q\""}"#.into(),
        created_at: at,
        updated_at: at,
    }
}

async fn paid(store: &dyn Store, prefix: &str) -> (TenantId, String) {
    let t = tenant(prefix);
    store.insert_tenant(&t).await.unwrap();
    let p = payment(&t.id, None);
    store.insert_payment(&p).await.unwrap();
    (t.id, p.id)
}

async fn refunds_stay_within_the_limit_and_failed_ones_free_it(store: &dyn Store) {
    let (t, pay) = paid(store, "rf-").await;
    let a = refund(&t, &pay, 600, 10);
    assert_eq!(
        store.insert_refund(&a, 1000).await.unwrap(),
        RefundInsert::Inserted
    );
    let b = refund(&t, &pay, 401, 11);
    assert_eq!(
        store.insert_refund(&b, 1000).await.unwrap(),
        RefundInsert::Exceeds { refunded: 600 },
        "600 + 401 > 1000: refused, pending ones count"
    );
    assert_eq!(store.refund(&b.id).await.unwrap(), None, "nothing stored");
    let c = refund(&t, &pay, 400, 12);
    assert_eq!(
        store.insert_refund(&c, 1000).await.unwrap(),
        RefundInsert::Inserted,
        "exactly the limit"
    );

    // `a` fails: its amount is free again; its event goes out with the change.
    let ev = event(&t, 13);
    let failed = RefundRecord {
        state: "failed".into(),
        document: r#"{"state":"failed"}"#.into(),
        updated_at: 13,
        ..a.clone()
    };
    assert!(
        store
            .finish_refund(&failed, std::slice::from_ref(&ev))
            .await
            .unwrap()
    );
    assert_eq!(store.event(&ev.id).await.unwrap(), Some(ev.clone()));
    assert_eq!(store.refund(&a.id).await.unwrap(), Some(failed.clone()));
    // Finished once only: a second finish changes nothing and writes no event.
    let again = RefundRecord {
        state: "succeeded".into(),
        ..failed.clone()
    };
    let ev2 = event(&t, 14);
    assert!(
        !store
            .finish_refund(&again, std::slice::from_ref(&ev2))
            .await
            .unwrap()
    );
    assert_eq!(store.event(&ev2.id).await.unwrap(), None);
    assert_eq!(store.refund(&a.id).await.unwrap().unwrap().state, "failed");

    let d = refund(&t, &pay, 600, 15);
    assert_eq!(
        store.insert_refund(&d, 1000).await.unwrap(),
        RefundInsert::Inserted,
        "the failed refund no longer counts"
    );
    let ids: Vec<String> = store
        .refunds_of(&pay)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(ids, vec![a.id, c.id, d.id], "in insertion order");
}

async fn concurrent_refunds_cannot_pass_the_limit_together(store: &dyn Store) {
    let (t, pay) = paid(store, "rc-").await;
    let tries: Vec<RefundRecord> = (0..8).map(|i| refund(&t, &pay, 30, 20 + i)).collect();
    let results = futures_join_all(tries.iter().map(|r| store.insert_refund(r, 100))).await;
    let inserted = results
        .iter()
        .filter(|r| matches!(r, Ok(RefundInsert::Inserted)))
        .count();
    assert_eq!(inserted, 3, "3 × 30 ≤ 100 < 4 × 30: {results:?}");
    let sum: u64 = store
        .refunds_of(&pay)
        .await
        .unwrap()
        .iter()
        .map(|r| r.amount)
        .sum();
    assert_eq!(sum, 90);
}

/// Runs the futures at once (on PostgreSQL each takes its own pooled connection).
async fn futures_join_all<F: std::future::Future>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output> {
    let futures: Vec<_> = futures.map(Box::pin).collect();
    let mut out = Vec::with_capacity(futures.len());
    let mut pending: Vec<_> = futures.into_iter().map(Some).collect();
    // Poll every future in turn until all are done, so their transactions overlap.
    std::future::poll_fn(|cx| {
        let mut all_done = true;
        for slot in pending.iter_mut() {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => {
                        out.push(v);
                        *slot = None;
                    }
                    std::task::Poll::Pending => all_done = false,
                }
            }
        }
        if all_done {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    out
}

async fn refunds_are_the_tenants_and_keys_are_unique_per_tenant(store: &dyn Store) {
    let (a, pay_a) = paid(store, "ra-").await;
    let (b, pay_b) = paid(store, "rb-").await;
    // Another tenant's payment: refused, nothing stored.
    let stray = refund(&b, &pay_a, 1, 30);
    assert!(matches!(
        store.insert_refund(&stray, 1000).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.refund(&stray.id).await.unwrap(), None);
    // A key reused by the same tenant: refused; by another tenant: fine.
    let first = refund(&a, &pay_a, 1, 31);
    store.insert_refund(&first, 1000).await.unwrap();
    let same_key = RefundRecord {
        id: unique("re_"),
        ..first.clone()
    };
    assert!(matches!(
        store.insert_refund(&same_key, 1000).await,
        Err(StoreError::Conflict(_))
    ));
    let key = first.idempotency_key.clone().unwrap();
    let other_tenant = RefundRecord {
        id: unique("re_"),
        tenant: b.clone(),
        payment_id: pay_b.clone(),
        ..first.clone()
    };
    assert_eq!(
        store.insert_refund(&other_tenant, 1000).await.unwrap(),
        RefundInsert::Inserted
    );
    assert_eq!(
        store.refund_by_idempotency_key(&a, &key).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        store
            .refund_by_idempotency_key(&b, &key)
            .await
            .unwrap()
            .map(|r| r.id),
        Some(other_tenant.id)
    );
    // The same id twice: refused.
    assert!(matches!(
        store
            .insert_refund(
                &RefundRecord {
                    idempotency_key: None,
                    ..first.clone()
                },
                1000
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    // A refund finishes only for its own tenant.
    let wrong = RefundRecord {
        tenant: b.clone(),
        state: "succeeded".into(),
        ..first.clone()
    };
    assert!(!store.finish_refund(&wrong, &[]).await.unwrap());
    assert_eq!(
        store.refund(&first.id).await.unwrap().unwrap().state,
        "pending"
    );
}
