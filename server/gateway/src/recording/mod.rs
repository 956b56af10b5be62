//! Call recording: post-mask audio of every room into encrypted containers
//! (`hushpay-recording`), paused fail-closed for payments. See docs/recording.md.
//!
//! * [`Recorder`] is the SFU's [`RecorderTap`]: on the forwarding task it checks the room's
//!   [`windows`] and hands the packet to the track's writer over a bounded channel with
//!   `try_send` (never blocking; a full channel drops the packet and counts it);
//! * [`track`]: one writer task per track (sealed chunk every `chunk_ms`, fsync'd);
//! * [`meta`]: one task per recording (key wrapped by the vault, signed metadata);
//! * payment changes arrive through [`ChangeHook`], called synchronously by the payment
//!   service *before* the change is broadcast or answered: the window is closed before
//!   anyone can ask the patient for a field. Terminal states reopen it;
//! * agents pause and resume by hand (signalling message `recording`), rooms may require
//!   consent first; every pause and resume is audited;
//! * [`export`]: decrypt, decode, mix to WAV or Ogg Opus; [`retention`]: the sweeper (one
//!   node at a time per recording, leased in the store); [`keys`]: wrapping and signing keys;
//! * [`objects`]: the object store that holds the containers (a local directory, or an
//!   S3-compatible bucket shared by the nodes of a cluster); [`files`]: their layout in it.
//!   Every recording is indexed in the store ([`hushpay_store::RecordingRecord`]), so any
//!   node lists, verifies, exports and sweeps what any node wrote.

pub mod config;
pub mod export;
pub mod files;
pub mod keys;
pub mod meta;
pub mod objects;
pub mod ogg;
pub mod pause;
pub mod retention;
pub mod track;
pub mod windows;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Instant;

use hushpay_auth::Role;
use hushpay_media::rtp::RtpPacket;
use hushpay_recording::{RecordedPacket, RecordingKey, TrackInfo};
use hushpay_store::RecordingStore;
use hushpay_vault::Vault;
use object_store::path::Path as ObjectPath;
use tokio::sync::{mpsc, watch};

use crate::metrics::Metrics;
use crate::payments::changes::{ChangeHook, PaymentChange};
use crate::sfu::Sfu;
use crate::sfu::forward::RecorderTap;
use crate::sfu::room::{Room, RoomKey, unix_ms};
use crate::sfu::signal::{RecordingState, ServerMessage};
pub use config::RecordingConfig;
use meta::{MetaEvent, Setup};
pub use pause::{NotAudited, PauseAudit};
use track::TrackMsg;
use windows::Windows;

/// Audit action of a pause.
pub const AUDIT_PAUSE: &str = "recording.pause";
/// Audit action of a resume.
pub const AUDIT_RESUME: &str = "recording.resume";

/// The recorder (one per gateway).
#[derive(Debug)]
pub struct Recorder {
    config: RecordingConfig,
    vault: Arc<Vault>,
    /// The recording index.
    store: Arc<dyn RecordingStore>,
    /// Where the containers are written and read.
    objects: Arc<objects::Containers>,
    /// Where pauses and resumes are audited (the vault's log).
    audit: Arc<dyn PauseAudit>,
    metrics: Arc<Metrics>,
    rooms: Mutex<HashMap<RoomKey, RoomEntry>>,
    sfu: OnceLock<Weak<Sfu>>,
    /// This recorder, for the tasks that reopen windows after their audit.
    me: OnceLock<Weak<Recorder>>,
    /// Metadata tasks still running (a recording is finished when its task ends).
    live: Arc<std::sync::atomic::AtomicUsize>,
    /// Set at shutdown: nothing new starts.
    closing: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct RoomEntry {
    windows: Windows,
    recording: Option<Active>,
}

/// A recording in progress.
#[derive(Debug)]
struct Active {
    id: String,
    room_ptr: usize,
    started: Instant,
    key: RecordingKey,
    /// The recording's key prefix in the object store.
    prefix: ObjectPath,
    tracks: HashMap<String, mpsc::Sender<TrackMsg>>,
    meta: mpsc::UnboundedSender<MetaEvent>,
    setup: watch::Receiver<Setup>,
}

impl Active {
    fn now_ms(&self) -> u32 {
        track::clock_ms(self.started, Instant::now())
    }

