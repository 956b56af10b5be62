//! Rooms as their tenant set them up, kept in the store so that a room's settings outlive
//! its calls (issue 12, finding 1) and its end outlives the tokens issued before it
//! (finding 3).
//!
//! * Every room that opens is stored: `POST /v1/rooms` stores it with its settings; a join
//!   that opens a room nobody created stores it without settings of its own.
//! * A room (re)opens with [`RoomSettings`] made from its record and its tenant's recording
//!   policy (`require_consent_by_default`): consent is required when either asks for it, and
//!   counts as given when the patient's consent for the room's current call is stored.
//! * `DELETE /v1/rooms/{id}` stores `ended_at`; tokens issued at or before it are refused
//!   (`room_ended`), whichever gateway they reach and across restarts. It also clears the
//!   consent: the next call in a room of that name asks again.
//! * Fail closed: when the store cannot be read, no room opens and nobody joins.

use hushpay_store::{RoomRecord, Store, StoreError, Tenant, TenantId};
use thiserror::Error;

use crate::sfu::room::{RoomSettings, issued_at_or_before};

/// Why a join was refused before the room was touched.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AdmitError {
    #[error("the room has ended; tokens issued before its end are refused")]
    Ended,
    #[error("the token's tenant does not exist")]
    UnknownTenant,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The settings a room opens with: consent is required by the room or by its tenant's
/// policy; it counts as given when stored for the room's current call.
pub fn settings(record: Option<&RoomRecord>, tenant: &Tenant) -> RoomSettings {
    RoomSettings {
        require_recording_consent: tenant.require_consent_by_default
            || record.is_some_and(|r| r.require_recording_consent),
        consent_given: record.is_some_and(|r| r.consent_at.is_some()),
    }
}

/// What a join of the tenant's room `name` with a token issued at `issued_at` (unix seconds)
/// gets: the room's settings, the room stored first if this join is the first to open it.
/// A token issued at or before the room's stored end is refused.
pub async fn admit(
    store: &dyn Store,
    tenant: &TenantId,
    name: &str,
    issued_at: u64,
    now: i64,
) -> Result<RoomSettings, AdmitError> {
    let tenant = store
        .tenant(tenant)
        .await?
        .ok_or(AdmitError::UnknownTenant)?;
    let record = match store.room(&tenant.id, name).await? {
        Some(r) => Some(r),
        None if store.ensure_room(&tenant.id, name, now).await? => None,
        // Stored in the meantime (a `POST /v1/rooms` or a join elsewhere): read what it set.
        None => store.room(&tenant.id, name).await?,
    };
    if record
        .as_ref()
        .and_then(|r| r.ended_at)
        .is_some_and(|end| issued_at_or_before(issued_at, end))
    {
        return Err(AdmitError::Ended);
    }
    Ok(settings(record.as_ref(), &tenant))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use hushpay_store::{MemoryStore, RoomStore, TenantStore};

    use super::*;
    use crate::tenants;

    #[tokio::test]
    async fn a_join_opens_a_room_with_its_stored_settings_and_the_tenant_policy() {
        let store = MemoryStore::new();
        let t = tenants::create_tenant(&store, "acme", vec![], 1)
            .await
            .unwrap();
        let open = |name: &'static str, iat: u64| {
            let (store, id) = (&store, t.id.clone());
            async move { admit(store, &id, name, iat, 10).await }
        };
        assert_eq!(open("walk-in", 5).await.unwrap(), RoomSettings::default());
        assert!(
            store.room(&t.id, "walk-in").await.unwrap().is_some(),
            "stored"
        );

        store.create_room(&t.id, "intake", true, 2).await.unwrap();
        let want = RoomSettings {
            require_recording_consent: true,
            consent_given: false,
        };
        assert_eq!(open("intake", 5).await.unwrap(), want);
        store.record_room_consent(&t.id, "intake", 6).await.unwrap();
        assert!(open("intake", 5).await.unwrap().consent_given);

        store
            .set_tenant_consent_by_default(&t.id, true)
            .await
            .unwrap();
        assert_eq!(
            open("walk-in", 5).await.unwrap(),
            want,
            "the policy applies"
        );
        assert_eq!(open("new-one", 5).await.unwrap(), want);
    }

    #[tokio::test]
    async fn tokens_issued_up_to_the_end_are_refused() {
        let store = MemoryStore::new();
        let t = tenants::create_tenant(&store, "acme", vec![], 1)
            .await
            .unwrap();
        store.create_room(&t.id, "intake", false, 2).await.unwrap();
        store.end_room(&t.id, "intake", 100).await.unwrap();
        for iat in [0, 99, 100] {
            assert!(matches!(
                admit(&store, &t.id, "intake", iat, 200).await,
                Err(AdmitError::Ended)
            ));
        }
        assert!(admit(&store, &t.id, "intake", 101, 200).await.is_ok());
        assert!(admit(&store, &t.id, "intake", u64::MAX, 200).await.is_ok());
        assert!(matches!(
            admit(&store, &TenantId::new("ten_nobody"), "intake", 101, 200).await,
            Err(AdmitError::UnknownTenant)
        ));
    }
}
