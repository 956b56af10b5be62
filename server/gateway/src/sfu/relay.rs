//! The chat relay: reads the participant's `chat` data channel, checks each message for card
//! numbers (`hushpay_card::chat_scan`, one scanner per room), audits an incident when it finds
//! one, stores the message (encrypted, [`super::transcript`]) and only then relays it to
//! everyone in the room (the sender included, so it learns the id and sees what others saw).
//! A message whose incident or transcript entry cannot be written is refused, not relayed.

use std::sync::Arc;
use std::time::Instant;

use hushpay_card::chat_scan::NOTICE;

use tokio::sync::mpsc;
use zeroize::Zeroize;

use super::Sfu;
use super::chat::{ChatIn, ChatIncident, ChatMessage, ChatOut, ChatSender};
use super::limits::RateLimiter;
use super::media::DataIn;
use super::participant::{ChatChannel, Participant, PeerHandle};
use super::room::{Room, unix_ms};
use super::signal::codes;

/// Label of the chat data channel.
pub const CHAT_LABEL: &str = "chat";

/// Runs until the peer is gone: the `chat` channel's messages are relayed; any other channel
/// the peer opens is ignored.
pub async fn chat_loop(
    sfu: Arc<Sfu>,
    room: Arc<Room>,
    participant: Arc<Participant>,
    peer: PeerHandle,
    mut data: mpsc::Receiver<DataIn>,
) {
    let _guard = sfu.task_guard();
    let mut limiter = RateLimiter::new(sfu.config.messages_per_sec);
    let mut chat: Option<ChatChannel> = None;
    while let Some(ev) = data.recv().await {
        match ev {
            DataIn::Open { channel, label } if label == CHAT_LABEL && chat.is_none() => {
                let c = ChatChannel {
                    peer: peer.clone(),
                    channel,
                };
                participant.set_chat(c.clone());
                chat = Some(c);
            }
            DataIn::Message { channel, mut data } => {
                if let Some(c) = chat.as_ref().filter(|c| c.channel == channel) {
                    let reply = handle(&sfu, &room, &participant, &mut limiter, &data).await;
                    if let Some(err) = reply {
                        send(c, &err).await;
                    }
                }
                data.zeroize();
            }
            DataIn::Closed { channel } if chat.as_ref().is_some_and(|c| c.channel == channel) => {
                chat = None;
            }
            DataIn::Gone => break,
            _ => {}
        }
    }
}

fn error(code: &str, message: &str) -> ChatOut {
    ChatOut::Error {
        code: code.to_owned(),
        message: message.to_owned(),
    }
}

async fn handle(
    sfu: &Sfu,
    room: &Room,
    from: &Participant,
    limiter: &mut RateLimiter,
    data: &[u8],
) -> Option<ChatOut> {
    if data.len() > sfu.config.max_chat_bytes {
        return Some(error(codes::MESSAGE_TOO_LARGE, "chat message is too large"));
    }
    if !limiter.allow(Instant::now()) {
        return Some(error(codes::RATE_LIMITED, "too many chat messages"));
    }
    if !from.grants.can_chat {
        return Some(error("forbidden", "this token may not chat"));
    }
    let Ok(ChatIn::Chat { mut text }) = serde_json::from_slice::<ChatIn>(data) else {
        return Some(error(
            codes::BAD_MESSAGE,
            "expected {\"type\":\"chat\",\"text\":\"...\"}",
        ));
    };
    let id = format!("msg_{}", uuid::Uuid::now_v7().simple());
    let verdict = room.scan_chat(&from.id, &id, &text);
    text.zeroize();
    let ts = unix_ms();
    let (tenant, name) = (&room.key.tenant, &room.key.name);
    // Retract first: the fragments leave every view even if what follows is refused.
    let mut stored = Ok(());
    for old in &verdict.retract {
        broadcast(
            room,
            &ChatOut::ChatRetract {
                id: old.clone(),
                text: NOTICE.to_owned(),
            },
        )
        .await;
        if let Err(e) = sfu.archive.redact(tenant, name, old, NOTICE).await {
            stored = Err(e);
        }
    }
    if verdict.incident {
        sfu.metrics
            .sfu
            .chat_intercepted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let incident = ChatIncident {
            tenant: tenant.clone(),
            room: name.clone(),
            participant_id: from.id.clone(),
            identity: from.identity.clone(),
            role: from.role.as_str().to_owned(),
            message_id: id.clone(),
            retracted: verdict.retract.clone(),
            ts,
        };
        if let Err(e) = sfu.incidents.chat_card_number(&incident).await {
            tracing::error!(error = %e, "chat incident not audited; message refused");
            return Some(error(
                codes::AUDIT_UNAVAILABLE,
                "the audit log cannot be written; the message was not relayed",
            ));
        }
    }
    let message = ChatMessage {
        id,
        ts,
        from: ChatSender {
            participant_id: from.id.clone(),
            identity: from.identity.clone(),
            role: from.role.as_str().to_owned(),
        },
        redacted: verdict.hits > 0,
        text: verdict.text,
    };
    if let Err(e) = stored.and(sfu.archive.append(tenant, name, &message).await) {
        tracing::error!(error = %e, "chat transcript not stored; message refused");
        return Some(error(
            codes::STORAGE_UNAVAILABLE,
            "the transcript cannot be written; the message was not relayed",
        ));
    }
    broadcast(room, &ChatOut::Chat(message)).await;
    None
}

async fn broadcast(room: &Room, out: &ChatOut) {
    for p in room.participants() {
        if let Some(chat) = p.chat() {
            send(&chat, out).await;
        }
    }
}

pub(super) async fn send(chat: &ChatChannel, out: &ChatOut) {
    if let Ok(json) = serde_json::to_string(out) {
        chat.send_text(json);
    }
}
