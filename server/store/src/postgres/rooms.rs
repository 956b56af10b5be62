//! Rooms with their settings on PostgreSQL: one row per (tenant, room name). Functions over
//! the store's pool, with the [`crate::RoomStore`] impl that calls them.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgStore;
use crate::{RoomRecord, RoomStore, StoreError, TenantId, UnixTime};

const ROOM_COLUMNS: &str =
    "tenant_id, name, created_at, require_recording_consent, consent_at, ended_at";

fn room_from_row(row: &Row) -> Result<RoomRecord, StoreError> {
    Ok(RoomRecord {
        tenant: TenantId::new(row.try_get::<_, String>(0)?),
        name: row.try_get(1)?,
        created_at: row.try_get(2)?,
        require_recording_consent: row.try_get(3)?,
        consent_at: row.try_get(4)?,
        ended_at: row.try_get(5)?,
    })
}

pub(super) async fn create(
    s: &PgStore,
    tenant: &TenantId,
    name: &str,
    require_recording_consent: bool,
    at: UnixTime,
) -> Result<(), StoreError> {
    s.execute(
        "INSERT INTO rooms (tenant_id, name, created_at, require_recording_consent)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (tenant_id, name) DO UPDATE SET
             created_at = excluded.created_at,
             require_recording_consent = excluded.require_recording_consent,
             consent_at = NULL",
        &[&tenant.as_str(), &name, &at, &require_recording_consent],
    )
    .await
    .map(drop)
}

pub(super) async fn ensure(
    s: &PgStore,
    tenant: &TenantId,
    name: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "INSERT INTO rooms (tenant_id, name, created_at, require_recording_consent)
             VALUES ($1, $2, $3, FALSE)
             ON CONFLICT (tenant_id, name) DO NOTHING",
            &[&tenant.as_str(), &name, &at],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn room(
    s: &PgStore,
    tenant: &TenantId,
    name: &str,
) -> Result<Option<RoomRecord>, StoreError> {
    let sql = format!("SELECT {ROOM_COLUMNS} FROM rooms WHERE tenant_id = $1 AND name = $2");
    let rows = s.query(&sql, &[&tenant.as_str(), &name]).await?;
    super::first(&rows, room_from_row)
}

pub(super) async fn consent(
    s: &PgStore,
    tenant: &TenantId,
    name: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "UPDATE rooms SET consent_at = $3 WHERE tenant_id = $1 AND name = $2",
            &[&tenant.as_str(), &name, &at],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn end(
    s: &PgStore,
    tenant: &TenantId,
    name: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    // GREATEST ignores NULL: the first end sets `at`, later ones only move it forward.
    let n = s
        .execute(
            "UPDATE rooms SET ended_at = GREATEST(ended_at, $3), consent_at = NULL
             WHERE tenant_id = $1 AND name = $2",
            &[&tenant.as_str(), &name, &at],
        )
        .await?;
    Ok(n == 1)
}

#[async_trait]
impl RoomStore for PgStore {
    async fn create_room(
        &self,
        tenant: &TenantId,
        name: &str,
        require_recording_consent: bool,
        at: UnixTime,
    ) -> Result<(), StoreError> {
        create(self, tenant, name, require_recording_consent, at).await
    }

    async fn ensure_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        ensure(self, tenant, name, at).await
    }

    async fn room(&self, tenant: &TenantId, name: &str) -> Result<Option<RoomRecord>, StoreError> {
        room(self, tenant, name).await
    }

    async fn record_room_consent(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        consent(self, tenant, name, at).await
    }

    async fn end_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        end(self, tenant, name, at).await
    }
}
