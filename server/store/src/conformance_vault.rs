//! The vault part of the [`crate::conformance`] suite: data keys, tokens, the audit log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::conformance::{tenant, unique};
use std::sync::Arc;

use crate::{
    AuditChainer, AuditRecord, DataKeyRecord, DataKeyState, SavedCardRecord, Store, StoreError,
    TenantId, TokenRecord,
};

pub(crate) async fn run_all(store: &dyn Store) {
    data_keys_round_trip_retire_and_count(store).await;
    tokens_round_trip_bound_to_their_tenant(store).await;
    token_batches_are_all_or_nothing(store).await;
    rewrap_replaces_only_the_expected_version(store).await;
    audit_log_appends_in_order_and_refuses_reuse(store).await;
    tokens_and_their_audit_entries_commit_together(store).await;
    chained_appends_from_many_writers_form_one_chain(store).await;
    a_tokens_event_commits_with_it_or_not_at_all(store).await;
    saved_cards_bind_a_tenants_token_to_a_customer_until_deleted(store).await;
}

fn data_key(tenant: &TenantId, version: u32) -> DataKeyRecord {
    DataKeyRecord {
        tenant: tenant.clone(),
        version,
        wrapped: vec![0, 1, 2, 255, version as u8],
        state: DataKeyState::Active,
        created_at: 1_700_000_002,
        invocations: 0,
    }
}

fn token(tenant: &TenantId, version: u32) -> TokenRecord {
    TokenRecord {
        id: unique("tok_"),
        tenant: tenant.clone(),
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 12,
        exp_year: 2030,
        fingerprint: "fp-abc_DEF".into(),
        created_at: 1_700_000_003,
        expires_at: Some(1_800_000_000),
        key_version: version,
        ciphertext: vec![9, 8, 7, 0, 255],
    }
}

async fn data_keys_round_trip_retire_and_count(store: &dyn Store) {
    let t = tenant("dk-");
    store.insert_tenant(&t).await.unwrap();
    let (k1, k2) = (data_key(&t.id, 1), data_key(&t.id, 2));
    store.insert_data_key(&k2).await.unwrap();
    store.insert_data_key(&k1).await.unwrap();
    assert!(matches!(
        store.insert_data_key(&k1).await,
        Err(StoreError::Conflict(_))
    ));
    let unknown = data_key(&TenantId::new(unique("ten_")), 1);
    assert!(
        store.insert_data_key(&unknown).await.is_err(),
        "a data key for an unknown tenant is refused"
    );
    assert_eq!(store.data_keys(&t.id).await.unwrap(), vec![k1.clone(), k2]);
    assert!(store.retire_data_key(&t.id, 1).await.unwrap());
    assert!(!store.retire_data_key(&t.id, 7).await.unwrap());
    let keys = store.data_keys(&t.id).await.unwrap();
    assert_eq!(keys[0].state, DataKeyState::Retired);
    assert_eq!(keys[1].state, DataKeyState::Active);
    assert_eq!(
        store.reserve_key_invocations(&t.id, 2, 100).await.unwrap(),
        Some(100)
    );
    assert_eq!(
        store.reserve_key_invocations(&t.id, 2, 28).await.unwrap(),
        Some(128)
    );
    assert_eq!(
        store.reserve_key_invocations(&t.id, 9, 1).await.unwrap(),
        None
    );
    assert_eq!(store.data_keys(&t.id).await.unwrap()[1].invocations, 128);
    let other = tenant("dk-other-");
    store.insert_tenant(&other).await.unwrap();
    assert!(store.data_keys(&other.id).await.unwrap().is_empty());
}

async fn tokens_round_trip_bound_to_their_tenant(store: &dyn Store) {
    let (a, b) = (tenant("tok-a-"), tenant("tok-b-"));
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let mut tok = token(&a.id, 1);
    tok.expires_at = None;
    store.insert_token(&tok).await.unwrap();
    assert_eq!(
        store.token(&a.id, &tok.id).await.unwrap().as_ref(),
        Some(&tok)
    );
    assert_eq!(
        store.token(&b.id, &tok.id).await.unwrap(),
        None,
        "tenant B cannot read tenant A's token"
    );
    assert!(matches!(
        store.insert_token(&tok).await,
        Err(StoreError::Conflict(_))
    ));
    let with_expiry = token(&a.id, 1);
    store.insert_token(&with_expiry).await.unwrap();
    assert_eq!(
        store.token(&a.id, &with_expiry.id).await.unwrap(),
        Some(with_expiry)
    );
    assert_eq!(store.token(&a.id, "tok_missing").await.unwrap(), None);
}

