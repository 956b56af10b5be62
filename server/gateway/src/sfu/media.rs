//! The SFU's media engine: one [`hushpay_rtc`] endpoint on one UDP port (`rtc.udp_port`, and
//! `rtc.tcp_port` for ICE-TCP), driven on its own thread ([`hushpay_rtc::driver`]).
//!
//! Signalling and the call logic stay on tokio and talk to the engine thread by commands
//! ([`MediaEngine`]). Audio never leaves the engine thread: a peer's packets go through the
//! [`MediaPath`] attached to it (the masker for a patient, see [`super::streams`]) and out to
//! its room's downlinks in the same turn of the loop. Its data-channel events go to the chat
//! task on the channel given when its offer was accepted. Nothing is locked per packet: a
//! command is a channel send, and the engine thread is woken only when it is not already
//! awake.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use hushpay_rtc::driver::{Driver, Worker};
use hushpay_rtc::{
    ChannelId, Endpoint, EndpointConfig, EngineError, PeerEvent, PeerId, RtpIn, RtpOut,
};
use tokio::sync::{mpsc as tokio_mpsc, oneshot};

use super::forward::Downlink;
use super::participant::Source;
use super::room::Room;
use super::streams::{MediaPath, PhoneSink, RoomLinks};
use crate::metrics::Metrics;

/// Data-channel events queued to one peer's chat task.
pub const DATA_QUEUE: usize = 64;

/// What a peer's data channels did.
#[derive(Debug)]
pub enum DataIn {
    /// A channel opened.
    Open { channel: ChannelId, label: String },
    /// A message (the receiver wipes it: chat may hold card numbers).
    Message { channel: ChannelId, data: Vec<u8> },
    /// A channel closed.
    Closed { channel: ChannelId },
    /// The peer is gone.
    Gone,
}

enum Command {
    Accept {
        offer: String,
        data: tokio_mpsc::Sender<DataIn>,
        reply: oneshot::Sender<Result<(PeerId, String), EngineError>>,
    },
    Attach {
        peer: PeerId,
        room: Arc<Room>,
        path: MediaPath,
        downlinks: Vec<Arc<Downlink>>,
    },
    Poke {
        peer: PeerId,
    },
    AttachPhone {
        room: Arc<Room>,
        phone: PhoneSink,
    },
    PhoneAudio {
        room: Arc<Room>,
        header: (bool, u16, u32),
        payload: Arc<[u8]>,
    },
    DetachPhone {
        room: Arc<Room>,
        id: u64,
    },
    Candidate {
        peer: PeerId,
        candidate: String,
    },
    Write {
        peer: PeerId,
        rtp: RtpOut,
    },
    Data {
        peer: PeerId,
        channel: ChannelId,
        data: Vec<u8>,
    },
    Close {
        peer: PeerId,
    },
    Stop,
}

/// The tokio side of the engine: cheap to clone, usable from any task.
#[derive(Clone)]
pub struct MediaEngine {
    commands: mpsc::Sender<Command>,
    waker: Arc<mio::Waker>,
    /// True while a wake is pending: senders skip the syscall then.
    awake: Arc<AtomicBool>,
    udp: SocketAddr,
    tcp: Option<SocketAddr>,
}

impl std::fmt::Debug for MediaEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaEngine")
            .field("udp", &self.udp)
            .field("tcp", &self.tcp)
            .finish_non_exhaustive()
    }
}

impl MediaEngine {
    /// Binds the engine's sockets and starts its thread, counting into `metrics`.
    pub fn start(config: EndpointConfig, metrics: Arc<Metrics>) -> io::Result<Self> {
        let driver = Driver::bind(config)?;
        let (commands, rx) = mpsc::channel();
        let awake = Arc::new(AtomicBool::new(false));
        let bound = driver.config().clone();
        let engine = Self {
            commands,
            waker: driver.waker(),
            awake: Arc::clone(&awake),
            udp: bound.udp,
            tcp: bound.tcp,
        };
        // The paths' consumers (the recorder) start tokio tasks from the engine thread.
        let runtime = tokio::runtime::Handle::try_current().ok();
        std::thread::Builder::new()
            .name("hushpay-media".to_owned())
            .spawn(move || {
                let _runtime = runtime.as_ref().map(|r| r.enter());
                let mut worker = SfuWorker {
                    commands: rx,
                    awake,
                    metrics,
                    peers: HashMap::new(),
                    rooms: HashMap::new(),
                    deadlines: BinaryHeap::new(),
                    done: false,
                };
                if let Err(e) = driver.run(&mut worker) {
                    tracing::error!(error = %e, "the media engine stopped");
                }
            })?;
        Ok(engine)
    }

