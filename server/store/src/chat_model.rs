//! Records of chat transcripts: each message is ciphertext the caller made (the gateway
//! encrypts with the tenant's data key); the store keeps only where it belongs and when.

use std::fmt;

use crate::TenantId;

/// One message of a room's chat transcript, as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ChatRecord {
    pub tenant: TenantId,
    /// The room's name within the tenant.
    pub room: String,
    /// The message id (`msg_…`), unique per tenant.
    pub id: String,
    /// When the server relayed it, Unix milliseconds.
    pub at_ms: i64,
    /// The data key version the ciphertext is under.
    pub key_version: u32,
    /// Nonce + AES-256-GCM ciphertext + tag of the message (sender, text, flags).
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for ChatRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChatRecord")
            .field("tenant", &self.tenant)
            .field("room", &self.room)
            .field("id", &self.id)
            .field("at_ms", &self.at_ms)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}
