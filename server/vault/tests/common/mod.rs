//! What the vault's integration tests share: an actor, and a tenant inserted into a store.
#![allow(dead_code, clippy::unwrap_used)]

use hushpay_store::{Store, Tenant, TenantId};
use hushpay_vault::Actor;

/// A tenant backend's actor (API key `key_test`) with request id `request_id`.
pub fn actor_with(request_id: &str) -> Actor {
    Actor {
        who: "key_test".into(),
        request_id: request_id.into(),
    }
}

/// [`actor_with`] request `req-1`.
pub fn actor() -> Actor {
    actor_with("req-1")
}

/// Inserts tenant `ten_<name>` (no origins, defaults elsewhere) into `store`.
pub async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    let t = Tenant {
        id: TenantId::new(format!("ten_{name}")),
        name: name.into(),
        created_at: 1,
        allowed_origins: vec![],
        require_consent_by_default: false,
        agent_desktop_origins: vec![],
        default_locale: None,
    };
    store.insert_tenant(&t).await.unwrap();
    t.id
}
