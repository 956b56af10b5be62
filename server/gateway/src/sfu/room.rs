//! Rooms and their registry. A room is keyed by (tenant, name): a token of another tenant
//! naming the same room reaches a different room, and the room endpoints never show another
//! tenant's room.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

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

/// One call.
#[derive(Debug)]
pub struct Room {
    pub key: RoomKey,
    pub created_at: i64,
    pub created_by_backend: bool,
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

/// The room as `GET /v1/rooms/{id}` shows it.
#[derive(Debug, Serialize)]
pub struct RoomView {
    pub id: String,
    pub created_at: i64,
    pub participants: Vec<super::signal::ParticipantInfo>,
}

impl Room {
    fn new(key: RoomKey, by_backend: bool) -> Self {
        let (closed_tx, _) = watch::channel(false);
        Self {
            key,
            created_at: unix_ms() / 1000,
            created_by_backend: by_backend,
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

    pub fn view(&self) -> RoomView {
        RoomView {
            id: self.key.name.clone(),
            created_at: self.created_at,
            participants: self.participants().iter().map(|p| p.info()).collect(),
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinError {
    RoomFull,
    TooManyRooms,
    RoleTaken,
    Closed,
}

/// All rooms of this gateway.
#[derive(Debug, Default)]
pub struct Registry {
    rooms: Mutex<HashMap<RoomKey, Arc<Room>>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<RoomKey, Arc<Room>>> {
        self.rooms.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn get(&self, key: &RoomKey) -> Option<Arc<Room>> {
        self.lock().get(key).cloned()
    }

    pub fn count(&self) -> usize {
        self.lock().len()
    }

    pub fn count_for(&self, tenant: &str) -> usize {
        self.lock().keys().filter(|k| k.tenant == tenant).count()
    }

    pub fn all(&self) -> Vec<Arc<Room>> {
        self.lock().values().cloned().collect()
    }

    /// Creates a room (backend call). `None` if it exists; `Err` over the tenant's limit.
    pub fn create(&self, key: RoomKey, max_rooms: usize) -> Result<Option<Arc<Room>>, JoinError> {
        let mut rooms = self.lock();
        if rooms.contains_key(&key) {
            return Ok(None);
        }
        if rooms.keys().filter(|k| k.tenant == key.tenant).count() >= max_rooms {
            return Err(JoinError::TooManyRooms);
        }
        let room = Arc::new(Room::new(key.clone(), true));
        room.lock().empty_since = Some(Instant::now());
        rooms.insert(key, Arc::clone(&room));
        Ok(Some(room))
    }

    /// Adds `p` to its room, creating the room on first join.
    pub fn join(
        &self,
        key: &RoomKey,
        p: Arc<Participant>,
        max_rooms: usize,
        max_participants: usize,
    ) -> Result<Arc<Room>, JoinError> {
        let mut rooms = self.lock();
        let room = match rooms.get(key) {
            Some(r) => Arc::clone(r),
            None => {
                if rooms.keys().filter(|k| k.tenant == key.tenant).count() >= max_rooms {
                    return Err(JoinError::TooManyRooms);
                }
                let r = Arc::new(Room::new(key.clone(), false));
                rooms.insert(key.clone(), Arc::clone(&r));
                r
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
        Ok(room)
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
        let room = rooms.get(key)?;
        let expired = {
            let st = room.lock();
            st.participants.is_empty() && st.empty_since.is_some_and(|t| t.elapsed() >= grace)
        };
        if !expired {
            return None;
        }
        let room = rooms.remove(key)?;
        room.close();
        Some(room)
    }

    /// Ends a room now (backend `DELETE`); returns it so the caller can release participants.
    pub fn end(&self, key: &RoomKey) -> Option<Arc<Room>> {
        let room = self.lock().remove(key)?;
        room.close();
        Some(room)
    }
}

pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
