//! Media forwarding. One tokio task per published stream:
//!
//! * the patient's stream goes through a [`Masker`] (arrival time = `Instant::now()` when the
//!   packet is read; the task sleeps until the masker's `Timeout`), and what it forwards goes
//!   to every agent and supervisor downlink and to the [`RecorderTap`]; the room's secure state
//!   ([`super::secure`]) puts the masker in secure mode and feeds its digit collector;
//! * an agent's stream goes to the patient and supervisors; its telephone-event packets are
//!   consumed (never forwarded) and the sequence numbers close over them.
//!
//! Downlinks rewrite SSRC and payload type to what the receiver negotiated and drop header
//! extensions (their ids are per leg).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use bytes::Bytes;
use hushpay_auth::Role;
use hushpay_media::masker::{Masker, MaskerConfig, Output};
use hushpay_media::renumber::Renumber;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::seq::SeqExtender;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp::header::Header;
use rtc::rtp::packet::Packet;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};

use super::Sfu;
use super::ivr_audio::Splice;
use super::participant::Source;
use super::peer::{NegotiatedAudio, OPUS_FMTP};
use super::room::Room;
use super::secure::SecureFollower;

/// A track the server sends to one participant, carrying one source.
pub struct Downlink {
    pub source: Source,
    pub track: Arc<TrackLocalStaticRTP>,
    pub ssrc: u32,
    pub opus_pt: u8,
    pub sent: AtomicU64,
    /// Forwarded audio or IVR audio, one continuous stream ([`super::ivr_audio`]).
    pub splice: Splice,
}

impl std::fmt::Debug for Downlink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Downlink")
            .field("source", &self.source)
            .field("ssrc", &self.ssrc)
            .finish()
    }
}

impl Downlink {
    pub fn new(source: Source, opus_pt: u8) -> Self {
        let ssrc = rand::random::<u32>();
        let label = match source {
            Source::Patient => "patient",
            Source::Agent => "agent",
        };
        Self {
            source,
            track: opus_track(&format!("hushpay-{label}"), label, ssrc),
            ssrc,
            opus_pt,
            sent: AtomicU64::new(0),
            splice: Splice::default(),
        }
    }

    pub fn as_track(&self) -> Arc<dyn TrackLocal> {
        Arc::clone(&self.track) as Arc<dyn TrackLocal>
    }

    /// Sends a forwarded Opus packet (sequence number and timestamp kept from the source, or
    /// mapped to continue the stream after an IVR played on it); false when it was not sent
    /// (an IVR plays on this downlink now).
    pub async fn send(&self, pkt: &RtpPacket<'_>) -> bool {
        let Some((sequence, timestamp)) =
            self.splice
                .forward(Instant::now(), pkt.sequence, pkt.timestamp)
        else {
            return false;
        };
        self.write(pkt.marker, sequence, timestamp, pkt.payload)
            .await
    }

    /// Writes one Opus packet as it is numbered.
    pub async fn write(&self, marker: bool, sequence: u16, timestamp: u32, payload: &[u8]) -> bool {
        let packet = Packet {
            header: Header {
                version: 2,
                marker,
                payload_type: self.opus_pt,
                sequence_number: sequence,
                timestamp,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(payload),
        };
        let ok = self.track.write_rtp(packet).await.is_ok();
        if ok {
            self.sent.fetch_add(1, Ordering::Relaxed);
        }
        ok
    }
}

/// A local Opus track with one encoding of `ssrc` (stream `stream_id`, track
/// `<stream_id>-audio-<ssrc>`): the server's downlinks and the bot's uplink.
pub fn opus_track(stream_id: &str, label: &str, ssrc: u32) -> Arc<TrackLocalStaticRTP> {
    let track = MediaStreamTrack::new(
        stream_id.to_owned(),
        format!("{stream_id}-audio-{ssrc:08x}"),
        format!("{label} audio"),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: RTCRtpCodec {
                mime_type: "audio/opus".to_owned(),
                clock_rate: 48_000,
                channels: 2,
                sdp_fmtp_line: OPUS_FMTP.to_owned(),
                rtcp_feedback: vec![],
            },
            ..Default::default()
        }],
    );
    Arc::new(TrackLocalStaticRTP::new(track))
}

