//! Chat over the `chat` data channel: the server relays each message with an id, a timestamp
//! and the sender, after [`ChatGuard`] looked for card numbers. A card number is never
//! relayed, stored or logged: the message becomes a notice, earlier fragments of a split
//! number are retracted, and an incident goes to the [`IncidentSink`].
//!
//! Storage goes through [`ChatArchive`]. The vault's keyring (issue 5) will provide the
//! encrypted archive; until it lands the default is [`MemoryChatArchive`], which keeps the
//! transcript in memory with the room and drops it when the room closes (not encrypted).

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

/// Text relayed in place of a message that held a card number.
pub const CARD_NOTICE: &str =
    "[A card number was removed from this message. Never type card details in chat.]";

/// What a client sends on the data channel.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ChatIn {
    Chat { text: String },
}

/// The sender of a relayed message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatSender {
    pub participant_id: String,
    pub identity: String,
    pub role: String,
}

/// A relayed (and stored) message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChatMessage {
    pub id: String,
    /// Unix milliseconds.
    pub ts: i64,
    pub from: ChatSender,
    pub text: String,
    /// True when the text is the card-number notice.
    pub redacted: bool,
}

/// What the server sends on the data channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ChatOut {
    Chat(ChatMessage),
    /// Remove an earlier message from view (it held part of a split card number).
    ChatRetract {
        id: String,
        text: String,
    },
    Error {
        code: String,
        message: String,
    },
}

/// A card number seen in chat (no digits in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChatIncident {
    pub tenant: String,
    pub room: String,
    pub participant_id: String,
    pub identity: String,
    pub message_id: String,
    pub split: bool,
    pub retracted: Vec<String>,
    pub ts: i64,
}

/// Where incidents are audited. The audit log (issue 5) implements it; the default logs the
/// incident (no content) and keeps it in memory.
pub trait IncidentSink: Send + Sync + Debug {
    fn chat_card_number(&self, incident: ChatIncident);
}

/// Where chat transcripts live.
pub trait ChatArchive: Send + Sync + Debug {
    fn append(&self, tenant: &str, room: &str, message: &ChatMessage);
    /// Replaces the text of an earlier message (retraction).
    fn redact(&self, tenant: &str, room: &str, id: &str, text: &str);
    fn transcript(&self, tenant: &str, room: &str) -> Vec<ChatMessage>;
    /// The room closed: drop what is kept with it.
    fn close_room(&self, tenant: &str, room: &str);
}

/// In-memory incidents (tests and development).
#[derive(Debug, Default)]
pub struct MemoryIncidents {
    seen: Mutex<Vec<ChatIncident>>,
}

impl MemoryIncidents {
    pub fn all(&self) -> Vec<ChatIncident> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl IncidentSink for MemoryIncidents {
    fn chat_card_number(&self, incident: ChatIncident) {
        tracing::warn!(
            tenant = %incident.tenant,
            room = %incident.room,
            participant = %incident.participant_id,
            message = %incident.message_id,
            split = incident.split,
            "card number intercepted in chat"
        );
        self.seen
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(incident);
    }
}

/// Transcripts in memory, kept with the room (not encrypted; see the module docs).
#[derive(Debug, Default)]
pub struct MemoryChatArchive {
    rooms: Mutex<HashMap<(String, String), Vec<ChatMessage>>>,
    pub max_per_room: usize,
}

impl MemoryChatArchive {
    pub fn new(max_per_room: usize) -> Self {
        Self {
            rooms: Mutex::default(),
            max_per_room,
        }
    }
}

impl ChatArchive for MemoryChatArchive {
    fn append(&self, tenant: &str, room: &str, message: &ChatMessage) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        let log = rooms
            .entry((tenant.to_owned(), room.to_owned()))
            .or_default();
        if log.len() >= self.max_per_room.max(1) {
            log.remove(0);
        }
        log.push(message.clone());
    }

    fn redact(&self, tenant: &str, room: &str, id: &str, text: &str) {
        let mut rooms = self.rooms.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = rooms
            .get_mut(&(tenant.to_owned(), room.to_owned()))
            .and_then(|log| log.iter_mut().find(|m| m.id == id))
        {
            m.text = text.to_owned();
            m.redacted = true;
        }
    }

    fn transcript(&self, tenant: &str, room: &str) -> Vec<ChatMessage> {
        self.rooms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&(tenant.to_owned(), room.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    fn close_room(&self, tenant: &str, room: &str) {
        self.rooms
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&(tenant.to_owned(), room.to_owned()));
    }
}
