//! Rooms in the [`super::MemoryStore`]: plain functions over its maps, with the
//! [`crate::RoomStore`] impl that calls them.

use async_trait::async_trait;

use super::{Inner, MemoryStore};
use crate::{RoomRecord, RoomStore, StoreError, TenantId, UnixTime};

fn known_tenant(inner: &Inner, tenant: &TenantId) -> Result<(), StoreError> {
    if inner.tenants.contains_key(tenant) {
        Ok(())
    } else {
        Err(StoreError::Conflict(format!("no tenant {tenant}")))
    }
}

fn key(tenant: &TenantId, name: &str) -> (TenantId, String) {
    (tenant.clone(), name.to_owned())
}

pub(super) fn create(
    inner: &mut Inner,
    tenant: &TenantId,
    name: &str,
    require_recording_consent: bool,
    at: UnixTime,
) -> Result<(), StoreError> {
    known_tenant(inner, tenant)?;
    let ended_at = inner.rooms.get(&key(tenant, name)).and_then(|r| r.ended_at);
    inner.rooms.insert(
        key(tenant, name),
        RoomRecord {
            tenant: tenant.clone(),
            name: name.to_owned(),
            created_at: at,
            require_recording_consent,
            consent_at: None,
            ended_at,
        },
    );
    Ok(())
}

pub(super) fn ensure(
    inner: &mut Inner,
    tenant: &TenantId,
    name: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    known_tenant(inner, tenant)?;
    if inner.rooms.contains_key(&key(tenant, name)) {
        return Ok(false);
    }
    inner.rooms.insert(
        key(tenant, name),
        RoomRecord {
            tenant: tenant.clone(),
            name: name.to_owned(),
            created_at: at,
            require_recording_consent: false,
            consent_at: None,
            ended_at: None,
        },
    );
    Ok(true)
}

pub(super) fn consent(inner: &mut Inner, tenant: &TenantId, name: &str, at: UnixTime) -> bool {
    match inner.rooms.get_mut(&key(tenant, name)) {
        Some(r) => {
            r.consent_at = Some(at);
            true
        }
        None => false,
    }
}

pub(super) fn end(inner: &mut Inner, tenant: &TenantId, name: &str, at: UnixTime) -> bool {
    match inner.rooms.get_mut(&key(tenant, name)) {
        Some(r) => {
            r.ended_at = Some(r.ended_at.map_or(at, |t| t.max(at)));
            r.consent_at = None;
            true
        }
        None => false,
    }
}

#[async_trait]
impl RoomStore for MemoryStore {
    async fn create_room(
        &self,
        tenant: &TenantId,
        name: &str,
        require_recording_consent: bool,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        create(
            &mut self.lock(),
            tenant,
            name,
            require_recording_consent,
            at,
        )
    }

    async fn ensure_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        ensure(&mut self.lock(), tenant, name, at)
    }

    async fn room(&self, tenant: &TenantId, name: &str) -> Result<Option<RoomRecord>, StoreError> {
        Ok(self
            .lock()
            .rooms
            .get(&(tenant.clone(), name.to_owned()))
            .cloned())
    }

    async fn record_room_consent(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        Ok(consent(&mut self.lock(), tenant, name, at))
    }

    async fn end_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        Ok(end(&mut self.lock(), tenant, name, at))
    }
}
