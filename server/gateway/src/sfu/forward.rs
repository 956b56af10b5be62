//! What forwarding sends through and to: a [`Downlink`] (one audio section of a receiver's
//! peer) and the [`RecorderTap`] (post-mask audio for the recording). The per-packet work
//! itself runs on the media engine's thread ([`super::streams`]).
//!
//! Downlinks are audio sections of the receiver's peer: the engine sends with the SSRC and
//! payload type that peer negotiated, without header extensions (their ids are per leg).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hushpay_auth::Role;
use hushpay_rtc::{AudioPayload, PeerId, RtpOut};

use super::ivr_audio::Splice;
use super::media::MediaEngine;
use super::participant::Source;
use super::room::Room;

/// A stream the server sends to one participant, carrying one source: one audio section of
/// its peer in the media engine.
pub struct Downlink {
    pub source: Source,
    engine: MediaEngine,
    peer: PeerId,
    section: usize,
    /// The last extended sequence number sent (SRTP counts rollovers).
    last_seq: AtomicU64,
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
            splice: Splice::default(),
        }
    }

    /// The receiver's peer.
    pub fn peer(&self) -> PeerId {
        self.peer
    }

    /// What to send for a forwarded Opus packet (sequence number and timestamp kept from the
    /// source, or mapped to continue the stream after an IVR played on it), for the engine
    /// thread to write; `None` while an IVR plays on this downlink (the packet is dropped).
    /// `payload` is shared with the other downlinks.
    pub fn forwarded(
        &self,
        now: Instant,
        marker: bool,
        sequence: u16,
        timestamp: u32,
        payload: &Arc<[u8]>,
    ) -> Option<RtpOut> {
        let (sequence, timestamp) = self.splice.forward(now, sequence, timestamp)?;
        Some(self.numbered(marker, sequence, timestamp, Arc::clone(payload)))
    }

    /// Writes one Opus packet as it is numbered, through the engine's command queue (the IVR's
    /// pacing task, off the engine thread).
    pub fn write(&self, marker: bool, sequence: u16, timestamp: u32, payload: Arc<[u8]>) {
        let rtp = self.numbered(marker, sequence, timestamp, payload);
        self.engine.write(self.peer, rtp);
    }

    fn numbered(&self, marker: bool, sequence: u16, timestamp: u32, payload: Arc<[u8]>) -> RtpOut {
        RtpOut {
            section: self.section,
            payload_kind: AudioPayload::Opus,
            seq: self.extend(sequence),
            timestamp,
            marker,
            payload,
        }
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

/// A consumer of post-mask audio (the recording issue implements it). [`Self::packet`] is
/// called on the media engine's thread: implementations must not block.
#[async_trait::async_trait]
pub trait RecorderTap: Send + Sync + std::fmt::Debug {
    /// One RTP packet as forwarded (masked patient audio, or agent audio).
    fn packet(&self, room: &Room, participant_id: &str, role: Role, rtp: &[u8], masked: bool);

    /// False when [`Self::packet`] does nothing whatever it is given, so the engine need not
    /// build the packet's bytes for it.
    fn records(&self) -> bool {
        true
    }

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

    fn records(&self) -> bool {
        false
    }
}
