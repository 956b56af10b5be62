//! [`RoomStore`]: rooms with their recording-consent settings. Each backend implements it in
//! its rooms file (`memory_rooms.rs`, `sqlite/rooms.rs`, `postgres/rooms.rs`).

use async_trait::async_trait;

use crate::{RoomRecord, StoreError, TenantId, UnixTime};

/// Rooms, their recording-consent setting and state.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait RoomStore: Send + Sync + std::fmt::Debug {
    /// Creates the tenant's room `name` with `require_recording_consent`, created at `at`; a
    /// stored room of that name takes the new setting and time and loses its consent
    /// (`consent_at` cleared). `ended_at` is never changed here. An unknown tenant is refused.
    async fn create_room(
        &self,
        tenant: &TenantId,
        name: &str,
        require_recording_consent: bool,
        at: UnixTime,
    ) -> Result<(), StoreError>;
    /// Stores the room with no settings of its own (a join opened it) unless it is stored
    /// already; true when it was inserted. An unknown tenant is refused.
    async fn ensure_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// The tenant's room `name`, if stored.
    async fn room(&self, tenant: &TenantId, name: &str) -> Result<Option<RoomRecord>, StoreError>;
    /// Records the patient's recording consent at `at`. False when the room is not stored.
    async fn record_room_consent(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// Records that the tenant ended the room at `at` (`ended_at` only moves forward) and
    /// clears its consent. False when the room is not stored.
    async fn end_room(
        &self,
        tenant: &TenantId,
        name: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
}