    /// The UDP address every peer reaches.
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp
    }

    /// The ICE-TCP address, if enabled.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp
    }

    /// Answers `offer` with a new peer whose data-channel events go to `data`. Its audio is
    /// dropped until it is [attached](Self::attach).
    pub async fn accept(
        &self,
        offer: String,
        data: tokio_mpsc::Sender<DataIn>,
    ) -> Result<(PeerId, String), EngineError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Accept { offer, data, reply });
        rx.await
            .unwrap_or_else(|_| Err(EngineError::Peer("the media engine stopped".to_owned())))
    }

    /// A candidate the peer trickled (checked here; the engine applies it).
    pub fn candidate(&self, peer: PeerId, candidate: &str) -> Result<(), EngineError> {
        hushpay_rtc::check_candidate(candidate)?;
        self.send(Command::Candidate {
            peer,
            candidate: candidate.to_owned(),
        });
        Ok(())
    }

    /// Puts `peer` in `room`: its audio goes through `path`, and `downlinks` (audio sections
    /// of `peer`) receive the room's audio of their source from now on.
    pub fn attach(
        &self,
        peer: PeerId,
        room: Arc<Room>,
        path: MediaPath,
        downlinks: Vec<Arc<Downlink>>,
    ) {
        self.send(Command::Attach {
            peer,
            room,
            path,
            downlinks,
        });
    }

    /// The secure state of `peer`'s room changed: its path applies it now, not at its next
    /// packet.
    pub fn poke(&self, peer: PeerId) {
        self.send(Command::Poke { peer });
    }

    /// Puts a phone caller in `room`: the agents' audio goes to `phone` from now on.
    pub fn attach_phone(&self, room: Arc<Room>, phone: PhoneSink) {
        self.send(Command::AttachPhone { room, phone });
    }

    /// One masked Opus packet of a phone caller in `room` (marker, sequence number, 48 kHz
    /// timestamp), for the room's patient downlinks.
    pub fn phone_audio(&self, room: Arc<Room>, header: (bool, u16, u32), payload: Arc<[u8]>) {
        self.send(Command::PhoneAudio {
            room,
            header,
            payload,
        });
    }

    /// The phone caller `id` left `room`.
    pub fn detach_phone(&self, room: Arc<Room>, id: u64) {
        self.send(Command::DetachPhone { room, id });
    }

    /// Sends one RTP packet to `peer` (off the engine thread: the IVR's prompts).
    pub fn write(&self, peer: PeerId, rtp: RtpOut) {
        self.send(Command::Write { peer, rtp });
    }

    /// Sends one text message on a data channel of `peer`.
    pub fn send_text(&self, peer: PeerId, channel: ChannelId, text: String) {
        self.send(Command::Data {
            peer,
            channel,
            data: text.into_bytes(),
        });
    }

    /// Closes `peer`.
    pub fn close(&self, peer: PeerId) {
        self.send(Command::Close { peer });
    }

    /// Stops the engine thread (its sockets close).
    pub fn stop(&self) {
        self.send(Command::Stop);
    }

    fn send(&self, c: Command) {
        if self.commands.send(c).is_err() {
            return; // the engine thread has stopped
        }
        if !self.awake.swap(true, Ordering::AcqRel) {
            let _ = self.waker.wake();
        }
    }
}

/// One peer on the engine thread.
struct PeerState {
    data: tokio_mpsc::Sender<DataIn>,
    path: MediaPath,
    /// The room it is attached to (key of [`SfuWorker::rooms`]).
    room: Option<usize>,
    /// The path's deadline as scheduled in [`SfuWorker::deadlines`].
    scheduled: Option<Instant>,
}

