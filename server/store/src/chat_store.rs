//! [`ChatStore`]: chat transcripts, each message encrypted by the caller. Each backend
//! implements it in its chat file (`memory_chat.rs`, `sqlite/chat.rs`, `postgres/chat.rs`).

use async_trait::async_trait;

use crate::{ChatRecord, StoreError, TenantId};

/// Encrypted chat messages by tenant and room.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait ChatStore: Send + Sync + std::fmt::Debug {
    /// Inserts a chat message (already encrypted). The same (tenant, id) twice is a
    /// [`StoreError::Conflict`]; an unknown tenant is refused.
    async fn insert_chat_message(&self, message: &ChatRecord) -> Result<(), StoreError>;
    /// The tenant's message `id` in `room`, if any.
    async fn chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
    ) -> Result<Option<ChatRecord>, StoreError>;
    /// The room's transcript, oldest first (by time, then insertion).
    async fn chat_messages(
        &self,
        tenant: &TenantId,
        room: &str,
    ) -> Result<Vec<ChatRecord>, StoreError>;
    /// Replaces a message's ciphertext (a retraction re-encrypts it without the text). False
    /// when the tenant has no such message in `room`.
    async fn replace_chat_message(
        &self,
        tenant: &TenantId,
        room: &str,
        id: &str,
        key_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError>;
}
