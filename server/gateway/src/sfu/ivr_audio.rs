//! IVR audio on a room's downlinks (docs/protocol.md, "IVR payments").
//!
//! Every [`Downlink`] sends through a [`Splice`]: a [`hushpay_prompts::player::Player`] that
//! passes forwarded packets through unchanged until an IVR first plays on it, and from then on
//! keeps one continuous RTP stream (sequence numbers +1 per packet across every switch,
//! timestamps with real time) whether it carries forwarded audio or prompts.
//!
//! While an IVR runs in a room ([`IvrAudio::start`] to [`IvrAudio::stop`]):
//!
//! * the patient's downlink plays the prompts the call queues (silence between them) instead
//!   of the agents' audio; a phone caller has no downlink but a [`PhoneEar`], the channel to
//!   its own task (which turns the prompts into G.711 like the agents' audio), and hears the
//!   prompts there instead of the agents ([`super::streams`] stops the agents' audio to it);
//! * every agent's and supervisor's patient downlink plays hold audio (the `hold` prompt
//!   looped, or silence) instead of the patient's audio, including the downlink of anyone who
//!   joins meanwhile ([`RoomIvr::is_active`] stops the patient's audio reaching a downlink
//!   before the pacing task has put it on hold);
//! * one task per room paces all of it: each downlink's next 20 ms packet is sent when due.
//!
//! Stopping hands the downlinks back to forwarding, each continuing its stream.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use hushpay_auth::Role;
use hushpay_prompts::player::{FRAME, OutPacket, Output, Player};
use hushpay_prompts::prompt::Clip;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::Sfu;
use super::forward::Downlink;
use super::participant::{Participant, Source};
use super::room::Room;

/// The sending side of one downlink (see the module docs).
///
/// Until an IVR first plays on it, a downlink forwards packets as they are numbered, without
/// the player: the engine thread only records the last packet sent (one atomic word, no
/// lock). The first [`Splice::play`] *engages* the player, which continues the stream after
/// that packet; from then on every packet goes through it.
#[derive(Debug)]
pub struct Splice {
    /// [`ENGAGED`] | [`SENT`] | last sequence number << 32 | last timestamp.
    state: AtomicU64,
    /// When the last packet went out, in nanoseconds after `epoch` (read only on engaging).
    last_at: AtomicU64,
    epoch: Instant,
    player: Mutex<Player>,
}

/// The player numbers every packet from now on.
const ENGAGED: u64 = 1 << 63;
/// A packet has been forwarded (the low 48 bits say which).
const SENT: u64 = 1 << 62;

impl Default for Splice {
    fn default() -> Self {
        Self {
            state: AtomicU64::new(0),
            last_at: AtomicU64::new(0),
            epoch: Instant::now(),
            player: Mutex::new(Player::new(rand::random(), rand::random())),
        }
    }
}

fn newer(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) > 0
}

