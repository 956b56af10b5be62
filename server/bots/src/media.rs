//! The bot's media: the uplink (Opus + RFC 4733 keys, paced 20 ms), the receive log, and the
//! peer connection events.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hushpay_media::Digit;
use hushpay_media::opus_codec::{Decoder, Encoder};
use hushpay_media::rfc4733::TelephoneEvent;
use hushpay_media::seq::SeqExtender;
use hushpay_protocol::chat::ChatOut;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp::header::Header;
use rtc::rtp::packet::Packet;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use tokio::sync::mpsc;
use webrtc::data_channel::{DataChannel, DataChannelEvent};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{PeerConnectionEventHandler, RTCPeerConnectionIceEvent};

use super::BotError;
use crate::peer::{EVENT_48K_PT, OPUS_FMTP, OPUS_PT};

/// 20 ms at 48 kHz.
pub const FRAME: usize = 960;

/// An RFC 4733 key press: `digit` held from `at_ms` for `ms` (multiples of 20 ms).
#[derive(Debug, Clone, Copy)]
pub struct Key {
    pub digit: Digit,
    pub at_ms: u64,
    pub ms: u64,
}

/// (RTP timestamp, send instant) of each Opus packet sent.
pub type SentLog = Vec<(u32, Instant)>;

pub(super) fn uplink_track() -> (Arc<TrackLocalStaticRTP>, u32) {
    let ssrc = rand::random::<u32>();
    let track = MediaStreamTrack::new(
        "bot".to_owned(),
        format!("bot-audio-{ssrc:08x}"),
        "bot audio".to_owned(),
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
    (Arc::new(TrackLocalStaticRTP::new(track)), ssrc)
}

/// Where the bot's stream stands after its last packet: (sequence number, timestamp, when).
pub(super) type StreamPos = Arc<Mutex<Option<(u16, u32, Instant)>>>;

/// Sends the bot's stream. Successive [`Uplink::play`] calls continue one RTP stream
/// (sequence numbers +1, timestamps with real time), as a phone keeps sending.
#[derive(Clone)]
pub struct Uplink {
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
    pos: StreamPos,
}

impl std::fmt::Debug for Uplink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Uplink").field("ssrc", &self.ssrc).finish()
    }
}

impl Uplink {
    pub(super) fn new(track: Arc<TrackLocalStaticRTP>, ssrc: u32, pos: StreamPos) -> Self {
        Self { track, ssrc, pos }
    }

    async fn write(&self, marker: bool, pt: u8, seq: u16, ts: u32, payload: &[u8]) -> bool {
        let packet = Packet {
            header: Header {
                version: 2,
                marker,
                payload_type: pt,
                sequence_number: seq,
                timestamp: ts,
                ssrc: self.ssrc,
                ..Default::default()
            },
            payload: Bytes::copy_from_slice(payload),
        };
        self.track.write_rtp(packet).await.is_ok()
    }

    /// Publishes `pcm` (48 kHz mono) paced at 20 ms; `keys` replace the audio while down.
    pub async fn play(&self, pcm: &[i16], keys: &[Key]) -> Result<SentLog, BotError> {
        self.play_packets(&encode(pcm)?, keys).await
    }