async fn token_batches_are_all_or_nothing(store: &dyn Store) {
    let t = tenant("batch-");
    store.insert_tenant(&t).await.unwrap();
    let batch: Vec<TokenRecord> = (0..5).map(|_| token(&t.id, 1)).collect();
    store.insert_tokens(&batch).await.unwrap();
    for tok in &batch {
        assert!(store.token(&t.id, &tok.id).await.unwrap().is_some());
    }
    let fresh = token(&t.id, 1);
    let bad = vec![fresh.clone(), batch[0].clone()];
    assert!(store.insert_tokens(&bad).await.is_err());
    assert_eq!(
        store.token(&t.id, &fresh.id).await.unwrap(),
        None,
        "a failed batch leaves nothing behind"
    );
}

async fn rewrap_replaces_only_the_expected_version(store: &dyn Store) {
    let (t, other) = (tenant("rewrap-"), tenant("rewrap-o-"));
    store.insert_tenant(&t).await.unwrap();
    store.insert_tenant(&other).await.unwrap();
    let old = token(&t.id, 1);
    let current = token(&t.id, 2);
    store
        .insert_tokens(&[old.clone(), current.clone()])
        .await
        .unwrap();
    assert_eq!(
        store.tokens_below_key_version(&t.id, 2, 10).await.unwrap(),
        vec![old.id.clone()]
    );
    assert!(
        store
            .tokens_below_key_version(&other.id, 99, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !store
            .rewrap_token(&other.id, &old.id, 1, 2, &[1])
            .await
            .unwrap()
    );
    assert!(
        !store
            .rewrap_token(&t.id, &old.id, 3, 4, &[1])
            .await
            .unwrap()
    );
    assert!(
        store
            .rewrap_token(&t.id, &old.id, 1, 2, &[5, 5])
            .await
            .unwrap()
    );
    let got = store.token(&t.id, &old.id).await.unwrap().unwrap();
    assert_eq!((got.key_version, got.ciphertext), (2, vec![5, 5]));
    assert!(
        store
            .tokens_below_key_version(&t.id, 2, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn audit_log_appends_in_order_and_refuses_reuse(store: &dyn Store) {
    let base = store.last_audit().await.unwrap().map_or(0, |e| e.seq);
    let entry = |seq: u64, tenant: Option<TenantId>| AuditRecord {
        seq,
        at: 1_700_000_004,
        tenant,
        actor: "key_abc".into(),
        action: "token.create".into(),
        resource: "tok_x".into(),
        outcome: "ok".into(),
        request_id: "req-1".into(),
        prev_hash: "0".repeat(64),
        hash: format!("{seq:064x}"),
    };
    let (e1, e2) = (
        entry(base + 1, Some(TenantId::new("ten_audit"))),
        entry(base + 2, None),
    );
    store.append_audit(&e2).await.unwrap();
    store.append_audit(&e1).await.unwrap();
    assert!(matches!(
        store.append_audit(&e1).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.audit_entries(base, 10).await.unwrap(),
        vec![e1.clone(), e2.clone()]
    );
    assert_eq!(store.audit_entries(base, 1).await.unwrap(), vec![e1]);
    assert_eq!(store.last_audit().await.unwrap(), Some(e2));
}

fn audit_entry(seq: u64, resource: &str) -> AuditRecord {
    AuditRecord {
        seq,
        at: 1_700_000_005,
        tenant: None,
        actor: "key_group".into(),
        action: "token.create".into(),
        resource: resource.to_owned(),
        outcome: "ok".into(),
        request_id: String::new(),
        prev_hash: "1".repeat(64),
        hash: format!("{seq:064x}"),
    }
}

async fn tokens_and_their_audit_entries_commit_together(store: &dyn Store) {
    let t = tenant("group-");
    store.insert_tenant(&t).await.unwrap();
    let base = store.last_audit().await.unwrap().map_or(0, |e| e.seq);
    let tokens: Vec<TokenRecord> = (0..3).map(|_| token(&t.id, 1)).collect();
    let entries: Vec<AuditRecord> = (1..=3)
        .map(|i| audit_entry(base + i, &tokens[i as usize - 1].id))
        .collect();
    store
        .insert_tokens_audited(&tokens, &entries)
        .await
        .unwrap();
    for tok in &tokens {
        assert_eq!(
            store.token(&t.id, &tok.id).await.unwrap().as_ref(),
            Some(tok)
        );
    }
    assert_eq!(store.audit_entries(base, 10).await.unwrap(), entries);

    // A reused audit seq: the fresh token is not written either.
    let fresh = token(&t.id, 1);
    let reused = audit_entry(base + 3, &fresh.id);
    assert!(matches!(
        store
            .insert_tokens_audited(std::slice::from_ref(&fresh), &[reused])
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.token(&t.id, &fresh.id).await.unwrap(),
        None,
        "all or none"
    );

    // A reused token id: the fresh audit entry is not written either.
    let next = audit_entry(base + 4, &tokens[0].id);
    assert!(matches!(
        store
            .insert_tokens_audited(&[fresh.clone(), tokens[0].clone()], &[next])
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.last_audit().await.unwrap().map(|e| e.seq),
        Some(base + 3)
    );
    assert_eq!(store.token(&t.id, &fresh.id).await.unwrap(), None);
    store.insert_tokens_audited(&[], &[]).await.unwrap();
}

/// A chainer as a gateway builds one: `n` entries after the head, each linking to the one
/// before (the hash here is any unique string: the store never checks the format).
fn chainer(n: u64, writer: &str) -> Arc<AuditChainer> {
    let writer = writer.to_owned();
    Arc::new(move |head: Option<&AuditRecord>| {
        let (mut seq, mut prev) = head.map_or((0, "0".repeat(64)), |h| (h.seq, h.hash.clone()));
        (0..n)
            .map(|_| {
                seq += 1;
                let mut e = audit_entry(seq, &writer);
                e.prev_hash = std::mem::replace(&mut prev, unique("h-"));
                e.hash = prev.clone();
                e
            })
            .collect()
    })
}

/// Four writers (on PostgreSQL, four pooled connections standing for four gateways) append
/// at once, round after round, none knowing the others' entries: every append succeeds and
/// the log is one unbroken chain. A token conflict writes no entry.
async fn chained_appends_from_many_writers_form_one_chain(store: &dyn Store) {
    let t = tenant("chain-");
    store.insert_tenant(&t).await.unwrap();
    let head = store.last_audit().await.unwrap();
    let base = head.as_ref().map_or(0, |e| e.seq);
    for _round in 0..6 {
        let [w1, w2, w3, w4] = ["w1", "w2", "w3", "w4"].map(|w| {
            let tok = token(&t.id, 1);
            async move {
                store
                    .insert_tokens_chained(std::slice::from_ref(&tok), &[], chainer(2, w))
                    .await
            }
        });
        let (a, b, c, d) = tokio::join!(w1, w2, w3, w4);
        for appended in [a, b, c, d] {
            assert_eq!(appended.unwrap().len(), 2);
        }
    }
    let log = store.audit_entries(base, 1000).await.unwrap();
    assert_eq!(log.len(), 48);
    let mut prev = head.map_or("0".repeat(64), |h| h.hash);
    for (i, e) in log.iter().enumerate() {
        assert_eq!(e.seq, base + 1 + i as u64);
        assert_eq!(e.prev_hash, prev, "entry {} links to the one before", e.seq);
        prev = e.hash.clone();
    }

    let taken = token(&t.id, 1);
    store
        .insert_tokens_chained(std::slice::from_ref(&taken), &[], chainer(1, "w5"))
        .await
        .unwrap();
    assert!(matches!(
        store
            .insert_tokens_chained(std::slice::from_ref(&taken), &[], chainer(1, "w6"))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.last_audit().await.unwrap().map(|e| e.seq),
        Some(base + 49),
        "all or none"
    );
}

/// A token's `token.created` commits with it (issue 17, point 7): the event and its delivery
/// are there once the token is, and a token refused (its id taken) or an event refused (its id
/// taken) leaves neither the other nor any audit entry behind.
async fn a_tokens_event_commits_with_it_or_not_at_all(store: &dyn Store) {
    use crate::conformance_payments::{endpoint, event};
    let t = tenant("tokev-");
    store.insert_tenant(&t).await.unwrap();
    let w = endpoint(&t.id);
    store.insert_webhook_endpoint(&w).await.unwrap();
    let (tok, ev) = (token(&t.id, 1), event(&t.id, 1_700_000_003));
    store
        .insert_tokens_chained(
            std::slice::from_ref(&tok),
            std::slice::from_ref(&ev),
            chainer(1, "tokev"),
        )
        .await
        .unwrap();
    assert!(store.token(&t.id, &tok.id).await.unwrap().is_some());
    assert_eq!(store.event(&ev.id).await.unwrap(), Some(ev.clone()));
    let due = crate::conformance_payments::peek(store, 1_700_000_003, 10_000, 10_000).await;
    assert!(
        due.iter()
            .any(|d| d.event_id == ev.id && d.endpoint_id == w.id),
        "the event's delivery is pending"
    );

    let head = store.last_audit().await.unwrap().map(|e| e.seq);
    // The token's id is taken: its event is not written either.
    let other = event(&t.id, 1_700_000_004);
    assert!(matches!(
        store
            .insert_tokens_chained(
                std::slice::from_ref(&tok),
                std::slice::from_ref(&other),
                chainer(1, "tokev"),
            )
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.event(&other.id).await.unwrap(), None);
    // The event's id is taken: the new token is not written either.
    let fresh = token(&t.id, 1);
    assert!(
        store
            .insert_tokens_chained(
                std::slice::from_ref(&fresh),
                std::slice::from_ref(&ev),
                chainer(1, "tokev"),
            )
            .await
            .is_err()
    );
    assert!(store.token(&t.id, &fresh.id).await.unwrap().is_none());
    assert_eq!(
        store.last_audit().await.unwrap().map(|e| e.seq),
        head,
        "no audit entry from either refused write"
    );
}

fn saved(tenant: &TenantId, token: &str, customer: &str, at: i64) -> SavedCardRecord {
    SavedCardRecord {
        tenant: tenant.clone(),
        token: token.to_owned(),
        customer: customer.to_owned(),
        consented_at: at,
        deleted_at: None,
    }
}

async fn saved_cards_bind_a_tenants_token_to_a_customer_until_deleted(store: &dyn Store) {
    let (a, b) = (tenant("sc-a-"), tenant("sc-b-"));
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let (t1, t2, t3, one_time) = (
        token(&a.id, 1),
        token(&a.id, 1),
        token(&a.id, 1),
        token(&a.id, 1),
    );
    store
        .insert_tokens(&[t1.clone(), t2.clone(), t3.clone(), one_time.clone()])
        .await
        .unwrap();
    // Later consent first in, to prove the listing's order is by consent time.
    store
        .insert_saved_card(&saved(&a.id, &t2.id, "patient 7", 1_700_000_200))
        .await
        .unwrap();
    store
        .insert_saved_card(&saved(&a.id, &t1.id, "patient 7", 1_700_000_100))
        .await
        .unwrap();
    store
        .insert_saved_card(&saved(&a.id, &t3.id, "patient 8", 1_700_000_100))
        .await
        .unwrap();
    // Twice, another tenant's token, an unknown token: refused, nothing written.
    for bad in [
        saved(&a.id, &t1.id, "patient 9", 1),
        saved(&b.id, &one_time.id, "patient 7", 1),
        saved(&a.id, "tok_doesnotexist000000000", "patient 7", 1),
    ] {
        assert!(
            matches!(
                store.insert_saved_card(&bad).await,
                Err(StoreError::Conflict(_))
            ),
            "{bad:?}"
        );
    }
    assert_eq!(
        store.saved_card(&a.id, &t1.id).await.unwrap(),
        Some(saved(&a.id, &t1.id, "patient 7", 1_700_000_100))
    );
    assert_eq!(store.saved_card(&a.id, &one_time.id).await.unwrap(), None);
    assert_eq!(store.saved_card(&b.id, &t1.id).await.unwrap(), None);
    assert!(
        store
            .saved_cards(&b.id, "patient 7")
            .await
            .unwrap()
            .is_empty()
    );
    let listed: Vec<String> = store
        .saved_cards(&a.id, "patient 7")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.token)
        .collect();
    assert_eq!(listed, vec![t1.id.clone(), t2.id.clone()]);

    // Deleting: only the tenant's own, only once; the first time is kept.
    assert!(!store.delete_saved_card(&b.id, &t1.id, 5).await.unwrap());
    assert!(
        !store
            .delete_saved_card(&a.id, &one_time.id, 5)
            .await
            .unwrap()
    );
    assert!(
        store
            .delete_saved_card(&a.id, &t1.id, 1_700_000_300)
            .await
            .unwrap()
    );
    assert!(
        !store
            .delete_saved_card(&a.id, &t1.id, 1_700_000_400)
            .await
            .unwrap()
    );
    assert_eq!(
        store
            .saved_card(&a.id, &t1.id)
            .await
            .unwrap()
            .unwrap()
            .deleted_at,
        Some(1_700_000_300)
    );
    let listed: Vec<String> = store
        .saved_cards(&a.id, "patient 7")
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.token)
        .collect();
    assert_eq!(listed, vec![t2.id.clone()]);
    // The token itself is untouched (its ciphertext stays for the audit trail's sake).
    assert_eq!(store.token(&a.id, &t1.id).await.unwrap(), Some(t1));
}
