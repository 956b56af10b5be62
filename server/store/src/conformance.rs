//! The conformance suite every [`Store`] implementation must pass.
//!
//! Call [`run_all`] from the implementation's tests with a fresh, empty store. Ids are made
//! unique per run so the suite can also run against a shared database (PostgreSQL) without
//! touching other runs' rows.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};

use crate::{ApiKeyId, ApiKeyRecord, Store, StoreError, Tenant, TenantId};

/// Runs every check against `store`. Panics (with a message naming the check) on failure.
pub async fn run_all(store: &dyn Store) {
    ping_answers(store).await;
    tenants_round_trip(store).await;
    tenant_conflicts_are_typed(store).await;
    api_keys_round_trip_and_revoke(store).await;
    api_key_for_unknown_tenant_is_refused(store).await;
    revocation_is_scoped_to_the_tenant(store).await;
    text_is_stored_verbatim(store).await;
    crate::conformance_vault::run_all(store).await;
    crate::conformance_payments::run_all(store).await;
    crate::conformance_refunds::run_all(store).await;
    crate::conformance_chat::run_all(store).await;
    crate::conformance_rooms::run_all(store).await;
    crate::conformance_recordings::run_all(store).await;
}

pub(crate) fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("{prefix}{nanos:x}{n}")
}

pub(crate) fn tenant(name: &str) -> Tenant {
    Tenant {
        id: TenantId::new(unique("ten_")),
        name: unique(name),
        created_at: 1_700_000_000,
        allowed_origins: vec![
            "https://portal.example".into(),
            "http://127.0.0.1:3000".into(),
        ],
        require_consent_by_default: false,
        agent_desktop_origins: vec!["https://crm.example".into()],
        default_locale: Some("es-US".into()),
    }
}

fn key(tenant: &TenantId) -> ApiKeyRecord {
    ApiKeyRecord {
        id: ApiKeyId::new(unique("key_")),
        tenant: tenant.clone(),
        secret_hash: "ab".repeat(32),
        label: "conformance".into(),
        created_at: 1_700_000_001,
        revoked_at: None,
    }
}

async fn ping_answers(store: &dyn Store) {
    store.ping().await.expect("ping");
}

async fn tenants_round_trip(store: &dyn Store) {
    let a = tenant("a-");
    let b = Tenant {
        allowed_origins: vec![],
        require_consent_by_default: true,
        agent_desktop_origins: vec![],
        default_locale: None,
        ..tenant("b-")
    };
    store.insert_tenant(&a).await.expect("insert a");
    store.insert_tenant(&b).await.expect("insert b");
    assert_eq!(
        store.tenant(&a.id).await.unwrap(),
        Some(a.clone()),
        "tenant by id"
    );
    assert_eq!(
        store.tenant_by_name(&b.name).await.unwrap(),
        Some(b.clone()),
        "by name"
    );
    assert_eq!(
        store
            .tenant(&TenantId::new(unique("ten_missing")))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.tenant_by_name(&unique("missing")).await.unwrap(),
        None
    );
    let all = store.tenants().await.unwrap();
    let pos_a = all.iter().position(|t| t.id == a.id).expect("a listed");
    let pos_b = all.iter().position(|t| t.id == b.id).expect("b listed");
    assert!(pos_a < pos_b, "tenants are listed oldest first");
}

async fn tenant_conflicts_are_typed(store: &dyn Store) {
    let a = tenant("dup-");
    store.insert_tenant(&a).await.unwrap();
    let same_id = Tenant {
        name: unique("other-"),
        ..a.clone()
    };
    let same_name = Tenant {
        id: TenantId::new(unique("ten_")),
        ..a.clone()
    };
    for dup in [same_id, same_name] {
        match store.insert_tenant(&dup).await {
            Err(StoreError::Conflict(_)) => {}
            other => panic!("duplicate tenant must be a Conflict, got {other:?}"),
        }
    }
    assert_eq!(store.tenant(&a.id).await.unwrap(), Some(a), "original kept");
}

async fn api_keys_round_trip_and_revoke(store: &dyn Store) {
    let t = tenant("keys-");
    store.insert_tenant(&t).await.unwrap();
    let k1 = key(&t.id);
    let k2 = key(&t.id);
    store.insert_api_key(&k1).await.unwrap();
    store.insert_api_key(&k2).await.unwrap();
    assert!(matches!(
        store.insert_api_key(&k1).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(store.api_key(&k1.id).await.unwrap(), Some(k1.clone()));
    assert_eq!(
        store.api_keys(&t.id).await.unwrap(),
        vec![k1.clone(), k2.clone()]
    );

    assert!(
        store
            .revoke_api_key(&t.id, &k1.id, 1_700_000_100)
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_key(&t.id, &k1.id, 1_700_000_200)
            .await
            .unwrap(),
        "only once"
    );
    let revoked = store.api_key(&k1.id).await.unwrap().expect("still listed");
    assert_eq!(
        revoked.revoked_at,
        Some(1_700_000_100),
        "first revocation time kept"
    );
    assert!(revoked.is_revoked());
    assert!(!store.api_key(&k2.id).await.unwrap().unwrap().is_revoked());
    assert!(
        !store
            .revoke_api_key(&t.id, &ApiKeyId::new(unique("key_")), 1)
            .await
            .unwrap()
    );
}

async fn api_key_for_unknown_tenant_is_refused(store: &dyn Store) {
    let k = key(&TenantId::new(unique("ten_ghost")));
    assert!(
        store.insert_api_key(&k).await.is_err(),
        "key for a missing tenant"
    );
    assert_eq!(store.api_key(&k.id).await.unwrap(), None);
}

async fn revocation_is_scoped_to_the_tenant(store: &dyn Store) {
    let a = tenant("scope-a-");
    let b = tenant("scope-b-");
    store.insert_tenant(&a).await.unwrap();
    store.insert_tenant(&b).await.unwrap();
    let ka = key(&a.id);
    store.insert_api_key(&ka).await.unwrap();
    assert!(
        !store.revoke_api_key(&b.id, &ka.id, 5).await.unwrap(),
        "tenant B cannot revoke A's key"
    );
    assert!(!store.api_key(&ka.id).await.unwrap().unwrap().is_revoked());
    assert!(store.api_keys(&b.id).await.unwrap().is_empty());
}

async fn text_is_stored_verbatim(store: &dyn Store) {
    let mut t = tenant("txt-'\"; DROP TABLE tenants; -- ünï ");
    t.allowed_origins = vec!["https://ä.example".into(), "https://x.example:8443".into()];
    store.insert_tenant(&t).await.unwrap();
    assert_eq!(store.tenant(&t.id).await.unwrap(), Some(t.clone()));
    assert!(
        store.tenant(&t.id).await.unwrap().is_some(),
        "table still there"
    );
}