    /// Publishes pre-encoded 20 ms Opus frames paced at 20 ms (the load generator encodes
    /// once for every bot); `keys` replace frames while down.
    pub async fn play_packets(
        &self,
        frames: &[Vec<u8>],
        keys: &[Key],
    ) -> Result<SentLog, BotError> {
        // A call right after the last one goes on at the same pace (its first packet 20 ms
        // after the last one); a later one jumps the timestamp by the time that passed.
        let now = Instant::now();
        let (mut seq, ts0, first_at) = match *self.pos.lock().unwrap_or_else(|p| p.into_inner()) {
            None => (rand::random::<u16>(), rand::random::<u32>(), now),
            Some((seq, ts, at)) => {
                let first_at = now.max(at + Duration::from_millis(20));
                let frames = (first_at.duration_since(at).as_millis() + 10) / 20;
                let step = u32::try_from(frames).unwrap_or(u32::MAX / 960) * FRAME as u32;
                (seq, ts.wrapping_add(step), first_at)
            }
        };
        let mut log = Vec::with_capacity(frames.len());
        let mut tick = tokio::time::interval_at(first_at.into(), Duration::from_millis(20));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for (i, payload) in frames.iter().enumerate() {
            tick.tick().await;
            let t_ms = i as u64 * 20;
            let ts = ts0.wrapping_add((i * FRAME) as u32);
            if let Some(k) = keys
                .iter()
                .find(|k| (k.at_ms..k.at_ms + k.ms).contains(&t_ms))
            {
                let first = t_ms == k.at_ms;
                let last = t_ms + 20 >= k.at_ms + k.ms;
                let start_ts = ts0.wrapping_add((k.at_ms as usize / 20 * FRAME) as u32);
                let ev = TelephoneEvent {
                    code: k.digit.event_code(),
                    end: last,
                    volume: 10,
                    duration: u16::try_from((t_ms + 20 - k.at_ms) * 48).unwrap_or(u16::MAX),
                };
                let repeats = if last { 3 } else { 1 };
                for _ in 0..repeats {
                    self.write(first, EVENT_48K_PT, seq, start_ts, &ev.build())
                        .await;
                    seq = seq.wrapping_add(1);
                }
                continue;
            }
            let sent_at = Instant::now();
            if self.write(i == 0, OPUS_PT, seq, ts, payload).await {
                log.push((ts, sent_at));
            }
            seq = seq.wrapping_add(1);
        }
        if let Some(n) = frames.len().checked_sub(1) {
            let last = ts0.wrapping_add((n * FRAME) as u32);
            let at = first_at + Duration::from_millis(20) * u32::try_from(n).unwrap_or(0);
            *self.pos.lock().unwrap_or_else(|p| p.into_inner()) = Some((seq, last, at));
        }
        Ok(log)
    }
}

/// Encodes 48 kHz mono PCM into 20 ms Opus frames (32 kb/s), the last one padded, honouring
/// the `maxplaybackrate` the SFU's SDP asks for, as browsers do.
pub fn encode(pcm: &[i16]) -> Result<Vec<Vec<u8>>, BotError> {
    let mut enc = Encoder::new(48_000, 32_000).map_err(|e| BotError::new("opus", e))?;
    enc.set_max_playback_rate(crate::peer::MAX_PLAYBACK_RATE)
        .map_err(|e| BotError::new("opus", e))?;
    let mut frame = vec![0i16; FRAME];
    pcm.chunks(FRAME)
        .map(|c| {
            frame.fill(0);
            frame[..c.len()].copy_from_slice(c);
            enc.encode(&frame).map_err(|e| BotError::new("opus", e))
        })
        .collect()
}

/// What the bot received on its downlink track(s).
#[derive(Debug)]
pub struct Received {
    keep: bool,
    seq: SeqExtender,
    /// (extended seq, rtp timestamp, arrival, payload if kept)
    pub packets: Vec<(u64, u32, Instant, Option<Vec<u8>>)>,
}

impl Received {
    pub(super) fn new(keep: bool) -> Self {
        Self {
            keep,
            seq: SeqExtender::new(),
            packets: Vec::new(),
        }
    }

    fn push(&mut self, p: &Packet, at: Instant) {
        let ext = self.seq.extend(u64::from(p.header.sequence_number));
        let payload = self.keep.then(|| p.payload.to_vec());
        self.packets.push((ext, p.header.timestamp, at, payload));
    }

    pub fn last_at(&self) -> Option<Instant> {
        self.packets.last().map(|p| p.2)
    }

