//! Rooms with their settings: one row per (tenant, room name). Plain functions over a
//! connection, with the [`crate::RoomStore`] impl that calls them.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::{RoomRecord, RoomStore, StoreError, TenantId, UnixTime};

const ROOM_COLUMNS: &str =
    "tenant_id, name, created_at, require_recording_consent, consent_at, ended_at";

fn room_from_row(row: &Row<'_>) -> rusqlite::Result<RoomRecord> {
    Ok(RoomRecord {
        tenant: TenantId::new(row.get::<_, String>(0)?),
        name: row.get(1)?,
        created_at: row.get(2)?,
        require_recording_consent: row.get(3)?,
        consent_at: row.get(4)?,
        ended_at: row.get(5)?,
    })
}

pub(super) fn create(
    c: &mut Connection,
    tenant: &TenantId,
    name: &str,
    require_recording_consent: bool,
    at: UnixTime,
) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO rooms (tenant_id, name, created_at, require_recording_consent)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, name) DO UPDATE SET
             created_at = excluded.created_at,
             require_recording_consent = excluded.require_recording_consent,
             consent_at = NULL",
        params![tenant.as_str(), name, at, require_recording_consent],
    )?;
    Ok(())
}

pub(super) fn ensure(
    c: &mut Connection,
    tenant: &TenantId,
    name: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "INSERT INTO rooms (tenant_id, name, created_at, require_recording_consent)
         VALUES (?1, ?2, ?3, 0)
         ON CONFLICT (tenant_id, name) DO NOTHING",
        params![tenant.as_str(), name, at],
    )?;
    Ok(n == 1)
}

pub(super) fn room(
    c: &mut Connection,
    tenant: &TenantId,
    name: &str,
) -> Result<Option<RoomRecord>, StoreError> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE tenant_id = ?1 AND name = ?2");
    let mut stmt = c.prepare_cached(&sql)?;
    Ok(stmt
        .query_row(params![tenant.as_str(), name], room_from_row)
        .optional()?)
}

pub(super) fn consent(
    c: &mut Connection,
    tenant: &TenantId,
    name: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE rooms SET consent_at = ?3 WHERE tenant_id = ?1 AND name = ?2",
        params![tenant.as_str(), name, at],
    )?;
    Ok(n == 1)
}

pub(super) fn end(
    c: &mut Connection,
    tenant: &TenantId,
    name: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE rooms SET ended_at = MAX(COALESCE(ended_at, ?3), ?3), consent_at = NULL
         WHERE tenant_id = ?1 AND name = ?2",
        params![tenant.as_str(), name, at],
    )?;
    Ok(n == 1)
}

#[async_trait]
impl RoomStore for SqliteStore {
    async fn create_room(
        &self,
        tenant: &TenantId,
        name: &str,
        require_recording_consent: bool,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        let (t, name) = (tenant.clone(), name.to_owned());
        self.with(move |c| create(c, &t, &name, require_recording_consent, at))
            .await
    }

    async fn ensure_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let (t, name) = (tenant.clone(), name.to_owned());
        self.with(move |c| ensure(c, &t, &name, at)).await
    }

    async fn room(&self, tenant: &TenantId, name: &str) -> Result<Option<RoomRecord>, StoreError> {
        let (t, name) = (tenant.clone(), name.to_owned());
        self.with(move |c| room(c, &t, &name)).await
    }

    async fn record_room_consent(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let (t, name) = (tenant.clone(), name.to_owned());
        self.with(move |c| consent(c, &t, &name, at)).await
    }

    async fn end_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let (t, name) = (tenant.clone(), name.to_owned());
        self.with(move |c| end(c, &t, &name, at)).await
    }
}
