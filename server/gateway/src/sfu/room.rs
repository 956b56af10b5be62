//! Rooms and their registry. A room is keyed by (tenant, name): a token of another tenant
//! naming the same room reaches a different room, and the room endpoints never show another
//! tenant's room.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hushpay_auth::Role;
use hushpay_card::chat_scan::{ChatScanner, Verdict};
use hushpay_media::masker::DigitEvent;
use serde::Serialize;
use tokio::sync::watch;

use super::participant::Participant;
use super::signal::ServerMessage;

/// A room's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RoomKey {
    pub tenant: String,
    pub name: String,
}

/// What a room opens with, from its stored record and its tenant's policy
/// ([`crate::rooms`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomSettings {
    /// Nothing is recorded before the patient's consent.
    pub require_recording_consent: bool,
    /// The consent was recorded already (it is the patient's, for this room's call).
    pub consent_given: bool,
}

/// A room's recording consent. The recorder checks [`RoomConsent::pending`] on every packet:
/// the requirement belongs to the room itself, from its creation, so no close, reopen or
/// lost message can drop it.
#[derive(Debug, Default)]
pub struct RoomConsent {
    required: bool,
    given: AtomicBool,
}

impl RoomConsent {
    fn new(settings: RoomSettings) -> Self {
        Self {
            required: settings.require_recording_consent,
            given: AtomicBool::new(settings.consent_given),
        }
    }

    pub fn required(&self) -> bool {
        self.required
    }

    pub fn given(&self) -> bool {
        self.given.load(Ordering::Acquire)
    }

    /// True while nothing may be recorded: consent is required and not given.
    pub fn pending(&self) -> bool {
        self.required && !self.given()
    }

    /// Records the consent (after it was stored).
    pub fn give(&self) {
        self.given.store(true, Ordering::Release);
    }
}

