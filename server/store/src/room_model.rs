//! Rooms as their tenant set them up, kept across closes and restarts: the settings a room is
//! (re)created with when someone joins it, the patient's recording consent, and when the
//! tenant last ended it.

use crate::{TenantId, UnixTime};

/// One room of a tenant, as stored. `(tenant, name)` is the key: a room name is what the
/// `room` claim of participant tokens carries, scoped to the tenant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomRecord {
    pub tenant: TenantId,
    pub name: String,
    /// When the tenant last created it (`POST /v1/rooms`), or when a join first opened it.
    pub created_at: UnixTime,
    /// Set by the tenant at creation: nothing is recorded before the patient's consent.
    /// (The tenant's `require_consent_by_default` applies on top of it.)
    pub require_recording_consent: bool,
    /// When the patient's consent to recording was recorded for the room's current call;
    /// cleared when the tenant ends or re-creates the room.
    pub consent_at: Option<UnixTime>,
    /// When the tenant last ended the room (`DELETE /v1/rooms/{id}`): participant tokens
    /// issued at or before it no longer open the room.
    pub ended_at: Option<UnixTime>,
}