/// The engine thread's worker: runs each peer's media path, applies commands, routes
/// data-channel events to their chat tasks.
struct SfuWorker {
    commands: mpsc::Receiver<Command>,
    awake: Arc<AtomicBool>,
    metrics: Arc<Metrics>,
    peers: HashMap<PeerId, PeerState>,
    /// Downlinks by room (keyed by the room's address, held alive by the entry).
    rooms: HashMap<usize, RoomLinks>,
    /// Paths' deadlines; an entry that no longer matches its peer's `scheduled` is stale.
    deadlines: BinaryHeap<Reverse<(Instant, PeerId)>>,
    done: bool,
}

fn room_key(room: &Arc<Room>) -> usize {
    Arc::as_ptr(room) as usize
}

impl SfuWorker {
    /// Runs `peer`'s path on one packet, or wakes it (`None`), and schedules its deadline.
    fn run_path(&mut self, now: Instant, ep: &mut Endpoint, peer: PeerId, rtp: Option<RtpIn>) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return;
        };
        let Some(links) = state.room.and_then(|r| self.rooms.get(&r)) else {
            self.metrics
                .sfu
                .media_unrouted
                .fetch_add(1, Ordering::Relaxed);
            return;
        };
        // A bug in a path (the masker, the recorder) costs that stream, not the worker: its
        // audio is dropped from then on (never forwarded unmasked).
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match rtp {
            Some(p) => state.path.rtp(now, ep, links, p),
            None => state.path.wake(now, ep, links),
        }));
        if ran.is_err() {
            tracing::error!(%peer, "a media path panicked; the stream's audio is dropped");
            state.path = MediaPath::Drain;
        }
        let deadline = state.path.deadline();
        if deadline != state.scheduled {
            state.scheduled = deadline;
            if let Some(at) = deadline {
                self.deadlines.push(Reverse((at, peer)));
            }
        }
    }

    fn attach(
        &mut self,
        peer: PeerId,
        room: Arc<Room>,
        path: MediaPath,
        downlinks: Vec<Arc<Downlink>>,
    ) {
        let Some(state) = self.peers.get_mut(&peer) else {
            return; // closed meanwhile
        };
        let key = room_key(&room);
        let links = self
            .rooms
            .entry(key)
            .or_insert_with(|| RoomLinks::new(room));
        links.peers += 1;
        for d in downlinks {
            links.add(d);
        }
        state.room = Some(key);
        state.path = path;
    }

    fn attach_phone(&mut self, room: Arc<Room>, phone: PhoneSink) {
        let links = self
            .rooms
            .entry(room_key(&room))
            .or_insert_with(|| RoomLinks::new(room));
        links.peers += 1;
        links.add_phone(phone);
    }

    fn detach_phone(&mut self, room: &Arc<Room>, id: u64) {
        let key = room_key(room);
        if let Some(links) = self.rooms.get_mut(&key)
            && links.remove_phone(id)
        {
            links.peers = links.peers.saturating_sub(1);
            if links.peers == 0 {
                self.rooms.remove(&key);
            }
        }
    }

    /// A phone caller's masked packet to the room's patient downlinks.
    fn phone_audio(
        &self,
        now: Instant,
        ep: &mut Endpoint,
        room: &Arc<Room>,
        header: (bool, u16, u32),
        payload: &Arc<[u8]>,
    ) {
        let m = &self.metrics.sfu;
        let Some(links) = self.rooms.get(&room_key(room)) else {
            m.media_unrouted.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let sent = links.fan_out(now, ep, Source::Patient, header, payload);
        m.packets_out.fetch_add(sent, Ordering::Relaxed);
    }

    /// `peer` closed or went away: its path finishes, its downlinks leave the room.
    fn remove(&mut self, now: Instant, ep: &mut Endpoint, peer: PeerId) -> Option<PeerState> {
        let mut state = self.peers.remove(&peer)?;
        let path = std::mem::replace(&mut state.path, MediaPath::Drain);
        if let Some(key) = state.room
            && let Some(links) = self.rooms.get_mut(&key)
        {
            path.finish(now, ep, links);
            links.remove_peer(peer);
            links.peers = links.peers.saturating_sub(1);
            if links.peers == 0 {
                self.rooms.remove(&key);
            }
        }
        Some(state)
    }
}

