//! The SFU's media engine: one [`hushpay_rtc`] endpoint on one UDP port (`rtc.udp_port`, and
//! `rtc.tcp_port` for ICE-TCP), driven on its own thread ([`hushpay_rtc::driver`]).
//!
//! Signalling and the call logic stay on tokio and talk to the engine thread by commands
//! ([`MediaEngine`]); what a peer sends comes back on the channels given when its offer was
//! accepted ([`PeerChannels`]): its audio packets on one, its data-channel events on the other.
//! Nothing is locked per packet: a command is a channel send, and the engine thread is woken
//! only when it is not already awake.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Instant;

use hushpay_rtc::driver::{Driver, Worker};
use hushpay_rtc::{
    ChannelId, Endpoint, EndpointConfig, EngineError, PeerEvent, PeerId, RtpIn, RtpOut,
};
use tokio::sync::{mpsc as tokio_mpsc, oneshot};

/// Audio packets queued to one stream's task before the engine drops them (about 1 s).
pub const MEDIA_QUEUE: usize = 64;
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

/// Where the engine delivers one peer's events.
#[derive(Debug)]
pub struct PeerChannels {
    pub media: tokio_mpsc::Sender<RtpIn>,
    pub data: tokio_mpsc::Sender<DataIn>,
}

enum Command {
    Accept {
        offer: String,
        channels: PeerChannels,
        reply: oneshot::Sender<Result<(PeerId, String), EngineError>>,
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

/// Counters of the engine thread (the SFU's metrics read them).
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Audio packets dropped because a stream's task did not keep up.
    pub media_dropped: AtomicU64,
    /// Writes refused by the engine (peer gone, no negotiated audio).
    pub writes_refused: AtomicU64,
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
    pub counters: Arc<EngineCounters>,
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
    /// Binds the engine's sockets and starts its thread.
    pub fn start(config: EndpointConfig) -> io::Result<Self> {
        let driver = Driver::bind(config)?;
        let (commands, rx) = mpsc::channel();
        let awake = Arc::new(AtomicBool::new(false));
        let counters = Arc::new(EngineCounters::default());
        let bound = driver.config().clone();
        let engine = Self {
            commands,
            waker: driver.waker(),
            awake: Arc::clone(&awake),
            udp: bound.udp,
            tcp: bound.tcp,
            counters: Arc::clone(&counters),
        };
        std::thread::Builder::new()
            .name("hushpay-media".to_owned())
            .spawn(move || {
                let mut worker = SfuWorker {
                    commands: rx,
                    awake,
                    counters,
                    peers: HashMap::new(),
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

    /// Answers `offer` with a new peer whose audio and data events go to `channels`.
    pub async fn accept(
        &self,
        offer: String,
        channels: PeerChannels,
    ) -> Result<(PeerId, String), EngineError> {
        let (reply, rx) = oneshot::channel();
        self.send(Command::Accept {
            offer,
            channels,
            reply,
        });
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

    /// Sends one RTP packet to `peer`.
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

/// The engine thread's worker: routes peer events to their channels, applies commands.
struct SfuWorker {
    commands: mpsc::Receiver<Command>,
    awake: Arc<AtomicBool>,
    counters: Arc<EngineCounters>,
    peers: HashMap<PeerId, PeerChannels>,
    done: bool,
}

impl Worker for SfuWorker {
    fn commands(&mut self, now: Instant, ep: &mut Endpoint) {
        // Cleared before draining: a command sent meanwhile wakes the loop again.
        self.awake.store(false, Ordering::Release);
        while let Ok(c) = self.commands.try_recv() {
            match c {
                Command::Accept {
                    offer,
                    channels,
                    reply,
                } => {
                    let answered = ep.accept_offer(now, &offer);
                    if let Ok((peer, _)) = &answered {
                        self.peers.insert(*peer, channels);
                    }
                    let _ = reply.send(answered);
                }
                Command::Candidate { peer, candidate } => {
                    let _ = ep.add_remote_candidate(peer, &candidate);
                }
                Command::Write { peer, rtp } => {
                    if ep.write_rtp(now, peer, rtp).is_err() {
                        self.counters.writes_refused.fetch_add(1, Ordering::Relaxed);
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
                    ep.close(peer);
                    self.peers.remove(&peer);
                }
                Command::Stop => self.done = true,
            }
        }
    }

    fn event(&mut self, _now: Instant, _ep: &mut Endpoint, peer: PeerId, event: PeerEvent) {
        let Some(ch) = self.peers.get(&peer) else {
            return;
        };
        match event {
            PeerEvent::Rtp(r) => {
                let dropped = ch.media.try_send(r).is_err();
                self.counters
                    .media_dropped
                    .fetch_add(u64::from(dropped), Ordering::Relaxed);
            }
            PeerEvent::ChannelOpen { channel, label } => {
                let _ = ch.data.try_send(DataIn::Open { channel, label });
            }
            PeerEvent::ChannelData { channel, data, .. } => {
                // Not delivered (the chat task is gone or behind): wiped, as it would have been.
                if let Err(e) = ch.data.try_send(DataIn::Message { channel, data })
                    && let DataIn::Message { mut data, .. } = e.into_inner()
                {
                    zeroize::Zeroize::zeroize(&mut data);
                }
            }
            PeerEvent::ChannelClose { channel } => {
                let _ = ch.data.try_send(DataIn::Closed { channel });
            }
            PeerEvent::Gone => {
                if let Some(ch) = self.peers.remove(&peer) {
                    let _ = ch.data.try_send(DataIn::Gone);
                }
            }
            _ => {}
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }

    fn timeout(&mut self, _now: Instant, _ep: &mut Endpoint) {}

    fn is_done(&self) -> bool {
        self.done
    }
}
