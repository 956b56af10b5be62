//! The chat part of the [`crate::conformance`] suite: encrypted transcripts per tenant and room.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::conformance::{tenant, unique};
use crate::{ChatRecord, Store, StoreError, TenantId};

pub(crate) async fn run_all(store: &dyn Store) {
    transcripts_round_trip_in_order_per_room(store).await;
    transcripts_are_bound_to_their_tenant(store).await;
    replace_changes_only_the_named_message(store).await;
}

fn message(tenant: &TenantId, room: &str, at_ms: i64) -> ChatRecord {
    ChatRecord {
        tenant: tenant.clone(),
        room: room.to_owned(),
        id: unique("msg_"),
        at_ms,
        key_version: 1,
        ciphertext: vec![1, 0, 255, at_ms as u8],
    }
}

async fn transcripts_round_trip_in_order_per_room(store: &dyn Store) {
    let t = tenant("chat-");
    store.insert_tenant(&t).await.unwrap();
    let room = unique("room-");
    // Same millisecond: insertion order decides.
    let (m1, m2, m3) = (
        message(&t.id, &room, 1_764_300_000_000),
        message(&t.id, &room, 1_764_300_000_005),
        message(&t.id, &room, 1_764_300_000_005),
    );
    let elsewhere = message(&t.id, "another room", 1_764_300_000_001);
    for m in [&m1, &m2, &elsewhere, &m3] {
        store.insert_chat_message(m).await.unwrap();
    }
    assert_eq!(
        store.chat_messages(&t.id, &room).await.unwrap(),
        vec![m1.clone(), m2.clone(), m3]
    );
    assert_eq!(
        store.chat_message(&t.id, &room, &m2.id).await.unwrap(),
        Some(m2)
    );
    assert_eq!(
        store
            .chat_message(&t.id, "another room", &m1.id)
            .await
            .unwrap(),
        None,
        "a message is found only in its own room"
    );
    assert!(matches!(
        store.insert_chat_message(&m1).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(
        store
            .chat_messages(&t.id, "no such room")
            .await
            .unwrap()
            .is_empty()
    );
    let orphan = message(&TenantId::new(unique("ten_")), &room, 1);
    assert!(
        store.insert_chat_message(&orphan).await.is_err(),
        "a message for an unknown tenant is refused"
    );
}

async fn transcripts_are_bound_to_their_tenant(store: &dyn Store) {
    let (a, b) = (tenant("chat-a-"), tenant("chat-b-"));
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let m = message(&a.id, "shared-name", 1_764_300_000_000);
    store.insert_chat_message(&m).await.unwrap();
    assert!(
        store
            .chat_messages(&b.id, "shared-name")
            .await
            .unwrap()
            .is_empty(),
        "tenant B does not see tenant A's room of the same name"
    );
    assert_eq!(
        store
            .chat_message(&b.id, "shared-name", &m.id)
            .await
            .unwrap(),
        None
    );
    assert!(
        !store
            .replace_chat_message(&b.id, "shared-name", &m.id, 1, &[7])
            .await
            .unwrap(),
        "tenant B cannot replace tenant A's message"
    );
    assert_eq!(
        store
            .chat_message(&a.id, "shared-name", &m.id)
            .await
            .unwrap(),
        Some(m)
    );
}

async fn replace_changes_only_the_named_message(store: &dyn Store) {
    let t = tenant("chat-r-");
    store.insert_tenant(&t).await.unwrap();
    let room = unique("room-");
    let (m1, m2) = (
        message(&t.id, &room, 1_764_300_000_000),
        message(&t.id, &room, 1_764_300_000_001),
    );
    store.insert_chat_message(&m1).await.unwrap();
    store.insert_chat_message(&m2).await.unwrap();
    assert!(
        store
            .replace_chat_message(&t.id, &room, &m1.id, 2, &[9, 9, 9])
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_chat_message(&t.id, &room, "msg_missing", 2, &[1])
            .await
            .unwrap()
    );
    assert!(
        !store
            .replace_chat_message(&t.id, "other-room", &m2.id, 2, &[1])
            .await
            .unwrap()
    );
    let got = store.chat_messages(&t.id, &room).await.unwrap();
    assert_eq!(got.len(), 2);
    assert_eq!(
        (got[0].key_version, got[0].ciphertext.clone()),
        (2, vec![9, 9, 9])
    );
    assert_eq!((got[0].at_ms, got[0].id.clone()), (m1.at_ms, m1.id));
    assert_eq!(got[1], m2);
}
