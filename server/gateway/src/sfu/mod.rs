//! The SFU: rooms of patients, agents and supervisors connected over WebRTC (the media engine
//! [`media`]: str0m behind one UDP port, and ICE-TCP), with the patient's audio masked on its
//! way to everyone else.
//!
//! * [`signal`]: signalling messages (docs/protocol.md); [`session`]: one WebSocket session;
//! * [`room`]: rooms and the registry; [`participant`]: what a participant owns;
//! * [`workers`]: one engine thread per media worker, rooms placed on them;
//! * [`media`]: an engine thread and its commands; [`streams`]: the per-packet work on it
//!   (the masker per patient stream, fan-out to the room's downlinks); [`forward`]: downlinks
//!   and the recorder tap;
//! * [`chat`]/[`relay`]: data-channel chat relay (card numbers found by `hushpay_card::chat_scan`);
//!   [`transcript`]: the encrypted transcript and audited incidents;
//! * [`ivr_audio`]: prompts on the patient's downlink and hold audio on the others while an
//!   IVR runs;
//! * [`ivr_call`]: the IVR flow running in a room (prompts, the patient's keys, hand-back);
//! * [`phone`]: a phone caller (SIP trunk) as the patient: its G.711 through the masker,
//!   transcoded to Opus for the room, the agents' audio back as G.711;
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
pub mod hand_off;
pub mod ivr_audio;
pub mod ivr_call;
pub mod keypad;
pub mod limits;
pub mod media;
pub mod participant;
pub mod payment_offer;
pub mod payments;
pub mod phone;
pub mod relay;
pub mod room;
pub mod secure;
pub mod session;
pub mod streams;
pub mod transcript;
pub mod workers;

/// Signalling messages (docs/protocol.md), from the wire-contract crate.
pub use hushpay_protocol::signal;

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};

use hushpay_store::{Store, TenantId};

use crate::metrics::Metrics;
use chat::{ChatArchive, IncidentSink};
use forward::{NoRecorder, RecorderTap};
use limits::SfuConfig;
use participant::Participant;
use room::{JoinError, Registry, Room, RoomKey, RoomSettings};

/// The SFU's shared state.
#[derive(Debug)]
pub struct Sfu {
    pub config: SfuConfig,
    /// The media workers of this node ([`workers`]); a room's peers live on its worker.
    pub media: workers::MediaWorkers,
    pub rooms: Registry,
    pub metrics: Arc<Metrics>,
    pub recorder: Arc<dyn RecorderTap>,
    pub incidents: Arc<dyn IncidentSink>,
    pub archive: Arc<dyn ChatArchive>,
    /// Where rooms' settings and ends are kept ([`crate::rooms`]).
    pub store: Arc<dyn Store>,
    /// The IVR's prompt set, encoded at the first IVR ([`ivr_call`]).
    pub ivr_prompts: tokio::sync::OnceCell<Arc<crate::ivr::config::PromptSets>>,
    tasks: Arc<AtomicI64>,
    /// Set on a node of a cluster: rooms are placed through it ([`crate::cluster`]).
    cluster: OnceLock<Arc<crate::cluster::Cluster>>,
    /// SIGTERM came: no new room opens here.
    draining: AtomicBool,
}

impl Drop for Sfu {
    fn drop(&mut self) {
        self.media.stop();
    }
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
    /// An SFU keeping chat transcripts in `archive`, auditing incidents to `incidents`
    /// ([`transcript`] has the vault-backed ones) and rooms' settings in `store`, with no
    /// recorder. Binds the media engine's ports and starts its thread.
    pub fn new(
        config: SfuConfig,
        metrics: Arc<Metrics>,
        archive: Arc<dyn ChatArchive>,
        incidents: Arc<dyn IncidentSink>,
        store: Arc<dyn Store>,
    ) -> std::io::Result<Self> {
        let media = workers::MediaWorkers::start(&config, &metrics)?;
        Ok(Self {
            rooms: Registry::with_workers(config.workers),
            media,
            archive,
            store,
            config,
            metrics,
            recorder: Arc::new(NoRecorder),
            incidents,
            ivr_prompts: tokio::sync::OnceCell::new(),
            tasks: Arc::new(AtomicI64::new(0)),
            cluster: OnceLock::new(),
            draining: AtomicBool::new(false),
        })
    }

    /// The cluster this node is part of, if any.
    pub fn cluster(&self) -> Option<&Arc<crate::cluster::Cluster>> {
        self.cluster.get()
    }