/// The wire bytes of a received packet, with sequence number `sequence` (header extensions
/// dropped: their ids are per leg).
fn rtp_bytes(p: &Packet, sequence: u16) -> Vec<u8> {
    RtpBuilder {
        marker: p.header.marker,
        payload_type: p.header.payload_type,
        sequence,
        timestamp: p.header.timestamp,
        ssrc: p.header.ssrc,
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

/// Drives a masker over the patient's stream until the track ends.
pub async fn patient_stream(
    sfu: Arc<Sfu>,
    room: Arc<Room>,
    participant_id: String,
    track: Arc<dyn TrackRemote>,
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
            drain_track(&track).await;
            return;
        }
    };
    // Secure mode first: a stream that starts during a payment never forwards a key.
    let mut secure = room.secure.follower();
    secure.apply(Instant::now(), &mut masker);
    let mut timeout = drain_masker(&sfu, &room, &participant_id, &mut masker, &mut secure).await;
    loop {
        let wake = match timeout {
            Some(t) => tokio::select! {
                ev = track.poll() => Wake::Track(ev),
                () = secure.changed() => Wake::Secure,
                () = tokio::time::sleep_until(t.into()) => Wake::Timeout,
            },
            None => tokio::select! {
                ev = track.poll() => Wake::Track(ev),
                () = secure.changed() => Wake::Secure,
            },
        };
        match wake {
            Wake::Timeout => masker.handle_timeout(Instant::now()),
            Wake::Secure => secure.apply(Instant::now(), &mut masker),
            Wake::Track(None) | Wake::Track(Some(TrackRemoteEvent::OnEnded)) => break,
            Wake::Track(Some(TrackRemoteEvent::OnRtpPacket(p))) => {
                sfu.metrics.sfu.packets_in.fetch_add(1, Ordering::Relaxed);
                if p.header.payload_type == neg.opus_pt {
                    sfu.metrics.sfu.patient_opus(&p.payload);
                }
                let bytes = rtp_bytes(&p, p.header.sequence_number);
                if masker.handle_rtp_owned(Instant::now(), bytes).is_err() {
                    sfu.metrics
                        .sfu
                        .packets_refused
                        .fetch_add(1, Ordering::Relaxed);
                }
            }
            Wake::Track(Some(_)) => {}
        }
        timeout = drain_masker(&sfu, &room, &participant_id, &mut masker, &mut secure).await;
    }
    masker.flush(Instant::now());
    drain_masker(&sfu, &room, &participant_id, &mut masker, &mut secure).await;
    drop(masker.exit_secure_mode());
    secure.stream_ended();
}

/// What woke the patient stream task.
enum Wake {
    Track(Option<TrackRemoteEvent>),
    Secure,
    Timeout,
}

async fn drain_masker(
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
                fan_out(sfu, room, participant_id, Source::Patient, &pkt).await;
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

async fn fan_out(sfu: &Sfu, room: &Room, from: &str, source: Source, pkt: &RtpPacket<'_>) {
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
            && d.send(pkt).await
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
    track: Arc<dyn TrackRemote>,
    neg: NegotiatedAudio,
) {
    let _guard = sfu.task_guard();
    let mut seq = SeqExtender::new();
    let mut renumber = Renumber::new();
    while let Some(ev) = track.poll().await {
        let p = match ev {
            TrackRemoteEvent::OnRtpPacket(p) => p,
            TrackRemoteEvent::OnEnded => break,
            _ => continue,
        };
        sfu.metrics.sfu.packets_in.fetch_add(1, Ordering::Relaxed);
        let ext = seq.extend(u64::from(p.header.sequence_number));
        if p.header.payload_type != neg.opus_pt {
            renumber.consume(ext);
            continue;
        }
        let bytes = rtp_bytes(&p, renumber.output_seq(ext));
        sfu.recorder
            .packet(&room, &participant_id, Role::Agent, &bytes, false);
        if let Ok(pkt) = RtpPacket::parse(&bytes) {
            fan_out(&sfu, &room, &participant_id, Source::Agent, &pkt).await;
        }
    }
}

/// Reads a track to its end without forwarding (streams nobody may hear).
pub async fn drain_track(track: &Arc<dyn TrackRemote>) {
    while let Some(ev) = track.poll().await {
        if matches!(ev, TrackRemoteEvent::OnEnded) {
            break;
        }
    }
}
