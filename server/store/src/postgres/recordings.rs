//! The recording index on PostgreSQL: one row per (tenant, recording id), with the retention
//! sweepers' leases. Functions over the store's pool, with the [`crate::RecordingStore`] impl
//! that calls them.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgStore;
use crate::{RecordingLease, RecordingRecord, RecordingStore, StoreError, TenantId};

const RECORDING_COLUMNS: &str = "tenant_id, id, room, started_at_ms, deletion_audited";

fn recording_from_row(row: &Row) -> Result<RecordingRecord, StoreError> {
    Ok(RecordingRecord {
        tenant: TenantId::new(row.try_get::<_, String>(0)?),
        id: row.try_get(1)?,
        room: row.try_get(2)?,
        started_at_ms: row.try_get(3)?,
        deletion_audited: row.try_get(4)?,
    })
}

fn limit_of(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

pub(super) async fn insert(s: &PgStore, r: &RecordingRecord) -> Result<(), StoreError> {
    s.execute(
        "INSERT INTO recordings (tenant_id, id, room, started_at_ms, deletion_audited)
         VALUES ($1, $2, $3, $4, $5)",
        &[
            &r.tenant.as_str(),
            &r.id,
            &r.room,
            &r.started_at_ms,
            &r.deletion_audited,
        ],
    )
    .await
    .map(drop)
}

pub(super) async fn get(
    s: &PgStore,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<RecordingRecord>, StoreError> {
    let sql =
        format!("SELECT {RECORDING_COLUMNS} FROM recordings WHERE tenant_id = $1 AND id = $2");
    let rows = s.query(&sql, &[&tenant.as_str(), &id]).await?;
    super::first(&rows, recording_from_row)
}

pub(super) async fn list(
    s: &PgStore,
    tenant: &TenantId,
    room: Option<&str>,
    limit: usize,
) -> Result<Vec<RecordingRecord>, StoreError> {
    let sql = format!(
        "SELECT {RECORDING_COLUMNS} FROM recordings
         WHERE tenant_id = $1 AND ($2::TEXT IS NULL OR room = $2)
         ORDER BY started_at_ms DESC, id DESC LIMIT $3"
    );
    let rows = s
        .query(&sql, &[&tenant.as_str(), &room, &limit_of(limit)])
        .await?;
    super::all(&rows, recording_from_row)
}

pub(super) async fn claim(
    s: &PgStore,
    lease: &RecordingLease,
    started_before_ms: i64,
    limit: usize,
) -> Result<Vec<RecordingRecord>, StoreError> {
    // SKIP LOCKED: a concurrent claimer's rows are passed over, not waited for; a row it
    // claimed and committed meanwhile is re-checked against the lease condition and dropped.
    let sql = format!(
        "UPDATE recordings SET lease_owner = $1, lease_until = $3
         WHERE (tenant_id, id) IN (
             SELECT tenant_id, id FROM recordings
             WHERE started_at_ms < $4 AND (lease_until IS NULL OR lease_until <= $2)
             ORDER BY started_at_ms, tenant_id, id LIMIT $5
             FOR UPDATE SKIP LOCKED)
         RETURNING {RECORDING_COLUMNS}"
    );
    let rows = s
        .query(
            &sql,
            &[
                &lease.owner,
                &lease.now,
                &lease.until,
                &started_before_ms,
                &limit_of(limit),
            ],
        )
        .await?;
    let mut out = super::all(&rows, recording_from_row)?;
    out.sort_by(|a, b| (a.started_at_ms, &a.id).cmp(&(b.started_at_ms, &b.id)));
    Ok(out)
}

pub(super) async fn mark_audited(
    s: &PgStore,
    tenant: &TenantId,
    id: &str,
    owner: &str,
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "UPDATE recordings SET deletion_audited = TRUE
             WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3",
            &[&tenant.as_str(), &id, &owner],
        )
        .await?;
    Ok(n == 1)
}

pub(super) async fn delete(
    s: &PgStore,
    tenant: &TenantId,
    id: &str,
    owner: &str,
) -> Result<bool, StoreError> {
    let n = s
        .execute(
            "DELETE FROM recordings WHERE tenant_id = $1 AND id = $2 AND lease_owner = $3",
            &[&tenant.as_str(), &id, &owner],
        )
        .await?;
    Ok(n == 1)
}

#[async_trait]
impl RecordingStore for PgStore {
    async fn insert_recording(&self, recording: &RecordingRecord) -> Result<(), StoreError> {
        insert(self, recording).await
    }

    async fn recording(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<RecordingRecord>, StoreError> {
        get(self, tenant, id).await
    }

    async fn recordings(
        &self,
        tenant: &TenantId,
        room: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        list(self, tenant, room, limit).await
    }

    async fn claim_recordings_for_deletion(
        &self,
        lease: &RecordingLease,
        started_before_ms: i64,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        claim(self, lease, started_before_ms, limit).await
    }

    async fn mark_recording_deletion_audited(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        mark_audited(self, tenant, id, owner).await
    }

    async fn delete_recording(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        delete(self, tenant, id, owner).await
    }
}