impl Worker for SfuWorker {
    fn commands(&mut self, now: Instant, ep: &mut Endpoint) {
        // Cleared before draining: a command sent meanwhile wakes the loop again.
        self.awake.store(false, Ordering::Release);
        while let Ok(c) = self.commands.try_recv() {
            match c {
                Command::Accept { offer, data, reply } => {
                    let answered = ep.accept_offer(now, &offer);
                    if let Ok((peer, _)) = &answered {
                        self.peers.insert(
                            *peer,
                            PeerState {
                                data,
                                path: MediaPath::Drain,
                                room: None,
                                scheduled: None,
                            },
                        );
                    }
                    let _ = reply.send(answered);
                }
                Command::Attach {
                    peer,
                    room,
                    path,
                    downlinks,
                } => self.attach(peer, room, path, downlinks),
                Command::Poke { peer } => self.run_path(now, ep, peer, None),
                Command::AttachPhone { room, phone } => self.attach_phone(room, phone),
                Command::PhoneAudio {
                    room,
                    header,
                    payload,
                } => self.phone_audio(now, ep, &room, header, &payload),
                Command::DetachPhone { room, id } => self.detach_phone(&room, id),
                Command::Candidate { peer, candidate } => {
                    let _ = ep.add_remote_candidate(peer, &candidate);
                }
                Command::Write { peer, rtp } => {
                    if ep.write_rtp(now, peer, rtp).is_err() {
                        self.metrics
                            .sfu
                            .media_writes_refused
                            .fetch_add(1, Ordering::Relaxed);
                    }
                }
                Command::Data {
                    peer,
                    channel,
                    mut data,
                } => {
                    let _ = ep.send_data(peer, channel, false, &data);
                    zeroize::Zeroize::zeroize(&mut data);
                }
                Command::Close { peer } => {
                    self.remove(now, ep, peer);
                    ep.close(peer);
                }
                Command::Stop => self.done = true,
            }
        }
    }

    fn event(&mut self, now: Instant, ep: &mut Endpoint, peer: PeerId, event: PeerEvent) {
        if let PeerEvent::Rtp(r) = event {
            self.run_path(now, ep, peer, Some(r));
            return;
        }
        let Some(st) = self.peers.get(&peer) else {
            return;
        };
        match event {
            PeerEvent::ChannelOpen { channel, label } => {
                let _ = st.data.try_send(DataIn::Open { channel, label });
            }
            PeerEvent::ChannelData { channel, data, .. } => {
                // Not delivered (the chat task is gone or behind): wiped, as it would have been.
                if let Err(e) = st.data.try_send(DataIn::Message { channel, data })
                    && let DataIn::Message { mut data, .. } = e.into_inner()
                {
                    zeroize::Zeroize::zeroize(&mut data);
                }
            }
            PeerEvent::ChannelClose { channel } => {
                let _ = st.data.try_send(DataIn::Closed { channel });
            }
            PeerEvent::Gone => {
                if let Some(st) = self.remove(now, ep, peer) {
                    let _ = st.data.try_send(DataIn::Gone);
                }
            }
            _ => {}
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, peer))) = self.deadlines.peek() {
            if self
                .peers
                .get(&peer)
                .is_some_and(|s| s.scheduled == Some(at))
            {
                return Some(at);
            }
            self.deadlines.pop(); // stale
        }
        None
    }

    fn timeout(&mut self, now: Instant, ep: &mut Endpoint) {
        // Each due path wakes once per turn, even if it asks for `now` again.
        let mut due = Vec::new();
        while let Some(&Reverse((at, peer))) = self.deadlines.peek() {
            if at > now {
                break;
            }
            self.deadlines.pop();
            if let Some(state) = self.peers.get_mut(&peer)
                && state.scheduled == Some(at)
            {
                state.scheduled = None;
                due.push(peer);
            }
        }
        for peer in due {
            self.run_path(now, ep, peer, None);
        }
    }

    fn is_done(&self) -> bool {
        self.done
    }
}