impl Splice {
    fn lock(&self) -> MutexGuard<'_, Player> {
        self.player.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The player, engaged: it continues after the last packet forwarded without it.
    fn engage(&self) -> MutexGuard<'_, Player> {
        let mut p = self.lock();
        let was = self.state.fetch_or(ENGAGED, Ordering::AcqRel);
        if was & ENGAGED == 0 && was & SENT != 0 {
            let at =
                self.epoch + std::time::Duration::from_nanos(self.last_at.load(Ordering::Acquire));
            p.continue_after((was >> 32) as u16, was as u32, at);
        }
        p
    }

    /// The sequence number and timestamp a forwarded packet goes out with; `None` while an
    /// IVR plays on this downlink (the packet is dropped).
    pub fn forward(&self, now: Instant, sequence: u16, timestamp: u32) -> Option<(u16, u32)> {
        let mut cur = self.state.load(Ordering::Acquire);
        loop {
            if cur & ENGAGED != 0 {
                return self.lock().forward(now, sequence, timestamp);
            }
            if cur & SENT != 0 && !newer(sequence, (cur >> 32) as u16) {
                return Some((sequence, timestamp)); // reordered: not the last one sent
            }
            let next = SENT | (u64::from(sequence) << 32) | u64::from(timestamp);
            match self
                .state
                .compare_exchange_weak(cur, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    let at = now.saturating_duration_since(self.epoch).as_nanos();
                    self.last_at
                        .store(u64::try_from(at).unwrap_or(u64::MAX), Ordering::Release);
                    return Some((sequence, timestamp));
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// Starts playing at `now`: queued clips, else `filler` looped (`None`: silence).
    fn play(&self, now: Instant, filler: Option<&Arc<Clip>>) {
        let mut p = self.engage();
        p.set_filler(filler);
        p.start(now);
    }

    /// Back to forwarding (the queue is dropped).
    fn resume(&self) {
        let mut p = self.lock();
        p.stop();
        p.set_filler(None);
    }

    fn enqueue(&self, clips: &[Arc<Clip>], mark: u64) {
        let mut p = self.lock();
        for c in clips {
            p.enqueue(c);
        }
        p.mark(mark);
    }

    fn clear(&self) {
        self.lock().clear();
    }

    /// What is due at `now`: packets, marks passed, and when to come back.
    fn due(&self, now: Instant) -> (Vec<OutPacket>, Option<u64>, Option<Instant>) {
        let mut p = self.lock();
        p.handle_timeout(now);
        let (mut packets, mut mark) = (Vec::new(), None);
        loop {
            match p.poll_output() {
                Some(Output::Packet(k)) => packets.push(k),
                Some(Output::Mark(m)) => mark = Some(m),
                Some(Output::Timeout(t)) => return (packets, mark, Some(t)),
                Some(_) | None => return (packets, mark, None),
            }
        }
    }
}

/// Whether an IVR runs in a room (one at a time).
#[derive(Debug, Default)]
pub struct RoomIvr(AtomicBool);

impl RoomIvr {
    /// True while an IVR runs: the patient's audio goes to no downlink.
    pub fn is_active(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn claim(&self) -> bool {
        self.0
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    fn release(&self) {
        self.0.store(false, Ordering::Release);
    }
}

/// Why the IVR's audio cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error("an IVR is already running in this room")]
    Busy,
    #[error("the room's patient has no audio downlink")]
    NoPatientAudio,
}

/// A phone caller's ear for the IVR: the player pacing its prompts, and the channel to the
/// caller's task that also carries the agents' audio (Opus payloads; the task makes them
/// G.711 and numbers its own stream).
#[derive(Debug)]
pub struct PhoneEar {
    splice: Splice,
    tx: mpsc::Sender<Arc<[u8]>>,
}

impl PhoneEar {
    pub fn new(tx: mpsc::Sender<Arc<[u8]>>) -> Self {
        Self {
            splice: Splice::default(),
            tx,
        }
    }
}

/// Where the patient hears the IVR: its WebRTC downlink, or a phone caller's task.
#[derive(Debug, Clone)]
pub enum Ear {
    Downlink(Arc<Downlink>),
    Phone(Arc<PhoneEar>),
}

impl Ear {
    fn splice(&self) -> &Splice {
        match self {
            Ear::Downlink(d) => &d.splice,
            Ear::Phone(p) => &p.splice,
        }
    }

    /// Sends one prompt packet; a caller's task that is behind loses it.
    fn write(&self, k: &OutPacket) {
        match self {
            Ear::Downlink(d) => {
                d.write(k.marker, k.sequence, k.timestamp, Arc::from(&k.payload[..]));
            }
            Ear::Phone(p) => {
                let _ = p.tx.try_send(Arc::from(&k.payload[..]));
            }
        }
    }
}

/// The audio side of one running IVR: queue prompts to the patient, wait for them, stop.
#[derive(Debug)]
pub struct IvrAudio {
    room: Arc<Room>,
    patient: Ear,
    next_mark: u64,
    marks: watch::Receiver<u64>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl IvrAudio {
    /// Takes over the room's downlinks for an IVR with `patient`: from now on the patient
    /// hears prompts (silence until one is queued), agents and supervisors `hold` (looped;
    /// `None`: silence).
    pub fn start(
        sfu: &Arc<Sfu>,
        room: &Arc<Room>,
        patient: &Participant,
        hold: Option<Arc<Clip>>,
    ) -> Result<IvrAudio, StartError> {
        let ear = patient.ear().ok_or(StartError::NoPatientAudio)?;
        if !room.ivr.claim() {
            return Err(StartError::Busy);
        }
        let now = Instant::now();
        ear.splice().play(now, None);
        let held = put_on_hold(room, &[], now, hold.as_ref());
        let (marks_tx, marks) = watch::channel(0);
        let (stop, stop_rx) = watch::channel(false);
        let task = tokio::spawn(pace(
            Arc::clone(sfu),
            Arc::clone(room),
            ear.clone(),
            held,
            hold,
            marks_tx,
            stop_rx,
        ));
        Ok(IvrAudio {
            room: Arc::clone(room),
            patient: ear,
            next_mark: 0,
            marks,
            stop,
            task: Some(task),
        })
    }

    /// Queues `clips` for the patient after what is queued; the id [`Self::played`] waits for.
    pub fn play(&mut self, clips: &[Arc<Clip>]) -> u64 {
        self.next_mark += 1;
        self.patient.splice().enqueue(clips, self.next_mark);
        self.next_mark
    }

    /// Drops every queued prompt (the patient keyed over them): silence follows at once.
    pub fn clear(&mut self) {
        self.patient.splice().clear();
    }

    /// Resolves once everything queued up to `mark` has been sent. Never resolves for a mark
    /// dropped by [`Self::clear`].
    pub async fn played(&mut self, mark: u64) {
        let _ = self.marks.wait_for(|m| *m >= mark).await;
    }

    /// Ends the IVR's audio: every downlink it took over forwards again, continuing its
    /// stream. Returns once that is so.
    pub async fn stop(mut self) {
        self.stop.send_replace(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for IvrAudio {
    fn drop(&mut self) {
        // A call dropped without `stop` (its task aborted) still hands the downlinks back.
        if let Some(task) = self.task.take() {
            task.abort();
            self.patient.splice().resume();
            for p in self.room.with_roles(&[Role::Agent, Role::Supervisor], "") {
                if let Some(d) = p.downlink(Source::Patient) {
                    d.splice.resume();
                }
            }
            self.room.ivr.release();
        }
    }
}

/// Puts the patient downlinks of agents and supervisors not in `held` on hold; the new ones.
fn put_on_hold(
    room: &Room,
    held: &[Arc<Downlink>],
    now: Instant,
    hold: Option<&Arc<Clip>>,
) -> Vec<Arc<Downlink>> {
    let mut new = Vec::new();
    for p in room.with_roles(&[Role::Agent, Role::Supervisor], "") {
        let Some(d) = p.downlink(Source::Patient) else {
            continue;
        };
        if !held.iter().any(|h| Arc::ptr_eq(h, &d)) {
            d.splice.play(now, hold);
            new.push(d);
        }
    }
    new
}

/// Sends every downlink's packets when due until told to stop, then hands them back.
async fn pace(
    sfu: Arc<Sfu>,
    room: Arc<Room>,
    patient: Ear,
    mut held: Vec<Arc<Downlink>>,
    hold: Option<Arc<Clip>>,
    marks: watch::Sender<u64>,
    mut stop: watch::Receiver<bool>,
) {
    let _guard = sfu.task_guard();
    while !*stop.borrow() {
        let now = Instant::now();
        let joined = put_on_hold(&room, &held, now, hold.as_ref());
        held.extend(joined);
        let mut wake = now + FRAME;
        let (packets, mark, due) = patient.splice().due(now);
        for k in &packets {
            patient.write(k);
        }
        let mut sent = packets.len();
        if let Some(m) = mark {
            marks.send_replace(m);
        }
        if let Some(t) = due {
            wake = wake.min(t);
        }
        for d in &held {
            let (packets, _, due) = d.splice.due(now);
            for k in &packets {
                d.write(k.marker, k.sequence, k.timestamp, Arc::from(&k.payload[..]));
            }
            sent += packets.len();
            if let Some(t) = due {
                wake = wake.min(t);
            }
        }
        sfu.metrics
            .sfu
            .packets_out
            .fetch_add(sent as u64, Ordering::Relaxed);
        tokio::select! {
            () = tokio::time::sleep_until(wake.into()) => {}
            _ = stop.changed() => {}
        }
    }
    patient.splice().resume();
    for d in &held {
        d.splice.resume();
    }
    room.ivr.release();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_downlink_forwards_without_the_player_and_the_ivr_continues_its_stream() {
        let t0 = Instant::now();
        let splice = Splice::default();
        for i in 0..5u16 {
            let at = t0 + FRAME * u32::from(i);
            let (seq, ts) = (65_533u16.wrapping_add(i), 1_000 + u32::from(i) * 960);
            assert_eq!(
                splice.forward(at, seq, ts),
                Some((seq, ts)),
                "passed through"
            );
        }
        // A late, reordered packet goes out as it is and is not taken as the last one.
        assert_eq!(
            splice.forward(t0 + FRAME * 5, 65_534, 1_960),
            Some((65_534, 1_960))
        );
        // The IVR takes over 20 ms after the last packet (seq 1, ts 1000 + 4 * 960).
        let start = t0 + FRAME * 5;
        splice.play(start, None);
        let (packets, _, _) = splice.due(start);
        assert_eq!(packets.len(), 1);
        assert_eq!(
            (packets[0].sequence, packets[0].timestamp),
            (2, 1_000 + 5 * 960),
            "the prompt continues the forwarded stream"
        );
        assert_eq!(
            splice.forward(start, 2, 5_800),
            None,
            "dropped while playing"
        );
        splice.resume();
        let back = start + FRAME + Duration::from_millis(1);
        assert_eq!(
            splice.forward(back, 3, 6_760),
            Some((3, 1_000 + 6 * 960)),
            "forwarding resumes after the prompt"
        );
    }
}
