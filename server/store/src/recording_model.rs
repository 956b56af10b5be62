//! The recording index: one row per call recording, so that every gateway sharing the store
//! can list, verify, export and sweep recordings written by any of them. The containers
//! themselves (encrypted tracks, signed metadata) live in an object store; the index holds
//! only what finding them needs: no audio, no key, no card data.

use crate::{TenantId, UnixTime};

/// One recording, as indexed when its writer set it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingRecord {
    pub tenant: TenantId,
    /// `rec_` + 24 base62 characters.
    pub id: String,
    /// The room it recorded.
    pub room: String,
    /// When it started (unix milliseconds): listings are newest first, retention judges by it.
    pub started_at_ms: i64,
    /// Set once the retention sweep appended the recording's `recording.delete` audit entry:
    /// a sweeper that takes over after the first one died deletes it without a second entry.
    pub deletion_audited: bool,
}

/// A retention sweeper's lease on the recordings it claims: until `until`, no other claim
/// returns them (`now` and `until` in unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingLease {
    pub owner: String,
    pub now: UnixTime,
    pub until: UnixTime,
}