    /// Decodes the kept packets in sequence order at 48 kHz; a missing packet is 20 ms of
    /// silence.
    pub fn decode(&self) -> Vec<i16> {
        let mut sorted: Vec<_> = self.packets.iter().filter(|p| p.3.is_some()).collect();
        sorted.sort_by_key(|p| p.0);
        sorted.dedup_by_key(|p| p.0);
        let Ok(mut dec) = Decoder::new(48_000) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut prev: Option<u64> = None;
        for (seq, _, _, payload) in sorted {
            if let Some(p) = prev {
                for _ in p + 1..*seq {
                    out.extend(std::iter::repeat_n(0i16, FRAME));
                }
            }
            prev = Some(*seq);
            if let Some(bytes) = payload
                && dec.decode_into(bytes, &mut out).is_err()
            {
                out.extend(std::iter::repeat_n(0i16, FRAME));
            }
        }
        out
    }
}

/// The bot's peer connection events.
pub(super) struct Handler {
    received: Arc<Mutex<Received>>,
    signal_tx: mpsc::UnboundedSender<String>,
    /// Candidates gathered before the offer went out (gathering starts with the local
    /// description, before the offer is sent); `None` once it has: they follow it, in order,
    /// as the protocol asks (a candidate before the offer is refused with `not_joined`).
    held: Mutex<Option<Vec<String>>>,
}

impl Handler {
    pub(super) fn new(
        received: Arc<Mutex<Received>>,
        signal_tx: mpsc::UnboundedSender<String>,
    ) -> (Arc<Self>, mpsc::Receiver<()>) {
        let (_tx, rx) = mpsc::channel(1);
        (
            Arc::new(Self {
                received,
                signal_tx,
                held: Mutex::new(Some(Vec::new())),
            }),
            rx,
        )
    }

    /// The offer has been sent: the held candidates follow it, and later ones go at once.
    pub(super) fn offer_sent(&self) {
        let held = self.held.lock().unwrap_or_else(|p| p.into_inner()).take();
        for c in held.into_iter().flatten() {
            let _ = self.signal_tx.send(c);
        }
    }
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_candidate(&self, event: RTCPeerConnectionIceEvent) {
        if let Ok(init) = event.candidate.to_json() {
            let msg = serde_json::json!({
                "type": "candidate",
                "candidate": init.candidate,
                "sdpMid": null,
                "sdpMLineIndex": 0,
            });
            let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
            match held.as_mut() {
                Some(queue) => queue.push(msg.to_string()),
                None => drop(self.signal_tx.send(msg.to_string())),
            }
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let received = Arc::clone(&self.received);
        tokio::spawn(async move {
            while let Some(ev) = track.poll().await {
                match ev {
                    TrackRemoteEvent::OnRtpPacket(p) => {
                        let now = Instant::now();
                        received
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(&p, now);
                    }
                    TrackRemoteEvent::OnEnded => break,
                    _ => {}
                }
            }
        });
    }
}

/// Reads the chat channel: signals `open`, forwards parsed frames.
pub(super) fn spawn_chat_reader(
    dc: Arc<dyn DataChannel>,
    tx: mpsc::Sender<ChatOut>,
    open_rx: &mut mpsc::Receiver<()>,
    log: Option<super::FrameLog>,
) {
    let (open_tx, rx) = mpsc::channel(1);
    *open_rx = rx;
    tokio::spawn(async move {
        while let Some(ev) = dc.poll().await {
            match ev {
                DataChannelEvent::OnOpen => {
                    let _ = open_tx.try_send(());
                }
                DataChannelEvent::OnMessage(m) => {
                    if let Some(log) = &log {
                        super::log_frame(log, &String::from_utf8_lossy(&m.data));
                    }
                    if let Ok(out) = serde_json::from_slice::<ChatOut>(&m.data) {
                        let _ = tx.send(out).await;
                    }
                }
                DataChannelEvent::OnClose => break,
                _ => {}
            }
        }
    });
}
