//! The per-packet work of a room, on the media engine's thread ([`super::media`]): each packet
//! is handled once, where it arrives, with no hop to another thread and no lock.
//!
//! * A patient's stream goes through its [`Masker`] (arrival time = when the engine read the
//!   datagram; the engine calls back at the masker's deadline), and what the masker releases
//!   goes to the [`RecorderTap`] and to every patient downlink of the room; the room's secure
//!   state ([`super::secure`]) is applied to the masker before each packet and deadline, and
//!   the collector's events go back to the secure session.
//! * An agent's stream goes to every agent downlink of the room (the patient's and the
//!   supervisors'); its telephone-event packets are consumed (never forwarded) and the
//!   sequence numbers close over them. Agent packets are never decoded.
//! * A phone caller's stream is masked on its own task ([`super::phone`]) and arrives here as
//!   Opus packets to fan out to the patient downlinks; the agents' audio goes to the phone
//!   caller as a [`PhoneSink`] (a channel to that task, which transcodes it to G.711).
//! * The downlinks of a room ([`RoomLinks`]) are a list the engine keeps, changed by commands
//!   when a participant's peer is attached or closed, never looked up per packet. A payload
//!   is one shared buffer for every downlink.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use hushpay_auth::Role;
use hushpay_media::error::MediaError;
use hushpay_media::masker::{Masker, MaskerConfig, Output};
use hushpay_media::renumber::Renumber;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_rtc::sdp::NegotiatedAudio;
use hushpay_rtc::{Endpoint, RtpIn};

use super::forward::{Downlink, RecorderTap};
use super::participant::Source;
use super::room::Room;
use super::secure::SecureFollower;
use crate::metrics::Metrics;

/// Where a stream's packets go, and who counts them.
#[derive(Debug, Clone)]
pub struct StreamContext {
    pub room: Arc<Room>,
    pub participant_id: String,
    pub metrics: Arc<Metrics>,
    pub recorder: Arc<dyn RecorderTap>,
}

/// A phone caller in a room: where the agents' Opus payloads go (its task transcodes them).
#[derive(Debug, Clone)]
pub struct PhoneSink {
    /// Unique per caller (to detach it).
    pub id: u64,
    pub tx: tokio::sync::mpsc::Sender<Arc<[u8]>>,
}

/// The downlinks of one room, by the source they carry.
#[derive(Debug)]
pub struct RoomLinks {
    room: Arc<Room>,
    patient: Vec<Arc<Downlink>>,
    agent: Vec<Arc<Downlink>>,
    /// Phone callers hearing the agents.
    phones: Vec<PhoneSink>,
    /// Peers attached to the room (the entry goes when the last one closes).
    pub peers: usize,
}

impl RoomLinks {
    pub fn new(room: Arc<Room>) -> Self {
        Self {
            room,
            patient: Vec::new(),
            agent: Vec::new(),
            phones: Vec::new(),
            peers: 0,
        }
    }

    pub fn add(&mut self, d: Arc<Downlink>) {
        match d.source {
            Source::Patient => self.patient.push(d),
            Source::Agent => self.agent.push(d),
        }
    }

    pub fn add_phone(&mut self, phone: PhoneSink) {
        self.phones.push(phone);
    }

    /// Forgets the phone caller `id`; true if it was here.
    pub fn remove_phone(&mut self, id: u64) -> bool {
        let before = self.phones.len();
        self.phones.retain(|p| p.id != id);
        self.phones.len() != before
    }

    /// Forgets every downlink of `peer`.
    pub fn remove_peer(&mut self, peer: hushpay_rtc::PeerId) {
        self.patient.retain(|d| d.peer() != peer);
        self.agent.retain(|d| d.peer() != peer);
    }