    pub fn set_cluster(&self, cluster: Arc<crate::cluster::Cluster>) {
        let _ = self.cluster.set(cluster);
    }

    /// True once a drain started.
    pub fn draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Starts a drain: rooms open here go on, no new room opens (in a cluster, joins for new
    /// rooms are sent to other nodes).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Release);
    }

    /// A room about to open here counts against its tenant's limit with the tenant's rooms on
    /// every other node (this node's own are counted when it opens). Over the limit the
    /// placement is released and the join refused.
    async fn within_cluster_room_limit(
        &self,
        cluster: &crate::cluster::Cluster,
        key: &RoomKey,
    ) -> Result<(), JoinError> {
        let elsewhere = match cluster.rooms_elsewhere(&key.tenant).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "cluster room count unavailable; join refused");
                return Err(JoinError::ClusterUnavailable);
            }
        };
        if elsewhere + self.rooms.count_for(&key.tenant) >= self.config.max_rooms_per_tenant {
            if let Err(e) = cluster.directory.release(key).await {
                tracing::warn!(error = %e, "refused room's placement not released");
            }
            return Err(JoinError::TooManyRooms);
        }
        Ok(())
    }

    /// Where a join for `key` goes when the room is not open here: here, another node, or
    /// nowhere (draining single node, or cut off from the cluster).
    pub async fn place(&self, key: &RoomKey) -> Result<(), JoinError> {
        if self.rooms.get(key).is_some() {
            return Ok(());
        }
        let Some(cluster) = self.cluster() else {
            return if self.draining() {
                Err(JoinError::Draining)
            } else {
                Ok(())
            };
        };
        match cluster.place(key, self.draining()).await {
            Ok(crate::cluster::Placement::Here) => {
                self.within_cluster_room_limit(cluster, key).await
            }
            Ok(crate::cluster::Placement::Elsewhere(node)) => {
                Err(JoinError::Elsewhere(Box::new(node)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "room placement unavailable; join refused");
                Err(JoinError::ClusterUnavailable)
            }
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

    /// Admits `p`, whose token was issued at `issued_at` (unix seconds), to its room: the
    /// room's stored settings are read first (a token issued before the room's end is
    /// refused, and so is every join while the store cannot be read), then the room opens
    /// with them if this join is the first.
    pub async fn join(
        &self,
        key: &RoomKey,
        issued_at: u64,
        p: Arc<Participant>,
    ) -> Result<Arc<Room>, JoinError> {
        let tenant = TenantId::new(key.tenant.as_str());
        let now = i64::try_from(hushpay_auth::unix_now()).unwrap_or(i64::MAX);
        let settings = crate::rooms::admit(self.store.as_ref(), &tenant, &key.name, issued_at, now)
            .await
            .map_err(|e| match e {
                crate::rooms::AdmitError::Ended => JoinError::Ended,
                crate::rooms::AdmitError::UnknownTenant => JoinError::UnknownTenant,
                e => {
                    tracing::error!(error = %e, "room settings unreadable; join refused");
                    JoinError::StoreUnavailable
                }
            })?;
        self.place(key).await?;
        let c = &self.config;
        let (room, created) = self.rooms.join(
            key,
            settings,
            issued_at,
            p,
            c.max_rooms_per_tenant,
            c.max_participants_per_room,
        )?;
        if created {
            self.recorder.room_opened(&room);
        }
        Ok(room)
    }

    /// Opens a room the tenant created (its settings stored already) until it has been empty
    /// for the grace period. `None` when it is open already.
    pub fn open_room(
        self: &Arc<Self>,
        key: RoomKey,
        settings: RoomSettings,
    ) -> Result<Option<Arc<Room>>, JoinError> {
        let room = self
            .rooms
            .create(key, settings, self.config.max_rooms_per_tenant)?;
        if let Some(room) = &room {
            self.recorder.room_opened(room);
            self.schedule_empty_close(room.key.clone());
            self.update_gauges();
        }
        Ok(room)
    }

    /// Ends a room now (its end stored at `ended_at`): tokens issued before are refused from
    /// now on; participants are told and released (the transcript stays stored). False when
    /// it was not open.
    pub async fn end_room(&self, key: &RoomKey, reason: &str, ended_at: i64) -> bool {
        let Some(room) = self.rooms.end(key, ended_at) else {
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
        if let Some(cluster) = self.cluster()
            && let Err(e) = cluster.directory.release(&room.key).await
        {
            tracing::warn!(error = %e, "closed room's placement not released");
        }
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
