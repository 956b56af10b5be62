//! The recording index on SQLite: one row per (tenant, recording id), with the retention
//! sweepers' leases (one node here, the PostgreSQL rules). Plain functions over a connection,
//! with the [`crate::RecordingStore`] impl that calls them.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::{RecordingLease, RecordingRecord, RecordingStore, StoreError, TenantId};

const RECORDING_COLUMNS: &str = "tenant_id, id, room, started_at_ms, deletion_audited";

fn recording_from_row(row: &Row<'_>) -> rusqlite::Result<RecordingRecord> {
    Ok(RecordingRecord {
        tenant: TenantId::new(row.get::<_, String>(0)?),
        id: row.get(1)?,
        room: row.get(2)?,
        started_at_ms: row.get(3)?,
        deletion_audited: row.get(4)?,
    })
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(super) fn insert(c: &mut Connection, r: &RecordingRecord) -> Result<(), StoreError> {
    c.execute(
        "INSERT INTO recordings (tenant_id, id, room, started_at_ms, deletion_audited)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            r.tenant.as_str(),
            r.id,
            r.room,
            r.started_at_ms,
            r.deletion_audited
        ],
    )?;
    Ok(())
}

pub(super) fn get(
    c: &mut Connection,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<RecordingRecord>, StoreError> {
    let sql =
        format!("SELECT {RECORDING_COLUMNS} FROM recordings WHERE tenant_id = ?1 AND id = ?2");
    Ok(c.prepare_cached(&sql)?
        .query_row(params![tenant.as_str(), id], recording_from_row)
        .optional()?)
}

pub(super) fn list(
    c: &mut Connection,
    tenant: &TenantId,
    room: Option<&str>,
    limit: usize,
) -> Result<Vec<RecordingRecord>, StoreError> {
    let sql = format!(
        "SELECT {RECORDING_COLUMNS} FROM recordings
         WHERE tenant_id = ?1 AND (?2 IS NULL OR room = ?2)
         ORDER BY started_at_ms DESC, id DESC LIMIT ?3"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![tenant.as_str(), room, limit_of(limit)],
        recording_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn claim(
    c: &mut Connection,
    lease: &RecordingLease,
    started_before_ms: i64,
    limit: usize,
) -> Result<Vec<RecordingRecord>, StoreError> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let sql = format!(
        "SELECT {RECORDING_COLUMNS} FROM recordings
         WHERE started_at_ms < ?1 AND (lease_until IS NULL OR lease_until <= ?2)
         ORDER BY started_at_ms, tenant_id, id LIMIT ?3"
    );
    let claimed = {
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![started_before_ms, lease.now, limit_of(limit)],
            recording_from_row,
        )?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE recordings SET lease_owner = ?3, lease_until = ?4
             WHERE tenant_id = ?1 AND id = ?2",
        )?;
        for r in &claimed {
            stmt.execute(params![r.tenant.as_str(), r.id, lease.owner, lease.until])?;
        }
    }
    tx.commit()?;
    Ok(claimed)
}

pub(super) fn mark_audited(
    c: &mut Connection,
    tenant: &TenantId,
    id: &str,
    owner: &str,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "UPDATE recordings SET deletion_audited = 1
         WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3",
        params![tenant.as_str(), id, owner],
    )?;
    Ok(n == 1)
}

pub(super) fn delete(
    c: &mut Connection,
    tenant: &TenantId,
    id: &str,
    owner: &str,
) -> Result<bool, StoreError> {
    let n = c.execute(
        "DELETE FROM recordings WHERE tenant_id = ?1 AND id = ?2 AND lease_owner = ?3",
        params![tenant.as_str(), id, owner],
    )?;
    Ok(n == 1)
}

#[async_trait]
impl RecordingStore for SqliteStore {
    async fn insert_recording(&self, recording: &RecordingRecord) -> Result<(), StoreError> {
        let r = recording.clone();
        self.with(move |c| insert(c, &r)).await
    }

    async fn recording(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<RecordingRecord>, StoreError> {
        let (t, id) = (tenant.clone(), id.to_owned());
        self.with(move |c| get(c, &t, &id)).await
    }

    async fn recordings(
        &self,
        tenant: &TenantId,
        room: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        let (t, room) = (tenant.clone(), room.map(str::to_owned));
        self.with(move |c| list(c, &t, room.as_deref(), limit))
            .await
    }

    async fn claim_recordings_for_deletion(
        &self,
        lease: &RecordingLease,
        started_before_ms: i64,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        let lease = lease.clone();
        self.with(move |c| claim(c, &lease, started_before_ms, limit))
            .await
    }

    async fn mark_recording_deletion_audited(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let (t, id, owner) = (tenant.clone(), id.to_owned(), owner.to_owned());
        self.with(move |c| mark_audited(c, &t, &id, &owner)).await
    }

    async fn delete_recording(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        let (t, id, owner) = (tenant.clone(), id.to_owned(), owner.to_owned());
        self.with(move |c| delete(c, &t, &id, &owner)).await
    }
}