    /// Sends one forwarded packet of `source` (its header's marker, sequence number and
    /// timestamp, and its payload) to each of its downlinks; how many were sent.
    pub(super) fn fan_out(
        &self,
        now: Instant,
        ep: &mut Endpoint,
        source: Source,
        (marker, sequence, timestamp): (bool, u16, u32),
        payload: &Arc<[u8]>,
    ) -> u64 {
        let downlinks = match source {
            // The IVR's hold audio goes to every downlink of the patient (ivr_audio).
            Source::Patient if self.room.ivr.is_active() => return 0,
            Source::Patient => &self.patient,
            Source::Agent => &self.agent,
        };
        let mut sent = 0;
        // A phone caller in an IVR hears its prompts (ivr_audio), not the agents.
        if source == Source::Agent && !self.room.ivr.is_active() {
            for p in &self.phones {
                // A caller's task that is behind loses this packet, never the engine's time.
                if p.tx.try_send(Arc::clone(payload)).is_ok() {
                    sent += 1;
                }
            }
        }
        for d in downlinks {
            if let Some(out) = d.forwarded(now, marker, sequence, timestamp, payload)
                && ep.write_rtp(now, d.peer(), out).is_ok()
            {
                sent += 1;
            }
        }
        sent
    }
}

/// What the engine does with a peer's audio.
#[derive(Debug)]
pub enum MediaPath {
    Patient(Box<PatientPath>),
    Agent(AgentPath),
    /// Read and dropped (a participant who may not publish, or whom nobody hears).
    Drain,
}

impl MediaPath {
    /// One packet from the peer.
    pub fn rtp(&mut self, now: Instant, ep: &mut Endpoint, links: &RoomLinks, p: RtpIn) {
        match self {
            MediaPath::Patient(s) => s.rtp(now, ep, links, p),
            MediaPath::Agent(s) => s.rtp(now, ep, links, p),
            MediaPath::Drain => {}
        }
    }

    /// The room's secure state changed, or the path's deadline passed.
    pub fn wake(&mut self, now: Instant, ep: &mut Endpoint, links: &RoomLinks) {
        if let MediaPath::Patient(s) = self {
            s.wake(now, ep, links);
        }
    }

    /// When the path needs [`Self::wake`] next.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            MediaPath::Patient(s) => s.timeout,
            _ => None,
        }
    }

    /// The peer is gone: what is held goes out, the secure session hears of it.
    pub fn finish(self, now: Instant, ep: &mut Endpoint, links: &RoomLinks) {
        if let MediaPath::Patient(mut s) = self {
            s.finish(now, ep, links);
        }
    }
}

/// A patient's stream through its masker.
#[derive(Debug)]
pub struct PatientPath {
    ctx: StreamContext,
    masker: Masker,
    secure: SecureFollower,
    opus_pt: u8,
    timeout: Option<Instant>,
}

impl PatientPath {
    /// A masker for the negotiated payload types, in the room's secure state from the start
    /// (a stream that starts during a payment never forwards a key).
    pub fn new(
        now: Instant,
        ctx: StreamContext,
        neg: &NegotiatedAudio,
    ) -> Result<Self, MediaError> {
        let mut masker = Masker::new(MaskerConfig {
            opus_pt: neg.opus_pt,
            event_pts: neg.event_pts.clone(),
            ..MaskerConfig::default()
        })?;
        let mut secure = ctx.room.secure.follower();
        secure.apply(now, &mut masker);
        Ok(Self {
            ctx,
            masker,
            secure,
            opus_pt: neg.opus_pt,
            timeout: None,
        })
    }

    fn rtp(&mut self, now: Instant, ep: &mut Endpoint, links: &RoomLinks, p: RtpIn) {
        self.follow_secure(now);
        let m = &self.ctx.metrics.sfu;
        m.packets_in.fetch_add(1, Ordering::Relaxed);
        if p.pt == self.opus_pt {
            m.patient_opus(&p.payload);
        }
        let bytes = rtp_bytes(&p, p.seq as u16);
        if self.masker.handle_rtp_owned(p.arrival, bytes).is_err() {
            m.packets_refused.fetch_add(1, Ordering::Relaxed);
        }
        self.drain(now, ep, links);
    }

