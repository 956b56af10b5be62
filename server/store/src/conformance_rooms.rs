//! The rooms part of the [`crate::conformance`] suite: rooms with their settings, consent and
//! end, per tenant; and the tenants' recording policy.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::conformance::{tenant, unique};
use crate::{RoomRecord, Store, TenantId};

pub(crate) async fn run_all(store: &dyn Store) {
    tenant_policy_is_set_and_read_back(store).await;
    agent_desktop_origins_are_replaced_and_read_back(store).await;
    the_default_locale_is_set_read_back_and_cleared(store).await;
    a_created_room_keeps_its_settings(store).await;
    recreating_a_room_replaces_settings_and_consent_but_never_the_end(store).await;
    a_joined_room_is_stored_once_without_settings(store).await;
    the_end_only_moves_forward_and_clears_consent(store).await;
    rooms_are_bound_to_their_tenant(store).await;
    hostile_room_names_are_stored_verbatim(store).await;
}

async fn tenant_policy_is_set_and_read_back(store: &dyn Store) {
    let t = tenant("policy-");
    store.insert_tenant(&t).await.unwrap();
    assert!(
        !store
            .tenant(&t.id)
            .await
            .unwrap()
            .unwrap()
            .require_consent_by_default
    );
    assert!(
        store
            .set_tenant_consent_by_default(&t.id, true)
            .await
            .unwrap()
    );
    let got = store.tenant(&t.id).await.unwrap().unwrap();
    assert!(got.require_consent_by_default, "policy set");
    assert_eq!(
        got.allowed_origins, t.allowed_origins,
        "nothing else changed"
    );
    assert!(
        store
            .tenant_by_name(&t.name)
            .await
            .unwrap()
            .unwrap()
            .require_consent_by_default
    );
    assert!(
        store
            .set_tenant_consent_by_default(&t.id, false)
            .await
            .unwrap()
    );
    assert!(
        !store
            .tenant(&t.id)
            .await
            .unwrap()
            .unwrap()
            .require_consent_by_default
    );
    assert!(
        !store
            .set_tenant_consent_by_default(&TenantId::new(unique("ten_missing")), true)
            .await
            .unwrap(),
        "no such tenant"
    );
}

async fn agent_desktop_origins_are_replaced_and_read_back(store: &dyn Store) {
    let t = tenant("desktops-");
    store.insert_tenant(&t).await.unwrap();
    let got = store.tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(
        got.agent_desktop_origins, t.agent_desktop_origins,
        "inserted"
    );
    let list = vec![
        "https://crm.example".to_owned(),
        "http://127.0.0.1:4100".to_owned(),
        "https://ä.example:8443".to_owned(),
    ];
    assert!(
        store
            .set_tenant_agent_desktop_origins(&t.id, &list)
            .await
            .unwrap()
    );
    let got = store.tenant_by_name(&t.name).await.unwrap().unwrap();
    assert_eq!(got.agent_desktop_origins, list, "replaced, order kept");
    assert_eq!(
        got.allowed_origins, t.allowed_origins,
        "nothing else changed"
    );
    assert!(
        store
            .set_tenant_agent_desktop_origins(&t.id, &[])
            .await
            .unwrap()
    );
    let got = store.tenant(&t.id).await.unwrap().unwrap();
    assert!(got.agent_desktop_origins.is_empty(), "cleared");
    assert!(
        !store
            .set_tenant_agent_desktop_origins(&TenantId::new(unique("ten_missing")), &list)
            .await
            .unwrap(),
        "no such tenant"
    );
}

async fn the_default_locale_is_set_read_back_and_cleared(store: &dyn Store) {
    let t = tenant("locale-");
    store.insert_tenant(&t).await.unwrap();
    let got = store.tenant(&t.id).await.unwrap().unwrap();
    assert_eq!(got.default_locale.as_deref(), Some("es-US"), "inserted");
    assert!(
        store
            .set_tenant_default_locale(&t.id, Some("es"))
            .await
            .unwrap()
    );
    let got = store.tenant_by_name(&t.name).await.unwrap().unwrap();
    assert_eq!(got.default_locale.as_deref(), Some("es"), "replaced");
    assert_eq!(
        got.agent_desktop_origins, t.agent_desktop_origins,
        "nothing else changed"
    );
    assert!(store.set_tenant_default_locale(&t.id, None).await.unwrap());
    let listed = store.tenants().await.unwrap();
    let got = listed.iter().find(|x| x.id == t.id).unwrap();
    assert_eq!(got.default_locale, None, "cleared");
    assert!(
        !store
            .set_tenant_default_locale(&TenantId::new(unique("ten_missing")), Some("es"))
            .await
            .unwrap(),
        "no such tenant"
    );
}

async fn a_created_room_keeps_its_settings(store: &dyn Store) {
    let t = tenant("rooms-");
    store.insert_tenant(&t).await.unwrap();
    let name = unique("room-");
    assert_eq!(store.room(&t.id, &name).await.unwrap(), None);
    store.create_room(&t.id, &name, true, 100).await.unwrap();
    let want = RoomRecord {
        tenant: t.id.clone(),
        name: name.clone(),
        created_at: 100,
        require_recording_consent: true,
        consent_at: None,
        ended_at: None,
    };
    assert_eq!(store.room(&t.id, &name).await.unwrap(), Some(want.clone()));
    assert!(store.record_room_consent(&t.id, &name, 150).await.unwrap());
    assert_eq!(
        store.room(&t.id, &name).await.unwrap(),
        Some(RoomRecord {
            consent_at: Some(150),
            ..want
        })
    );
    assert!(
        !store
            .record_room_consent(&t.id, &unique("room-missing-"), 150)
            .await
            .unwrap(),
        "consent for a room that is not stored"
    );
    assert!(
        store
            .create_room(&TenantId::new(unique("ten_ghost")), &name, true, 1)
            .await
            .is_err(),
        "a room of an unknown tenant is refused"
    );
}

