//! Chat over the `chat` data channel: what a client sends ([`ChatIn`]) and what the server
//! relays ([`ChatOut`]: each message with an id, a timestamp and the sender, retractions,
//! errors, pay-by-link offers). Card numbers never travel in a relayed message: the gateway
//! replaces them before relaying (docs/protocol.md, "Chat").

use serde::{Deserialize, Serialize};

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
    /// True when a card number (or part of one) was replaced by the notice.
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
    /// A pay-by-link payment offered in the chat (see [`crate::payment`]).
    PaymentLink(crate::payment::LinkMessage),
}