    /// Ends the recording: the writers see their channels close and seal the final chunk.
    fn end(self) {
        let _ = self.meta.send(MetaEvent::End {
            at_ms: self.now_ms(),
        });
    }
}

impl Recorder {
    pub fn new(
        config: RecordingConfig,
        vault: Arc<Vault>,
        store: Arc<dyn RecordingStore>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            objects: Arc::new(objects::Containers::new(config.backend.clone())),
            config,
            audit: Arc::clone(&vault) as Arc<dyn PauseAudit>,
            vault,
            store,
            metrics,
            rooms: Mutex::default(),
            sfu: OnceLock::new(),
            me: OnceLock::new(),
            live: Arc::default(),
            closing: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// Ends every recording in progress (graceful shutdown) and waits up to `within` for
    /// their final chunks and metadata. True when all finished.
    pub async fn shutdown(&self, within: std::time::Duration) -> bool {
        self.closing.store(true, Ordering::Release);
        {
            let mut rooms = self.lock();
            for entry in rooms.values_mut() {
                if let Some(rec) = entry.recording.take() {
                    rec.end();
                }
            }
        }
        let deadline = tokio::time::Instant::now() + within;
        while self.live.load(Ordering::Acquire) > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        true
    }

    pub fn config(&self) -> &RecordingConfig {
        &self.config
    }

    pub fn vault(&self) -> &Arc<Vault> {
        &self.vault
    }

    /// The recording index.
    pub fn store(&self) -> &Arc<dyn RecordingStore> {
        &self.store
    }

    /// The object store of the recording containers.
    pub fn objects(&self) -> &objects::Containers {
        &self.objects
    }

    /// Audits pauses and resumes to `audit` instead of the vault's log (tests use a log
    /// that is down).
    pub fn with_audit(mut self, audit: Arc<dyn PauseAudit>) -> Self {
        self.audit = audit;
        self
    }

    /// Lets the recorder tell a room's agents about pauses.
    pub fn attach(self: &Arc<Self>, sfu: &Arc<Sfu>) {
        let _ = self.sfu.set(Arc::downgrade(sfu));
        let _ = self.me.set(Arc::downgrade(self));
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomKey, RoomEntry>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The room's recording state (`None` when it is not recorded).
    pub fn room_state(&self, key: &RoomKey) -> RecordingState {
        let rooms = self.lock();
        state_of(rooms.get(key))
    }

    fn notify(&self, key: &RoomKey, state: &RecordingState) {
        let Some(sfu) = self.sfu.get().and_then(Weak::upgrade) else {
            return;
        };
        let Some(room) = sfu.rooms.get(key) else {
            return;
        };
        let msg = ServerMessage::Recording {
            recording: state.clone(),
        };
        for p in room.with_roles(&[Role::Agent, Role::Supervisor], "") {
            p.send(msg.clone());
        }
    }

    fn start(&self, room: &Room, room_ptr: usize) -> Active {
        let id = format!("rec_{}", crate::ids::base62(24));
        let key = keys::fresh_key();
        let prefix = files::recording_prefix(&room.key.tenant, &id);
        let (setup_tx, setup_rx) = watch::channel(Setup::Pending);
        let (meta_tx, meta_rx) = mpsc::unbounded_channel();
        let metadata = meta::new_metadata(&id, &room.key.tenant, &room.key.name, unix_ms());
        if let Some(prefix) = prefix.clone() {
            let live = Arc::clone(&self.live);
            live.fetch_add(1, Ordering::AcqRel);
            let task = meta::run(
                meta::MetaCtx {
                    vault: Arc::clone(&self.vault),
                    store: Arc::clone(&self.store),
                    metrics: Arc::clone(&self.metrics),
                    prefix,
                    objects: Arc::clone(&self.objects),
                    key: key.clone(),
                    metadata,
                    setup: setup_tx,
                },
                meta_rx,
            );
            tokio::spawn(async move {
                task.await;
                live.fetch_sub(1, Ordering::AcqRel);
            });
        } else {
            // A tenant id that cannot be a key: nothing is recorded.
            setup_tx.send_replace(Setup::Failed);
        }
        self.metrics
            .recording
            .recordings
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!(recording = %id, room = %room.key.name, "recording started");
        Active {
            id,
            room_ptr,
            started: Instant::now(),
            key,
            prefix: prefix.unwrap_or_default(),
            tracks: HashMap::new(),
            meta: meta_tx,
            setup: setup_rx,
        }
    }

    fn spawn_track(
        &self,
        rec: &Active,
        room: &Room,
        participant: &str,
        role: Role,
    ) -> mpsc::Sender<TrackMsg> {
        let role_name = if role == Role::Patient {
            "patient"
        } else {
            "agent"
        };
        let track = format!("{role_name}-{participant}");
        let (tx, rx) = mpsc::channel(self.config.queue_packets);
        let _ = rec.meta.send(MetaEvent::Track(TrackInfo {
            track: track.clone(),
            role: role_name.to_owned(),
            participant: participant.to_owned(),
            chunks: None,
        }));
        tokio::spawn(track::run(
            track::TrackCtx {
                recording_id: rec.id.clone(),
                tenant: room.key.tenant.clone(),
                room: room.key.name.clone(),
                track,
                role: role_name,
                participant: participant.to_owned(),
                prefix: rec.prefix.clone(),
                objects: Arc::clone(&self.objects),
                key: rec.key.clone(),
                started: rec.started,
                chunk_ms: self.config.chunk_ms,
                setup: rec.setup.clone(),
                meta: rec.meta.clone(),
                metrics: Arc::clone(&self.metrics),
            },
            rx,
        ));
        tx
    }
}

fn state_of(entry: Option<&RoomEntry>) -> RecordingState {
    match entry {
        None => RecordingState {
            recording_id: None,
            paused: false,
            reasons: Vec::new(),
        },
        Some(e) => RecordingState {
            recording_id: e.recording.as_ref().map(|r| r.id.clone()),
            paused: !e.windows.is_open(),
            reasons: e.windows.reasons().map(|(r, _)| r.to_owned()).collect(),
        },
    }
}

#[async_trait::async_trait]
impl RecorderTap for Recorder {
    fn packet(&self, room: &Room, participant_id: &str, role: Role, rtp: &[u8], _masked: bool) {
        if room.is_closed() || self.closing.load(Ordering::Acquire) {
            return;
        }
        let Ok(pkt) = RtpPacket::parse(rtp) else {
            return;
        };
        let m = &self.metrics.recording;
        if room.consent.pending() {
            // The room needs the patient's consent and has none: nothing is recorded,
            // whatever the windows say (its `consent` window is closed too, for the state
            // agents see and the audit trail; this check is what the room itself carries
            // from its stored settings, so no close, reopen or lost message can lift it).
            m.paused.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if room.secure.is_active() {
            // Keys are being collected (keypad, IVR): never recorded, whatever the windows
            // say (the payment's window is closed already; this holds if it were not).
            m.paused.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let room_ptr = std::ptr::from_ref(room) as usize;
        let mut rooms = self.lock();
        // No key cloned per packet: the room's entry exists once the room opened.
        if !rooms.contains_key(&room.key) {
            rooms.insert(room.key.clone(), RoomEntry::default());
        }
        let Some(entry) = rooms.get_mut(&room.key) else {
            return;
        };
        if !entry.windows.is_open() {
            m.paused.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if entry
            .recording
            .as_ref()
            .is_none_or(|r| r.room_ptr != room_ptr)
        {
            if let Some(old) = entry.recording.take() {
                old.end();
            }
            entry.recording = Some(self.start(room, room_ptr));
        }
        let Some(rec) = entry.recording.as_mut() else {
            return;
        };
        let packet = RecordedPacket {
            at_ms: rec.now_ms(),
            rtp_timestamp: pkt.timestamp,
            sequence: pkt.sequence,
            payload: pkt.payload.to_vec(),
        };
        let tx = match rec.tracks.get(participant_id) {
            Some(tx) => tx.clone(),
            None => {
                let tx = self.spawn_track(rec, room, participant_id, role);
                rec.tracks.insert(participant_id.to_owned(), tx.clone());
                tx
            }
        };
        drop(rooms);
        match tx.try_send(TrackMsg::Packet(packet)) {
            Ok(()) => m.packets.fetch_add(1, Ordering::Relaxed),
            Err(_) => m.dropped.fetch_add(1, Ordering::Relaxed),
        };
    }

    async fn manual(
        &self,
        room: &Room,
        by: &str,
        pause: bool,
    ) -> Option<Result<RecordingState, NotAudited>> {
        Some(if pause {
            self.pause(&room.key, windows::MANUAL, by).await
        } else {
            self.resume(&room.key, windows::MANUAL, by).await
        })
    }

    fn state(&self, room: &Room) -> Option<RecordingState> {
        Some(self.room_state(&room.key))
    }

    fn room_opened(&self, room: &Room) {
        if room.consent.pending() {
            self.require_consent(&room.key);
        }
    }

    fn room_closed(&self, room: &Room) {
        let room_ptr = std::ptr::from_ref(room) as usize;
        // A new call may have opened under the same name before this close ran; its own
        // consent pause must survive the old call's close.
        let reopened = self
            .sfu
            .get()
            .and_then(Weak::upgrade)
            .and_then(|sfu| sfu.rooms.get(&room.key))
            .filter(|r| !std::ptr::eq(Arc::as_ptr(r), room));
        let mut rooms = self.lock();
        let Some(entry) = rooms.get_mut(&room.key) else {
            return;
        };
        if entry
            .recording
            .as_ref()
            .is_some_and(|r| r.room_ptr == room_ptr)
            && let Some(rec) = entry.recording.take()
        {
            tracing::info!(recording = %rec.id, "recording ended");
            rec.end();
        }
        entry.windows.room_closed();
        if reopened.is_some_and(|r| r.consent.pending()) {
            entry.windows.close(windows::CONSENT, "system");
        }
        if entry.windows.is_open() && entry.recording.is_none() {
            rooms.remove(&room.key);
        }
    }
}

impl ChangeHook for Recorder {
    fn on_change(&self, change: &PaymentChange) {
        let Some(name) = change.payment.room.as_deref() else {
            return;
        };
        let key = RoomKey {
            tenant: change.tenant.clone(),
            name: name.to_owned(),
        };
        let reason = windows::payment_reason(&change.payment.id);
        let pause = !change.payment.state.is_terminal();
        self.set_window_in_background(&key, &reason, "system", pause);
    }
}