async fn recreating_a_room_replaces_settings_and_consent_but_never_the_end(store: &dyn Store) {
    let t = tenant("rooms-re-");
    store.insert_tenant(&t).await.unwrap();
    let name = unique("room-");
    store.create_room(&t.id, &name, true, 100).await.unwrap();
    assert!(store.end_room(&t.id, &name, 200).await.unwrap());
    assert!(store.record_room_consent(&t.id, &name, 250).await.unwrap());
    store.create_room(&t.id, &name, false, 300).await.unwrap();
    assert_eq!(
        store.room(&t.id, &name).await.unwrap(),
        Some(RoomRecord {
            tenant: t.id.clone(),
            name: name.clone(),
            created_at: 300,
            require_recording_consent: false,
            consent_at: None,
            ended_at: Some(200),
        }),
        "new settings, consent cleared, the end kept"
    );
}

async fn a_joined_room_is_stored_once_without_settings(store: &dyn Store) {
    let t = tenant("rooms-j-");
    store.insert_tenant(&t).await.unwrap();
    let name = unique("room-");
    assert!(
        store.ensure_room(&t.id, &name, 100).await.unwrap(),
        "inserted"
    );
    assert!(!store.ensure_room(&t.id, &name, 200).await.unwrap(), "once");
    let got = store.room(&t.id, &name).await.unwrap().unwrap();
    assert_eq!(
        (got.created_at, got.require_recording_consent),
        (100, false)
    );

    // A room the tenant created keeps its settings when a join ensures it.
    let created = unique("room-");
    store.create_room(&t.id, &created, true, 100).await.unwrap();
    assert!(
        store
            .record_room_consent(&t.id, &created, 120)
            .await
            .unwrap()
    );
    assert!(!store.ensure_room(&t.id, &created, 200).await.unwrap());
    let got = store.room(&t.id, &created).await.unwrap().unwrap();
    assert!(got.require_recording_consent);
    assert_eq!((got.created_at, got.consent_at), (100, Some(120)));
    assert!(
        store
            .ensure_room(&TenantId::new(unique("ten_ghost")), &name, 1)
            .await
            .is_err(),
        "a room of an unknown tenant is refused"
    );
}

async fn the_end_only_moves_forward_and_clears_consent(store: &dyn Store) {
    let t = tenant("rooms-e-");
    store.insert_tenant(&t).await.unwrap();
    let name = unique("room-");
    assert!(
        !store.end_room(&t.id, &name, 100).await.unwrap(),
        "not stored"
    );
    store.ensure_room(&t.id, &name, 50).await.unwrap();
    assert!(store.record_room_consent(&t.id, &name, 60).await.unwrap());
    assert!(store.end_room(&t.id, &name, 100).await.unwrap());
    let got = store.room(&t.id, &name).await.unwrap().unwrap();
    assert_eq!((got.ended_at, got.consent_at), (Some(100), None));
    assert!(store.end_room(&t.id, &name, 90).await.unwrap());
    assert_eq!(
        store.room(&t.id, &name).await.unwrap().unwrap().ended_at,
        Some(100),
        "an earlier end does not move it back"
    );
    assert!(store.end_room(&t.id, &name, 180).await.unwrap());
    assert_eq!(
        store.room(&t.id, &name).await.unwrap().unwrap().ended_at,
        Some(180)
    );
}

async fn rooms_are_bound_to_their_tenant(store: &dyn Store) {
    let (a, b) = (tenant("rooms-a-"), tenant("rooms-b-"));
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let name = unique("shared-");
    store.create_room(&a.id, &name, true, 100).await.unwrap();
    assert_eq!(
        store.room(&b.id, &name).await.unwrap(),
        None,
        "tenant B does not see tenant A's room of the same name"
    );
    assert!(!store.record_room_consent(&b.id, &name, 110).await.unwrap());
    assert!(!store.end_room(&b.id, &name, 120).await.unwrap());
    store.create_room(&b.id, &name, false, 130).await.unwrap();
    let got = store.room(&a.id, &name).await.unwrap().unwrap();
    assert_eq!(
        (got.require_recording_consent, got.consent_at, got.ended_at),
        (true, None, None),
        "B's calls changed nothing of A's room"
    );
    assert!(
        !store
            .room(&b.id, &name)
            .await
            .unwrap()
            .unwrap()
            .require_recording_consent
    );
}

async fn hostile_room_names_are_stored_verbatim(store: &dyn Store) {
    let t = tenant("rooms-h-");
    store.insert_tenant(&t).await.unwrap();
    for name in [
        "'; DROP TABLE rooms; --".to_owned(),
        "ünï \u{200b}zero-width\nnewline".to_owned(),
        "x".repeat(4096),
    ] {
        store.create_room(&t.id, &name, true, 7).await.unwrap();
        let got = store.room(&t.id, &name).await.unwrap().unwrap();
        assert_eq!(got.name, name);
    }
}