/// One call.
#[derive(Debug)]
pub struct Room {
    pub key: RoomKey,
    /// The media worker every peer of the room lives on (placed when the room opened).
    pub worker: usize,
    pub created_at: i64,
    pub created_by_backend: bool,
    /// Recording consent, set from the stored settings when the room opened.
    pub consent: RoomConsent,
    /// Whether an IVR runs here ([`super::ivr_audio`]).
    pub ivr: super::ivr_audio::RoomIvr,
    /// Secure collection for a keyed payment ([`super::secure`]).
    pub secure: super::secure::RoomSecure,
    /// Keys the masker heard on the patient's stream outside a collection: counted, never kept.
    digits_keyed: AtomicU64,
    state: Mutex<RoomState>,
    closed_tx: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct RoomState {
    participants: BTreeMap<String, Arc<Participant>>,
    empty_since: Option<Instant>,
    /// Card numbers in the room's chat, per sender (split numbers included).
    chat_scanner: ChatScanner<String>,
}

/// The room as `GET /v1/rooms/{id}` shows it (in a cluster also `node`: the id of the node
/// holding the open room, null when none does).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[schema(as = Room)]
pub struct RoomView {
    /// The room name (what `room` in participant tokens names).
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Who is in the call now.
    #[schema(value_type = Vec<crate::openapi::schemas::ParticipantInfo>)]
    pub participants: Vec<super::signal::ParticipantInfo>,
    /// Whether a call is open in the room now (a stored room that is not open shows false).
    pub open: bool,
    pub require_recording_consent: bool,
    pub recording_consent_given: bool,
    /// When the tenant last ended the room (unix seconds): tokens issued at or before it
    /// do not open it again.
    pub ended_at: Option<i64>,
}

impl Room {
    fn new(key: RoomKey, by_backend: bool, settings: RoomSettings, worker: usize) -> Self {
        let (closed_tx, _) = watch::channel(false);
        Self {
            key,
            worker,
            created_at: unix_ms() / 1000,
            created_by_backend: by_backend,
            consent: RoomConsent::new(settings),
            ivr: Default::default(),
            secure: Default::default(),
            digits_keyed: AtomicU64::new(0),
            state: Mutex::default(),
            closed_tx,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, RoomState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn participants(&self) -> Vec<Arc<Participant>> {
        self.lock().participants.values().cloned().collect()
    }

    pub fn participant_count(&self) -> usize {
        self.lock().participants.len()
    }

    /// The open room's view; `ended_at` comes from its stored record.
    pub fn view(&self, ended_at: Option<i64>) -> RoomView {
        RoomView {
            id: self.key.name.clone(),
            created_at: self.created_at,
            participants: self.participants().iter().map(|p| p.info()).collect(),
            open: true,
            require_recording_consent: self.consent.required(),
            recording_consent_given: self.consent.given(),
            ended_at,
        }
    }

    /// Participants of `roles`, other than `except`.
    pub fn with_roles(&self, roles: &[Role], except: &str) -> Vec<Arc<Participant>> {
        self.lock()
            .participants
            .values()
            .filter(|p| roles.contains(&p.role) && p.id != except)
            .cloned()
            .collect()
    }

    /// Sends `msg` to every participant but `except`.
    pub fn broadcast(&self, msg: &ServerMessage, except: &str) {
        for p in self.participants() {
            if p.id != except {
                p.send(msg.clone());
            }
        }
    }

    /// A key the masker heard outside a collection (issue 12, finding 4): the room counts it
    /// and forgets it. Keys that matter (a field of a payment) go to the secure session's
    /// collector, never here; nothing in the room retains which key was pressed.
    pub fn digit_keyed(&self, _key: DigitEvent) {
        self.digits_keyed.fetch_add(1, Ordering::Relaxed);
    }

    /// How many keys were heard outside a collection (a count, no values).
    pub fn digits_keyed(&self) -> u64 {
        self.digits_keyed.load(Ordering::Relaxed)
    }

    /// Looks for card numbers in chat message `id` of `participant` (see
    /// [`hushpay_card::chat_scan::ChatScanner`]): what to relay and store, and what to retract.
    pub fn scan_chat(&self, participant: &str, id: &str, text: &str) -> Verdict<String> {
        self.lock()
            .chat_scanner
            .inspect(participant, id.to_owned(), text)
    }

    pub fn is_closed(&self) -> bool {
        *self.closed_tx.borrow()
    }

    /// Resolves when the room is closed.
    pub fn closed(&self) -> watch::Receiver<bool> {
        self.closed_tx.subscribe()
    }

    fn close(&self) {
        self.closed_tx.send_replace(true);
    }
}

/// Why a join was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// (Cluster) the room is on another node: join there.
    Elsewhere(Box<crate::cluster::NodeEntry>),
    /// (Cluster) this node lost the cluster and cannot tell where the room is.
    ClusterUnavailable,
    /// This node drains (SIGTERM) and takes no new room.
    Draining,
    RoomFull,
    TooManyRooms,
    RoleTaken,
    Closed,
    /// The tenant ended the room after the token was issued (`room_ended`).
    Ended,
    /// The room's stored settings could not be read: the room is not opened without them.
    StoreUnavailable,
    /// The token's tenant does not exist.
    UnknownTenant,
}

/// How long an end is remembered in memory. The store keeps it for good; this only covers a
/// join that read the store just before the end was written and reaches the registry after.
const END_BARRIER: Duration = Duration::from_secs(60);

/// All rooms of this gateway.
#[derive(Debug, Default)]
pub struct Registry {
    rooms: Mutex<Rooms>,
    /// Media workers rooms are placed on (0 is taken as 1).
    workers: usize,
    /// Rooms placed so far (round robin).
    placed: AtomicU64,
}

#[derive(Debug, Default)]
struct Rooms {
    open: HashMap<RoomKey, Arc<Room>>,
    /// Rooms ended lately: (ended at, unix seconds; when, for pruning).
    ended: HashMap<RoomKey, (i64, Instant)>,
}

impl Registry {
    /// A registry placing rooms on `workers` media workers in turn.
    pub fn with_workers(workers: usize) -> Self {
        Self {
            workers,
            ..Self::default()
        }
    }

    /// The media worker of the next room.
    fn place(&self) -> usize {
        let n = self.placed.fetch_add(1, Ordering::Relaxed);
        (n % self.workers.max(1) as u64) as usize
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Rooms> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &RoomKey) -> Option<Arc<Room>> {
        self.lock().open.get(key).cloned()
    }

    pub fn count(&self) -> usize {
        self.lock().open.len()
    }

    pub fn count_for(&self, tenant: &str) -> usize {
        self.lock()
            .open
            .keys()
            .filter(|k| k.tenant == tenant)
            .count()
    }

    pub fn all(&self) -> Vec<Arc<Room>> {
        self.lock().open.values().cloned().collect()
    }