    fn wake(&mut self, now: Instant, ep: &mut Endpoint, links: &RoomLinks) {
        self.follow_secure(now);
        if self.timeout.is_some_and(|t| t <= now) {
            self.masker.handle_timeout(now);
        }
        self.drain(now, ep, links);
    }

    fn finish(&mut self, now: Instant, ep: &mut Endpoint, links: &RoomLinks) {
        self.masker.flush(now);
        self.drain(now, ep, links);
        drop(self.masker.exit_secure_mode());
        self.secure.stream_ended();
    }

    fn follow_secure(&mut self, now: Instant) {
        if self.secure.has_changed() {
            self.secure.apply(now, &mut self.masker);
        }
    }

    /// Hands on what the masker released; keeps its next deadline.
    fn drain(&mut self, now: Instant, ep: &mut Endpoint, links: &RoomLinks) {
        let ctx = &self.ctx;
        let m = &ctx.metrics.sfu;
        self.timeout = None;
        while let Some(out) = self.masker.poll_output() {
            match out {
                Output::Timeout(t) => {
                    self.timeout = Some(t);
                    break;
                }
                Output::Forward(f) => {
                    if f.masked {
                        m.packets_masked.fetch_add(1, Ordering::Relaxed);
                    }
                    ctx.recorder.packet(
                        &ctx.room,
                        &ctx.participant_id,
                        Role::Patient,
                        &f.bytes,
                        f.masked,
                    );
                    let Ok(pkt) = RtpPacket::parse(&f.bytes) else {
                        continue;
                    };
                    let payload = Arc::from(pkt.payload);
                    let header = (pkt.marker, pkt.sequence, pkt.timestamp);
                    let sent = links.fan_out(now, ep, Source::Patient, header, &payload);
                    m.packets_out.fetch_add(sent, Ordering::Relaxed);
                }
                Output::Digit(d) => {
                    m.digits_captured.fetch_add(1, Ordering::Relaxed);
                    ctx.room.digit_keyed(d);
                }
                Output::Collector(ev) => self.secure.collector_event(&mut self.masker, ev),
                _ => {}
            }
        }
    }
}

/// An agent's stream, forwarded as it is (telephone events consumed).
#[derive(Debug)]
pub struct AgentPath {
    ctx: StreamContext,
    opus_pt: u8,
    renumber: Renumber,
}

impl AgentPath {
    pub fn new(ctx: StreamContext, neg: &NegotiatedAudio) -> Self {
        Self {
            ctx,
            opus_pt: neg.opus_pt,
            renumber: Renumber::new(),
        }
    }

    fn rtp(&mut self, now: Instant, ep: &mut Endpoint, links: &RoomLinks, p: RtpIn) {
        let ctx = &self.ctx;
        let m = &ctx.metrics.sfu;
        m.packets_in.fetch_add(1, Ordering::Relaxed);
        if p.pt != self.opus_pt {
            self.renumber.consume(p.seq);
            return;
        }
        let sequence = self.renumber.output_seq(p.seq);
        if ctx.recorder.records() {
            let bytes = rtp_bytes(&p, sequence);
            ctx.recorder
                .packet(&ctx.room, &ctx.participant_id, Role::Agent, &bytes, false);
        }
        // The engine's payload buffer goes on as it is (agent audio is never changed).
        let header = (p.marker, sequence, p.timestamp);
        let sent = links.fan_out(now, ep, Source::Agent, header, &p.payload);
        m.packets_out.fetch_add(sent, Ordering::Relaxed);
    }
}

/// The wire bytes of a received packet, with sequence number `sequence`.
fn rtp_bytes(p: &RtpIn, sequence: u16) -> Vec<u8> {
    RtpBuilder {
        marker: p.marker,
        payload_type: p.pt,
        sequence,
        timestamp: p.timestamp,
        ssrc: p.ssrc,
    }
    .build(&p.payload)
}
