//! One WebRTC peer: a str0m [`Rtc`] in RTP mode, what it negotiated, and the translation of its
//! outputs into the engine's.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use str0m::channel::ChannelId;
use str0m::format::Codec;
use str0m::media::{Direction, MediaKind, Mid, Pt};
use str0m::net::Protocol;
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Event, IceConnectionState, Output, Rtc};

use crate::EngineError;
use crate::unwind::guard;

/// What a peer sent that the caller handles.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerEvent {
    /// ICE and DTLS are up: media and data can flow.
    Connected,
    /// The peer is gone (ICE timed out, closed, or failed); it has been removed.
    Gone,
    /// An audio section is negotiated (one event per section, in SDP order); `can_send` when
    /// the peer receives from us on it.
    AudioReady {
        /// Its index among the peer's audio sections (what [`RtpOut::section`] names).
        section: usize,
        /// Direction as negotiated, from our side.
        can_send: bool,
        /// Payload types the peer sends with (Opus, then telephone-event).
        can_receive: bool,
    },
    /// One RTP packet of the peer's audio (SRTP removed; header extensions dropped).
    Rtp(RtpIn),
    /// A data channel opened.
    ChannelOpen {
        /// Its id (for [`crate::Endpoint::send_data`]).
        channel: ChannelId,
        /// Its label.
        label: String,
    },
    /// One data channel message. Chat may hold card numbers: the caller wipes `data`.
    ChannelData {
        /// The channel.
        channel: ChannelId,
        /// Sent as binary (else UTF-8 text).
        binary: bool,
        /// The message.
        data: Vec<u8>,
    },
    /// A data channel closed.
    ChannelClose {
        /// The channel.
        channel: ChannelId,
    },
}

/// A received RTP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpIn {
    /// Payload type as sent.
    pub pt: u8,
    /// Extended sequence number (rollovers counted).
    pub seq: u64,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Marker bit.
    pub marker: bool,
    /// Synchronisation source.
    pub ssrc: u32,
    /// The payload (one allocation, shareable).
    pub payload: Arc<[u8]>,
    /// When the datagram carrying it was handed to the engine.
    pub arrival: Instant,
}

/// A payload the engine sends on a peer's audio, resolved to the payload type that peer
/// negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioPayload {
    /// Opus.
    Opus,
    /// telephone-event (RFC 4733) at this clock rate.
    TelephoneEvent(u32),
}

/// An RTP packet to send.
#[derive(Debug, Clone)]
pub struct RtpOut {
    /// The audio section to send on (0 for the first; a supervisor hears two).
    pub section: usize,
    /// What it carries.
    pub payload_kind: AudioPayload,
    /// Extended sequence number (the low 16 bits go on the wire).
    pub seq: u64,
    /// RTP timestamp.
    pub timestamp: u32,
    /// Marker bit.
    pub marker: bool,
    /// The payload, shared between every peer it goes to.
    pub payload: Arc<[u8]>,
}

pub(crate) struct Peer {
    pub rtc: Rtc,
    pub ufrag: String,
    /// Remote addresses routed to this peer (bounded; see `Endpoint`).
    pub addrs: Vec<(Protocol, SocketAddr)>,
    /// The audio sections in SDP order (ours when we offered, else announced by `MediaAdded`).
    pub audio: Vec<Mid>,
    /// An offer we made, waiting for its answer.
    pub pending: Option<str0m::change::SdpPendingOffer>,
    /// Payload types resolved by [`Peer::payload_type`], so a write looks them up once per
    /// section and kind, not per packet (forgotten when the negotiation changes).
    pts: Vec<(Mid, AudioPayload, Pt)>,
}

impl Peer {
    pub fn new(rtc: Rtc, ufrag: String) -> Self {
        Self {
            rtc,
            ufrag,
            addrs: Vec::new(),
            audio: Vec::new(),
            pending: None,
            pts: Vec::new(),
        }
    }