    /// Creates a room (backend call) with `settings`. `None` if it exists; `Err` over the
    /// tenant's limit.
    pub fn create(
        &self,
        key: RoomKey,
        settings: RoomSettings,
        max_rooms: usize,
    ) -> Result<Option<Arc<Room>>, JoinError> {
        let mut rooms = self.lock();
        if rooms.open.contains_key(&key) {
            return Ok(None);
        }
        if rooms.open.keys().filter(|k| k.tenant == key.tenant).count() >= max_rooms {
            return Err(JoinError::TooManyRooms);
        }
        let room = Arc::new(Room::new(key.clone(), true, settings, self.place()));
        room.lock().empty_since = Some(Instant::now());
        rooms.open.insert(key, Arc::clone(&room));
        Ok(Some(room))
    }

    /// Adds `p` (its token issued at `issued_at`, unix seconds) to its room, creating the room
    /// with `settings` on first join; true when it was created. A token issued at or before a
    /// recent end of the room is refused.
    pub fn join(
        &self,
        key: &RoomKey,
        settings: RoomSettings,
        issued_at: u64,
        p: Arc<Participant>,
        max_rooms: usize,
        max_participants: usize,
    ) -> Result<(Arc<Room>, bool), JoinError> {
        let mut rooms = self.lock();
        if rooms
            .ended
            .get(key)
            .is_some_and(|&(at, _)| issued_at_or_before(issued_at, at))
        {
            return Err(JoinError::Ended);
        }
        let (room, created) = match rooms.open.get(key) {
            Some(r) => (Arc::clone(r), false),
            None => {
                if rooms.open.keys().filter(|k| k.tenant == key.tenant).count() >= max_rooms {
                    return Err(JoinError::TooManyRooms);
                }
                let r = Arc::new(Room::new(key.clone(), false, settings, self.place()));
                rooms.open.insert(key.clone(), Arc::clone(&r));
                (r, true)
            }
        };
        if room.is_closed() {
            return Err(JoinError::Closed);
        }
        let mut st = room.lock();
        if st.participants.len() >= max_participants {
            return Err(JoinError::RoomFull);
        }
        // One patient stream per room: the masker, the recorder and the payment session
        // follow one patient.
        if p.role == Role::Patient && st.participants.values().any(|q| q.role == Role::Patient) {
            return Err(JoinError::RoleTaken);
        }
        st.participants.insert(p.id.clone(), p);
        st.empty_since = None;
        drop(st);
        Ok((room, created))
    }

    /// Removes a participant; returns true if the room is now empty.
    pub fn leave(&self, room: &Room, participant: &str) -> bool {
        let mut st = room.lock();
        st.participants.remove(participant);
        st.chat_scanner.forget(participant);
        let empty = st.participants.is_empty();
        if empty {
            st.empty_since = Some(Instant::now());
        }
        empty
    }

    /// Removes the room if it has been empty since at least `since` (grace expired).
    pub fn close_if_empty(&self, key: &RoomKey, grace: std::time::Duration) -> Option<Arc<Room>> {
        let mut rooms = self.lock();
        let room = rooms.open.get(key)?;
        let expired = {
            let st = room.lock();
            st.participants.is_empty() && st.empty_since.is_some_and(|t| t.elapsed() >= grace)
        };
        if !expired {
            return None;
        }
        let room = rooms.open.remove(key)?;
        room.close();
        Some(room)
    }

    /// Ends a room now (backend `DELETE`; the end was stored at `ended_at`, unix seconds):
    /// tokens issued at or before it are refused from now on. Returns the room if it was
    /// open, so the caller can release participants.
    pub fn end(&self, key: &RoomKey, ended_at: i64) -> Option<Arc<Room>> {
        let mut rooms = self.lock();
        rooms.ended.retain(|_, (_, t)| t.elapsed() < END_BARRIER);
        let at = rooms
            .ended
            .get(key)
            .map_or(ended_at, |&(a, _)| a.max(ended_at));
        rooms.ended.insert(key.clone(), (at, Instant::now()));
        let room = rooms.open.remove(key)?;
        room.close();
        Some(room)
    }
}

/// True when a token issued at `issued_at` predates (or may predate) an end at `ended_at`:
/// both are whole seconds, so a token of the end's own second is refused too (fail closed).
pub fn issued_at_or_before(issued_at: u64, ended_at: i64) -> bool {
    i64::try_from(issued_at).is_ok_and(|iat| iat <= ended_at)
}

pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
