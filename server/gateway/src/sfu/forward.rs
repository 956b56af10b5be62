//! Media forwarding. One tokio task per published stream, fed by the media engine
//! ([`super::media`]):
//!
//! * the patient's stream goes through a [`Masker`] (arrival time = `Instant::now()` when the
//!   packet is read; the task sleeps until the masker's `Timeout`), and what it forwards goes
//!   to every agent and supervisor downlink and to the [`RecorderTap`]; the room's secure state
//!   ([`super::secure`]) puts the masker in secure mode and feeds its digit collector;
//! * an agent's stream goes to the patient and supervisors; its telephone-event packets are
//!   consumed (never forwarded) and the sequence numbers close over them.
//!
//! Downlinks are audio sections of the receiver's peer: the engine sends with the SSRC and
//! payload type that peer negotiated, without header extensions (their ids are per leg).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hushpay_auth::Role;
use hushpay_media::masker::{Masker, MaskerConfig, Output};
use hushpay_media::renumber::Renumber;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_rtc::{AudioPayload, PeerId, RtpIn, RtpOut};
use tokio::sync::mpsc;

use super::Sfu;
use super::ivr_audio::Splice;
use super::media::MediaEngine;
use super::participant::Source;
use super::room::Room;
use super::secure::SecureFollower;
use hushpay_rtc::sdp::NegotiatedAudio;

/// A stream the server sends to one participant, carrying one source: one audio section of
/// its peer in the media engine.
pub struct Downlink {
    pub source: Source,
    engine: MediaEngine,
    peer: PeerId,
    section: usize,
    /// The last extended sequence number sent (SRTP counts rollovers).
    last_seq: AtomicU64,
    pub sent: AtomicU64,
    /// Forwarded audio or IVR audio, one continuous stream ([`super::ivr_audio`]).
    pub splice: Splice,
}

impl std::fmt::Debug for Downlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downlink")
            .field("source", &self.source)
            .field("peer", &self.peer)
            .field("section", &self.section)
            .finish()
    }
}

impl Downlink {
    pub fn new(source: Source, engine: MediaEngine, peer: PeerId, section: usize) -> Self {
        Self {
            source,
            engine,
            peer,
            section,
            last_seq: AtomicU64::new(u64::MAX),
            sent: AtomicU64::new(0),
            splice: Splice::default(),
        }
    }

    /// Sends a forwarded Opus packet (sequence number and timestamp kept from the source, or
    /// mapped to continue the stream after an IVR played on it); false when it was not sent
    /// (an IVR plays on this downlink now). `payload` is shared with the other downlinks.
    pub fn send(&self, pkt: &RtpPacket<'_>, payload: &Arc<[u8]>) -> bool {
        let Some((sequence, timestamp)) =
            self.splice
                .forward(Instant::now(), pkt.sequence, pkt.timestamp)
        else {
            return false;
        };
        self.write(pkt.marker, sequence, timestamp, Arc::clone(payload))
    }

