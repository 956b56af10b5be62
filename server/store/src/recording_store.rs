//! [`RecordingStore`]: the index of call recordings and the leases of the retention sweep.
//! Each backend implements it in its recordings file (`memory_recordings.rs`,
//! `sqlite/recordings.rs`, `postgres/recordings.rs`).

use async_trait::async_trait;

use crate::{RecordingLease, RecordingRecord, StoreError, TenantId};

/// The recording index.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait RecordingStore: Send + Sync + std::fmt::Debug {
    /// Indexes a recording. The same (tenant, id) twice is a [`StoreError::Conflict`]; an
    /// unknown tenant is refused.
    async fn insert_recording(&self, recording: &RecordingRecord) -> Result<(), StoreError>;
    /// The tenant's recording `id`, if indexed.
    async fn recording(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<RecordingRecord>, StoreError>;
    /// Up to `limit` of the tenant's recordings (of `room` only, when given), newest first
    /// (by start, then id).
    async fn recordings(
        &self,
        tenant: &TenantId,
        room: Option<&str>,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError>;
    /// Claims up to `limit` recordings of any tenant that started before `started_before_ms`
    /// and that no live lease holds, oldest first, each leased to `lease.owner` until
    /// `lease.until`. Atomic: two concurrent claimers, in one process or many, never get the
    /// same recording; a lease that ran out (its sweeper died) makes the recording claimable
    /// again.
    async fn claim_recordings_for_deletion(
        &self,
        lease: &RecordingLease,
        started_before_ms: i64,
        limit: usize,
    ) -> Result<Vec<RecordingRecord>, StoreError>;
    /// Records that the recording's deletion was audited. False (nothing written) unless
    /// `owner` made the last claim of it (a sweeper whose lease ran out and was taken over
    /// leaves the recording to the new owner).
    async fn mark_recording_deletion_audited(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError>;
    /// Removes the recording from the index. False (nothing removed) unless `owner` made the
    /// last claim of it.
    async fn delete_recording(
        &self,
        tenant: &TenantId,
        id: &str,
        owner: &str,
    ) -> Result<bool, StoreError>;
}