    /// Turns one str0m output into an engine event (`None` for what the caller never needs).
    pub fn event(&mut self, ev: Event) -> Option<PeerEvent> {
        match ev {
            Event::Connected => Some(PeerEvent::Connected),
            Event::IceConnectionStateChange(IceConnectionState::Disconnected) => {
                Some(PeerEvent::Gone)
            }
            Event::MediaAdded(m) if m.kind == MediaKind::Audio => {
                self.pts.clear();
                self.audio.push(m.mid);
                Some(PeerEvent::AudioReady {
                    section: self.audio.len() - 1,
                    can_send: matches!(m.direction, Direction::SendOnly | Direction::SendRecv),
                    can_receive: matches!(m.direction, Direction::RecvOnly | Direction::SendRecv),
                })
            }
            Event::RtpPacket(p) => Some(PeerEvent::Rtp(RtpIn {
                pt: *p.header.payload_type,
                seq: *p.seq_no,
                timestamp: p.header.timestamp,
                marker: p.header.marker,
                ssrc: *p.header.ssrc,
                payload: p.payload,
                arrival: p.timestamp,
            })),
            Event::ChannelOpen(channel, label) => Some(PeerEvent::ChannelOpen { channel, label }),
            Event::ChannelData(d) => Some(PeerEvent::ChannelData {
                channel: d.id,
                binary: d.binary,
                data: d.data,
            }),
            Event::ChannelClose(channel) => Some(PeerEvent::ChannelClose { channel }),
            _ => None,
        }
    }

    /// Queues one RTP packet on the audio section (drain the peer afterwards; the endpoint
    /// calls it under its panic guard).
    pub fn write_rtp(&mut self, now: Instant, out: RtpOut) -> Result<(), EngineError> {
        let mid = *self.audio.get(out.section).ok_or(EngineError::NoAudio)?;
        let pt = self.payload_type(mid, out.payload_kind)?;
        let write = RtpWrite::new(pt, SeqNo::from(out.seq), out.timestamp, now, out.payload)
            .marker(out.marker);
        let mut direct = self.rtc.direct_api();
        let stream = direct
            .stream_tx_by_mid(mid, None)
            .ok_or(EngineError::NoAudio)?;
        stream.write_rtp(write);
        Ok(())
    }

    /// A negotiation changed: payload types are resolved again.
    pub fn forget_payload_types(&mut self) {
        self.pts.clear();
    }

    /// The payload type the remote side accepts for `kind` on `mid`.
    fn payload_type(&mut self, mid: Mid, kind: AudioPayload) -> Result<Pt, EngineError> {
        if let Some(&(_, _, pt)) = self.pts.iter().find(|(m, k, _)| *m == mid && *k == kind) {
            return Ok(pt);
        }
        let pt = self.resolve_payload_type(mid, kind)?;
        self.pts.push((mid, kind, pt));
        Ok(pt)
    }

    fn resolve_payload_type(&self, mid: Mid, kind: AudioPayload) -> Result<Pt, EngineError> {
        let media = self.rtc.media(mid).ok_or(EngineError::NoAudio)?;
        let (codec, clock) = match kind {
            AudioPayload::Opus => (Codec::Opus, 48_000),
            AudioPayload::TelephoneEvent(clock) => (Codec::Tele, clock),
        };
        media
            .remote_pts()
            .iter()
            .copied()
            .find(|pt| {
                self.rtc.codec_config().params().iter().any(|p| {
                    p.pt() == *pt && p.spec().codec == codec && p.spec().clock_rate.get() == clock
                })
            })
            .ok_or(EngineError::NoAudio)
    }

    /// Drains the peer: transmits and events go to `sink`; returns its next deadline, or
    /// `None` when it failed or panicked (the caller removes it).
    pub fn drain(&mut self, mut sink: impl FnMut(Drained)) -> Option<Instant> {
        loop {
            let Some(output) = guard(|| self.rtc.poll_output()) else {
                return None; // panicked: the caller drops this peer
            };
            match output {
                Ok(Output::Timeout(t)) => {
                    return self.rtc.is_alive().then_some(t);
                }
                Ok(Output::Transmit(t)) => sink(Drained::Transmit(crate::Transmit {
                    proto: t.proto,
                    source: t.source,
                    destination: t.destination,
                    contents: t.contents.into(),
                })),
                Ok(Output::Event(ev)) => {
                    if let Some(e) = self.event(ev) {
                        sink(Drained::Event(e));
                    }
                }
                Err(_) => return None,
            }
        }
    }
}

pub(crate) enum Drained {
    Transmit(crate::Transmit),
    Event(PeerEvent),
}
