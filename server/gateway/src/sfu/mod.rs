//! The SFU: rooms of patients, agents and supervisors connected over WebRTC (webrtc-rs 0.21),
//! with the patient's audio masked on its way to everyone else.
//!
//! * [`signal`]: signalling messages (docs/protocol.md); [`session`]: one WebSocket session;
//! * [`room`]: rooms and the registry; [`participant`]: what a participant owns;
//! * [`peer`]: peer connection setup and SDP munging; [`forward`]: media forwarding with the
//!   masker per patient stream and the recorder tap;
//! * [`chat`]/[`relay`]: data-channel chat relay (card numbers found by `hushpay_card::chat_scan`);
//!   [`transcript`]: the encrypted transcript and audited incidents;
//! * [`ivr_audio`]: prompts on the patient's downlink and hold audio on the others while an
//!   IVR runs;
//! * [`ivr_call`]: the IVR flow running in a room (prompts, the patient's keys, hand-back);
//! * [`limits`]: settings and rate limiting; [`payments`]: payment changes to the room's agents;
//!   [`payment_offer`]: a payment offered to the room's patient (card-form prompt,
//!   pay-by-link chat message); [`secure`]: secure mode and digit collection in a room, which
//!   [`keypad`] drives for keypad payments.
//!
//! Everything a participant owned (peer connection, tasks, chat channel, room membership) is
//! released when its WebSocket closes; a room left empty closes after a grace period.

pub mod chat;
pub mod credential;
pub mod forward;
pub mod ivr_audio;
pub mod ivr_call;
pub mod keypad;
pub mod limits;
pub mod participant;
pub mod payment_offer;
pub mod payments;
pub mod peer;
pub mod relay;
pub mod room;
pub mod secure;
pub mod session;
pub mod signal;
pub mod transcript;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use crate::metrics::Metrics;
use chat::{ChatArchive, IncidentSink};
use forward::{NoRecorder, RecorderTap};
use limits::SfuConfig;
use room::{Registry, Room, RoomKey};

/// The SFU's shared state.
#[derive(Debug)]
pub struct Sfu {
    pub config: SfuConfig,
    pub rooms: Registry,
    pub metrics: Arc<Metrics>,
    pub recorder: Arc<dyn RecorderTap>,
    pub incidents: Arc<dyn IncidentSink>,
    pub archive: Arc<dyn ChatArchive>,
    /// The IVR's prompt set, encoded at the first IVR ([`ivr_call`]).
    pub ivr_prompts: tokio::sync::OnceCell<Arc<hushpay_prompts::prompt::PromptSet>>,
    tasks: Arc<AtomicI64>,
}

/// Counts a live SFU task while held.
#[derive(Debug)]
pub struct TaskGuard(Arc<AtomicI64>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Sfu {
    /// An SFU keeping chat transcripts in `archive` and auditing incidents to `incidents`
    /// ([`transcript`] has the vault-backed ones), with no recorder.
    pub fn new(
        config: SfuConfig,
        metrics: Arc<Metrics>,
        archive: Arc<dyn ChatArchive>,
        incidents: Arc<dyn IncidentSink>,
    ) -> Self {
        Self {
            archive,
            config,
            rooms: Registry::default(),
            metrics,
            recorder: Arc::new(NoRecorder),
            incidents,
            ivr_prompts: tokio::sync::OnceCell::new(),
            tasks: Arc::new(AtomicI64::new(0)),
        }
    }

    /// Live SFU tasks (sessions, forwarders, chat loops, room timers).
    pub fn live_tasks(&self) -> i64 {
        self.tasks.load(Ordering::Relaxed)
    }

    pub fn task_guard(&self) -> TaskGuard {
        self.tasks.fetch_add(1, Ordering::Relaxed);
        TaskGuard(Arc::clone(&self.tasks))
    }

    /// Participants in all rooms.
    pub fn participant_count(&self) -> usize {
        self.rooms.all().iter().map(|r| r.participant_count()).sum()
    }

    /// Ends a room now: participants are told and released (the transcript stays stored).
    pub async fn end_room(&self, key: &RoomKey, reason: &str) -> bool {
        let Some(room) = self.rooms.end(key) else {
            return false;
        };
        self.close_room(&room, reason).await;
        true
    }

    async fn close_room(&self, room: &Room, reason: &str) {
        room.broadcast(
            &signal::ServerMessage::RoomClosed {
                reason: reason.to_owned(),
            },
            "",
        );
        for p in room.participants() {
            p.release().await;
            self.rooms.leave(room, &p.id);
        }
        self.recorder.room_closed(room);
        self.update_gauges();
    }

    /// Schedules the close of `key` once it has been empty for the grace period.
    pub fn schedule_empty_close(self: &Arc<Self>, key: RoomKey) {
        let sfu = Arc::clone(self);
        let guard = self.task_guard();
        tokio::spawn(async move {
            let _guard = guard;
            tokio::time::sleep(sfu.config.empty_room_grace).await;
            if let Some(room) = sfu.rooms.close_if_empty(&key, sfu.config.empty_room_grace) {
                sfu.close_room(&room, "empty").await;
            }
        });
    }

    pub fn update_gauges(&self) {
        self.metrics
            .sfu
            .rooms
            .store(self.rooms.count() as i64, Ordering::Relaxed);
        self.metrics
            .sfu
            .participants
            .store(self.participant_count() as i64, Ordering::Relaxed);
    }
}