    /// Writes one Opus packet as it is numbered.
    pub fn write(&self, marker: bool, sequence: u16, timestamp: u32, payload: Arc<[u8]>) -> bool {
        let rtp = RtpOut {
            section: self.section,
            payload_kind: AudioPayload::Opus,
            seq: self.extend(sequence),
            timestamp,
            marker,
            payload,
        };
        self.engine.write(self.peer, rtp);
        self.sent.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// `sequence` extended from the last one sent (within half the number space; the first
    /// starts at rollover count 0, as the receiver's SRTP assumes).
    fn extend(&self, sequence: u16) -> u64 {
        let mut ext = u64::from(sequence);
        let _ = self
            .last_seq
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |last| {
                if last != u64::MAX {
                    let delta = i64::from(sequence.wrapping_sub(last as u16) as i16);
                    ext = last.saturating_add_signed(delta);
                }
                Some(ext)
            });
        ext
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

/// A consumer of post-mask audio (the recording issue implements it). Called on the
/// forwarding task: implementations must not block.
#[async_trait::async_trait]
pub trait RecorderTap: Send + Sync + std::fmt::Debug {
    /// One RTP packet as forwarded (masked patient audio, or agent audio).
    fn packet(&self, room: &Room, participant_id: &str, role: Role, rtp: &[u8], masked: bool);

    /// A manual pause (`pause`) or resume by `by`, audited; `None` when nothing records.
    async fn manual(
        &self,
        _room: &Room,
        _by: &str,
        _pause: bool,
    ) -> Option<Result<super::signal::RecordingState, crate::recording::NotAudited>> {
        None
    }

    /// The room's recording state; `None` when nothing records.
    fn state(&self, _room: &Room) -> Option<super::signal::RecordingState> {
        None
    }

    /// A room opened (created by the tenant or by a first join), with its settings.
    fn room_opened(&self, _room: &Room) {}

    /// The room closed: its recording ends.
    fn room_closed(&self, _room: &Room) {}
}

/// The default tap: records nothing.
#[derive(Debug, Default)]
pub struct NoRecorder;

#[async_trait::async_trait]
impl RecorderTap for NoRecorder {
    fn packet(&self, _: &Room, _: &str, _: Role, _: &[u8], _: bool) {}
}

/// Drives a masker over the patient's stream until the peer is gone.
pub async fn patient_stream(
    sfu: Arc<Sfu>,
    room: Arc<Room>,
    participant_id: String,
    mut media: mpsc::Receiver<RtpIn>,
    neg: NegotiatedAudio,
) {
    let _guard = sfu.task_guard();
    let config = MaskerConfig {
        opus_pt: neg.opus_pt,
        event_pts: neg.event_pts.clone(),
        ..MaskerConfig::default()
    };
    let mut masker = match Masker::new(config) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the masker; patient audio is not forwarded");
            while media.recv().await.is_some() {}
            return;
        }
    };
    // Secure mode first: a stream that starts during a payment never forwards a key.
    let mut secure = room.secure.follower();
    secure.apply(Instant::now(), &mut masker);
    let mut timeout = drain_masker(&sfu, &room, &participant_id, &mut masker, &mut secure);
    loop {
        let wake = match timeout {
            Some(t) => tokio::select! {
                p = media.recv() => Wake::Packet(p),
                () = secure.changed() => Wake::Secure,
                () = tokio::time::sleep_until(t.into()) => Wake::Timeout,
            },
            None => tokio::select! {
                p = media.recv() => Wake::Packet(p),
                () = secure.changed() => Wake::Secure,
            },
        };
        match wake {
            Wake::Timeout => masker.handle_timeout(Instant::now()),
            Wake::Secure => secure.apply(Instant::now(), &mut masker),
            Wake::Packet(None) => break,
            Wake::Packet(Some(p)) => {
                sfu.metrics.sfu.packets_in.fetch_add(1, Ordering::Relaxed);
                if p.pt == neg.opus_pt {
                    sfu.metrics.sfu.patient_opus(&p.payload);
                }
                let bytes = rtp_bytes(&p, p.seq as u16);
                if masker.handle_rtp_owned(p.arrival, bytes).is_err() {
                    sfu.metrics
                        .sfu
                        .packets_refused
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        timeout = drain_masker(&sfu, &room, &participant_id, &mut masker, &mut secure);
    }
    masker.flush(Instant::now());
    drain_masker(&sfu, &room, &participant_id, &mut masker, &mut secure);
    drop(masker.exit_secure_mode());
    secure.stream_ended();
}

/// What woke the patient stream task.
enum Wake {
    Packet(Option<RtpIn>),
    Secure,
    Timeout,
}

fn drain_masker(
    sfu: &Sfu,
    room: &Room,
    participant_id: &str,
    masker: &mut Masker,
    secure: &mut SecureFollower,
) -> Option<Instant> {
    while let Some(out) = masker.poll_output() {
        match out {
            Output::Timeout(t) => return Some(t),
            Output::Forward(f) => {
                if f.masked {
                    sfu.metrics
                        .sfu
                        .packets_masked
                        .fetch_add(1, Ordering::Relaxed);
                }
                sfu.recorder
                    .packet(room, participant_id, Role::Patient, &f.bytes, f.masked);
                let Ok(pkt) = RtpPacket::parse(&f.bytes) else {
                    continue;
                };
                let payload = Arc::from(pkt.payload);
                fan_out(sfu, room, participant_id, Source::Patient, &pkt, &payload);
            }
            Output::Digit(d) => {
                sfu.metrics
                    .sfu
                    .digits_captured
                    .fetch_add(1, Ordering::Relaxed);
                room.digit_keyed(d);
            }
            Output::Collector(ev) => secure.collector_event(masker, ev),
            _ => {}
        }
    }
    None
}

/// Sends `pkt` to every downlink of `source` in the room; `payload` is its payload, one
/// allocation shared by every downlink.
fn fan_out(
    sfu: &Sfu,
    room: &Room,
    from: &str,
    source: Source,
    pkt: &RtpPacket<'_>,
    payload: &Arc<[u8]>,
) {
    if source == Source::Patient && room.ivr.is_active() {
        // The IVR's hold audio goes to every downlink of the patient (ivr_audio).
        return;
    }
    let roles: &[Role] = match source {
        Source::Patient => &[Role::Agent, Role::Supervisor],
        Source::Agent => &[Role::Patient, Role::Supervisor],
    };
    for p in room.with_roles(roles, from) {
        if !p.grants.can_subscribe {
            continue;
        }
        if let Some(d) = p.downlink(source)
            && d.send(pkt, payload)
        {
            sfu.metrics.sfu.packets_out.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Forwards an agent's stream, consuming its telephone-event packets.
pub async fn agent_stream(
    sfu: Arc<Sfu>,
    room: Arc<Room>,
    participant_id: String,
    mut media: mpsc::Receiver<RtpIn>,
    neg: NegotiatedAudio,
) {
    let _guard = sfu.task_guard();
    let mut renumber = Renumber::new();
    while let Some(p) = media.recv().await {
        sfu.metrics.sfu.packets_in.fetch_add(1, Ordering::Relaxed);
        let ext = p.seq;
        if p.pt != neg.opus_pt {
            renumber.consume(ext);
            continue;
        }
        let bytes = rtp_bytes(&p, renumber.output_seq(ext));
        sfu.recorder
            .packet(&room, &participant_id, Role::Agent, &bytes, false);
        if let Ok(pkt) = RtpPacket::parse(&bytes) {
            // The engine's payload buffer goes on as it is (agent audio is never changed).
            fan_out(
                &sfu,
                &room,
                &participant_id,
                Source::Agent,
                &pkt,
                &p.payload,
            );
        }
    }
}

/// Reads a stream to its end without forwarding (streams nobody may hear).
pub async fn drain_stream(mut media: mpsc::Receiver<RtpIn>) {
    while media.recv().await.is_some() {}
}
