//! A participant: identity and role from the token, its signalling outbox, its peer in the
//! media engine, the streams it receives (downlinks), its chat channel and the tasks it owns.
//! [`Participant::release`] frees all of it; the signalling session calls it on close.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hushpay_auth::{Grants, Role};
use hushpay_rtc::{ChannelId, PeerId};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::forward::Downlink;
use super::ivr_audio::{Ear, PhoneEar};
use super::media::MediaEngine;
use super::signal::{ParticipantInfo, ServerMessage};

/// Where a downlink's audio comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The patient, through the masker.
    Patient,
    /// An agent.
    Agent,
}

impl Source {
    /// What a role hears.
    pub fn heard_by(role: Role) -> &'static [Source] {
        match role {
            Role::Patient => &[Source::Agent],
            Role::Agent => &[Source::Patient],
            _ => &[Source::Patient, Source::Agent],
        }
    }
}

/// One participant.
#[derive(Debug)]
pub struct Participant {
    pub id: String,
    pub identity: String,
    pub role: Role,
    pub grants: Grants,
    muted: AtomicBool,
    out: mpsc::Sender<ServerMessage>,
    inner: Mutex<Owned>,
    /// True once released (the participant left).
    gone: watch::Sender<bool>,
}

/// A participant's peer in the media engine.
#[derive(Debug, Clone)]
pub struct PeerHandle {
    pub engine: MediaEngine,
    pub id: PeerId,
}

/// Where a participant's chat messages go: a data channel of its peer.
#[derive(Debug, Clone)]
pub struct ChatChannel {
    pub peer: PeerHandle,
    pub channel: ChannelId,
}

impl ChatChannel {
    /// Sends one text message (JSON) on the channel.
    pub fn send_text(&self, text: String) {
        self.peer.engine.send_text(self.peer.id, self.channel, text);
    }
}

#[derive(Default)]
struct Owned {
    peer: Option<PeerHandle>,
    downlinks: Vec<Arc<Downlink>>,
    /// A phone caller's ear for the IVR (it has no downlinks).
    phone_ear: Option<Arc<PhoneEar>>,
    chat: Option<ChatChannel>,
    tasks: Vec<JoinHandle<()>>,
    released: bool,
}

impl std::fmt::Debug for Owned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Owned")
            .field("peer", &self.peer.is_some())
            .field("downlinks", &self.downlinks.len())
            .field("phone_ear", &self.phone_ear.is_some())
            .field("chat", &self.chat.is_some())
            .field("tasks", &self.tasks.len())
            .finish()
    }
}

impl Participant {
    pub fn new(
        identity: String,
        role: Role,
        grants: Grants,
        out: mpsc::Sender<ServerMessage>,
    ) -> Self {
        Self {
            id: format!("par_{}", uuid::Uuid::new_v4().simple()),
            identity,
            role,
            grants,
            muted: AtomicBool::new(false),
            out,
            inner: Mutex::default(),
            gone: watch::channel(false).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Owned> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn info(&self) -> ParticipantInfo {
        ParticipantInfo {
            participant_id: self.id.clone(),
            identity: self.identity.clone(),
            role: self.role.as_str().to_owned(),
            muted: self.muted(),
        }
    }

    pub fn muted(&self) -> bool {
        self.muted.load(Ordering::Relaxed)
    }

    pub fn set_muted(&self, muted: bool) {
        self.muted.store(muted, Ordering::Relaxed);
    }

    /// Queues a signalling frame; a full or closed outbox drops it (the session is ending or
    /// the client does not read, and the idle timeout will close it).
    pub fn send(&self, msg: ServerMessage) {
        let _ = self.out.try_send(msg);
    }

    pub fn set_peer(&self, peer: PeerHandle) {
        self.lock().peer = Some(peer);
    }

    pub fn peer(&self) -> Option<PeerHandle> {
        self.lock().peer.clone()
    }

    pub fn add_downlink(&self, d: Arc<Downlink>) {
        self.lock().downlinks.push(d);
    }

    /// This participant's downlink for `source`, if it receives it.
    pub fn downlink(&self, source: Source) -> Option<Arc<Downlink>> {
        self.lock()
            .downlinks
            .iter()
            .find(|d| d.source == source)
            .cloned()
    }

    /// A phone caller hears the IVR through `ear`.
    pub fn set_phone_ear(&self, ear: Arc<PhoneEar>) {
        let mut o = self.lock();
        if !o.released {
            o.phone_ear = Some(ear);
        }
    }

    /// Where this participant hears an IVR: its downlink of the agents' audio, or its phone
    /// ear; `None` when it hears nothing.
    pub fn ear(&self) -> Option<Ear> {
        let o = self.lock();
        o.downlinks
            .iter()
            .find(|d| d.source == Source::Agent)
            .map(|d| Ear::Downlink(Arc::clone(d)))
            .or_else(|| o.phone_ear.clone().map(Ear::Phone))
    }

    pub fn set_chat(&self, chat: ChatChannel) {
        self.lock().chat = Some(chat);
    }

    pub fn chat(&self) -> Option<ChatChannel> {
        self.lock().chat.clone()
    }

    /// Keeps `task` so that [`release`](Self::release) can stop it. A task added after
    /// release is stopped at once.
    pub fn own(&self, task: JoinHandle<()>) {
        let mut o = self.lock();
        if o.released {
            task.abort();
        } else {
            o.tasks.retain(|t| !t.is_finished());
            o.tasks.push(task);
        }
    }

    /// Stops the tasks and closes the peer. Idempotent.
    pub async fn release(&self) {
        let (peer, tasks) = {
            let mut o = self.lock();
            o.released = true;
            o.downlinks.clear();
            o.phone_ear = None;
            o.chat = None;
            self.gone.send_replace(true);
            (o.peer.take(), std::mem::take(&mut o.tasks))
        };
        for t in &tasks {
            t.abort();
        }
        if let Some(p) = peer {
            p.engine.close(p.id);
        }
    }

    pub fn is_released(&self) -> bool {
        self.lock().released
    }

    /// Resolves once the participant is released (it left, or its room closed).
    pub async fn left(&self) {
        let _ = self.gone.subscribe().wait_for(|gone| *gone).await;
    }
}
