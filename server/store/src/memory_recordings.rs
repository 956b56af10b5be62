//! The recording index in the [`super::MemoryStore`]: plain functions over its maps, and the
//! [`crate::RecordingStore`] impl that calls them.

use async_trait::async_trait;

use super::{Inner, MemoryStore};
use crate::{RecordingLease, RecordingRecord, RecordingStore, StoreError, TenantId};

/// An indexed recording and its sweeper's lease (owner, until).
#[derive(Debug, Clone)]
pub(super) struct Indexed {
    record: RecordingRecord,
    lease: Option<(String, i64)>,
}

fn key(tenant: &TenantId, id: &str) -> (TenantId, String) {
    (tenant.clone(), id.to_owned())
}

pub(super) fn insert(inner: &mut Inner, r: &RecordingRecord) -> Result<(), StoreError> {
    if !inner.tenants.contains_key(&r.tenant) {
        return Err(StoreError::Conflict(format!("no tenant {}", r.tenant)));
    }
    let k = key(&r.tenant, &r.id);
    if inner.recordings.contains_key(&k) {
        return Err(StoreError::Conflict(format!("recording {} exists", r.id)));
    }
    inner.recordings.insert(
        k,
        Indexed {
            record: r.clone(),
            lease: None,
        },
    );
    Ok(())
}

pub(super) fn get(inner: &Inner, tenant: &TenantId, id: &str) -> Option<RecordingRecord> {
    inner
        .recordings
        .get(&key(tenant, id))
        .map(|i| i.record.clone())
}

pub(super) fn list(
    inner: &Inner,
    tenant: &TenantId,
    room: Option<&str>,
    limit: usize,
) -> Vec<RecordingRecord> {
    let mut out: Vec<RecordingRecord> = inner
        .recordings
        .values()
        .map(|i| &i.record)
        .filter(|r| &r.tenant == tenant && room.is_none_or(|room| r.room == room))
        .cloned()
        .collect();
    out.sort_by(|a, b| (b.started_at_ms, &b.id).cmp(&(a.started_at_ms, &a.id)));
    out.truncate(limit);
    out
}

pub(super) fn claim(
    inner: &mut Inner,
    lease: &RecordingLease,
    started_before_ms: i64,
    limit: usize,
) -> Vec<RecordingRecord> {
    let mut due: Vec<&mut Indexed> = inner
        .recordings
        .values_mut()
        .filter(|i| {
            i.record.started_at_ms < started_before_ms
                && i.lease
                    .as_ref()
                    .is_none_or(|(_, until)| *until <= lease.now)
        })
        .collect();
    due.sort_by(|a, b| {
        (a.record.started_at_ms, &a.record.tenant, &a.record.id).cmp(&(
            b.record.started_at_ms,
            &b.record.tenant,
            &b.record.id,
        ))
    });
    due.into_iter()
        .take(limit)
        .map(|i| {
            i.lease = Some((lease.owner.clone(), lease.until));
            i.record.clone()
        })
        .collect()
}

fn leased_by<'a>(
    inner: &'a mut Inner,
    tenant: &TenantId,
    id: &str,
    owner: &str,
) -> Option<&'a mut Indexed> {
    inner
        .recordings
        .get_mut(&key(tenant, id))
        .filter(|i| i.lease.as_ref().is_some_and(|(o, _)| o == owner))
}

pub(super) fn mark_audited(inner: &mut Inner, tenant: &TenantId, id: &str, owner: &str) -> bool {
    match leased_by(inner, tenant, id, owner) {
        Some(i) => {
            i.record.deletion_audited = true;
            true
        }
        None => false,
    }
}

pub(super) fn delete(inner: &mut Inner, tenant: &TenantId, id: &str, owner: &str) -> bool {
    if leased_by(inner, tenant, id, owner).is_none() {
        return false;
    }
    inner.recordings.remove(&key(tenant, id)).is_some()
}

#[async_trait]
impl RecordingStore for MemoryStore {
    async fn insert_recording(&self, recording: &RecordingRecord) -> Result<(), StoreError> {
        insert(&mut self.lock(), recording)
    }

    async fn recording(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<RecordingRecord>, StoreError> {
        Ok(get(&self.lock(), tenant, id))
    }

    async fn recordings(
        &self,
        tenant: &TenantId,
        room: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        Ok(list(&self.lock(), tenant, room, limit))
    }

    async fn claim_recordings_for_deletion(
        &self,
        lease: &RecordingLease,
        started_before_ms: i64,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError> {
        Ok(claim(&mut self.lock(), lease, started_before_ms, limit))
    }

    async fn mark_recording_deletion_audited(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        Ok(mark_audited(&mut self.lock(), tenant, id, owner))
    }

    async fn delete_recording(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError> {
        Ok(delete(&mut self.lock(), tenant, id, owner))
    }
}
