//! Chat over the `chat` data channel: the server relays each message with an id, a timestamp
//! and the sender, after `hushpay_card::chat_scan` looked for card numbers. A card number is
//! never relayed, stored or logged: it is replaced by [`hushpay_card::chat_scan::NOTICE`],
//! earlier fragments of a split number are retracted, and an incident goes to the
//! [`IncidentSink`].
//!
//! Storage goes through [`ChatArchive`] and incidents through [`IncidentSink`]; the gateway's
//! implementations ([`super::transcript`]) encrypt each message with the tenant's data key and
//! append incidents to the vault's hash-chained audit log.

use std::fmt::Debug;

use async_trait::async_trait;

use serde::Serialize;

use hushpay_vault::VaultError;

/// The data channel's wire types (`hushpay-protocol`).
pub use hushpay_protocol::chat::{ChatIn, ChatMessage, ChatOut, ChatSender};

/// A card number seen in chat (no digits in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatIncident {
    pub tenant: String,
    pub room: String,
    pub participant_id: String,
    pub identity: String,
    pub role: String,
    pub message_id: String,
    /// Earlier messages of the sender that carried part of the number (retracted).
    pub retracted: Vec<String>,
    pub ts: i64,
}

/// Where incidents are audited. An error means the incident was not recorded: the relay then
/// refuses the message (audit or deny).
#[async_trait]
pub trait IncidentSink: Send + Sync + Debug {
    async fn chat_card_number(&self, incident: &ChatIncident) -> Result<(), VaultError>;
}

/// Where chat transcripts live (kept with the room: tenant + room name).
#[async_trait]
pub trait ChatArchive: Send + Sync + Debug {
    /// Stores a relayed message. An error means it was not stored: the relay refuses it.
    async fn append(
        &self,
        tenant: &str,
        room: &str,
        message: &ChatMessage,
    ) -> Result<(), VaultError>;
    /// Replaces the text of an earlier message (retraction) and marks it redacted.
    async fn redact(
        &self,
        tenant: &str,
        room: &str,
        id: &str,
        text: &str,
    ) -> Result<(), VaultError>;
    /// The room's transcript, oldest first.
    async fn transcript(&self, tenant: &str, room: &str) -> Result<Vec<ChatMessage>, VaultError>;
}
