//! # hushpay-bots
//!
//! Participant bots over webrtc-rs 0.21, for tests and interop: a [`Bot`] joins a room of a
//! Hushpay gateway with a participant token, over real WebRTC (signalling on `GET /v1/rtc`,
//! the wire types of `hushpay-protocol`). It publishes Opus audio from PCM (a WAV), sends
//! RFC 4733 keys in the same RTP stream (no Opus while a key is down, end packet three times,
//! as Chrome does), records what it receives, and chats on the `chat` data channel. A
//! `redirect` from a cluster node is followed to the node that holds the room. The
//! gateway's end-to-end tests and the load generator's `webrtc` engine are built on it.

mod media;
pub mod peer;
mod signalling;

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use tokio::sync::mpsc;
use webrtc::data_channel::DataChannel;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::peer_connection::{PeerConnection, RTCSessionDescription};

use hushpay_protocol::chat::ChatOut;
use hushpay_protocol::signal::ServerMessage;

pub use media::{Key, Received, SentLog, Uplink, encode};
use signalling::Signalling;

/// Bot errors (the bot is a test and load tool: errors are text).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BotError(pub String);

impl BotError {
    fn new(context: &str, e: impl std::fmt::Display) -> Self {
        Self(format!("{context}: {e}"))
    }
}

/// Redirects followed before a join gives up (a cluster sends at most one in practice).
const MAX_REDIRECTS: usize = 3;

/// The signalling URL of the gateway at `base` (`http(s)://host[:port]`, a node's public URL).
pub fn rtc_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_owned()
    };
    format!("{ws}/v1/rtc")
}

/// How to reach the gateway.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// `ws://host:port/v1/rtc`
    pub url: String,
    pub token: String,
    /// IP the bot's media socket binds.
    pub media_ip: IpAddr,
    /// Keep decodable copies of received packets (tests); off for load generation.
    pub keep_payloads: bool,
}

/// The raw text frames a bot received (signalling and chat), kept with `keep_payloads`.
type FrameLog = Arc<Mutex<Vec<String>>>;

fn log_frame(log: &FrameLog, text: &str) {
    log.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(text.to_owned());
}

/// A connected participant.
pub struct Bot {
    signalling: Signalling,
    pc: Arc<dyn PeerConnection>,
    uplink: Arc<TrackLocalStaticRTP>,
    uplink_pos: media::StreamPos,
    pub ssrc: u32,
    pub received: Arc<Mutex<Received>>,
    chat: Arc<dyn DataChannel>,
    chat_rx: mpsc::Receiver<ChatOut>,
    /// Signalling frames other than candidates and answers.
    pub events: mpsc::Receiver<ServerMessage>,
    frames: FrameLog,
    pub participant_id: String,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("participant_id", &self.participant_id)
            .finish()
    }
}

impl Bot {
    /// Connects, joins, negotiates, and waits until the chat channel is open.
    pub async fn connect(config: BotConfig) -> Result<Bot, BotError> {
        let frames = FrameLog::default();
        let log = config.keep_payloads.then(|| Arc::clone(&frames));
        let mut url = config.url.clone();
        let mut redirects = 0;
        let (mut signalling, mut events, participant_id) = 'join: loop {
            let (signalling, mut events) =
                Signalling::connect(&url, &config.token, log.clone()).await?;
            signalling.send_json(&serde_json::json!({"type":"join","v":1}))?;
            loop {
                match events.recv().await {
                    Some(ServerMessage::Joined { participant, .. }) => {
                        break 'join (signalling, events, participant.participant_id);
                    }
                    // A cluster node that does not hold the room names the one that does.
                    Some(ServerMessage::Redirect { url: to, .. }) if redirects < MAX_REDIRECTS => {
                        redirects += 1;
                        url = rtc_url(&to);
                        continue 'join;
                    }
                    Some(ServerMessage::Error { code, message }) => {
                        return Err(BotError(format!("join refused: {code}: {message}")));
                    }
                    Some(_) => continue,
                    None => return Err(BotError("signalling closed before joined".into())),
                }
            }
        };
        let received = Arc::new(Mutex::new(Received::new(config.keep_payloads)));
        let (handler, mut chat_open) =
            media::Handler::new(Arc::clone(&received), signalling.sender());
        let (chat_tx, chat_rx) = mpsc::channel(256);
        let pc = peer::build(
            std::net::SocketAddr::new(config.media_ip, 0),
            Arc::clone(&handler) as _,
        )
        .await
        .map_err(|e| BotError::new("peer connection", e))?;
        let (uplink, ssrc) = media::uplink_track();
        pc.add_track(Arc::clone(&uplink) as Arc<dyn TrackLocal>)
            .await
            .map_err(|e| BotError::new("add track", e))?;
        // Offer telephone-event next to Opus, as browsers do (the track alone offers Opus).
        // Only the 48 kHz entry: the 8 kHz one would be stripped by the server anyway.
        let codecs: Vec<_> = peer::audio_codecs().into_iter().take(2).collect();
        for t in pc.get_transceivers().await {
            t.set_codec_preferences(codecs.clone())
                .await
                .map_err(|e| BotError::new("codec preferences", e))?;
        }
        let chat = pc
            .create_data_channel("chat", None)
            .await
            .map_err(|e| BotError::new("data channel", e))?;
        let offer = pc
            .create_offer(None)
            .await
            .map_err(|e| BotError::new("offer", e))?;
        let sdp = offer.sdp.clone();
        pc.set_local_description(offer)
            .await
            .map_err(|e| BotError::new("local description", e))?;
        signalling.send_json(&serde_json::json!({"type":"offer","sdp":sdp}))?;
        handler.offer_sent();
        let answer = signalling.take_answer().await?;
        let desc = RTCSessionDescription::answer(answer).map_err(|e| BotError::new("answer", e))?;
        pc.set_remote_description(desc)
            .await
            .map_err(|e| BotError::new("remote description", e))?;
        signalling.start_candidates(Arc::clone(&pc), &mut events);
        media::spawn_chat_reader(Arc::clone(&chat), chat_tx, &mut chat_open, log);
        tokio::time::timeout(std::time::Duration::from_secs(10), chat_open.recv())
            .await
            .map_err(|_| BotError("chat channel did not open within 10 s".into()))?;
        Ok(Bot {
            signalling,
            pc,
            uplink,
            uplink_pos: media::StreamPos::default(),
            ssrc,
            received,
            chat,
            chat_rx,
            events: signalling_events(events),
            frames,
            participant_id,
        })
    }

    /// An uplink sender for audio and keys (pacing is the caller's: one call per 20 ms).
    pub fn uplink(&self) -> Uplink {
        Uplink::new(
            Arc::clone(&self.uplink),
            self.ssrc,
            Arc::clone(&self.uplink_pos),
        )
    }

    /// Publishes `pcm` (48 kHz mono) in real time with `keys`, logging send times.
    pub async fn play(&self, pcm: &[i16], keys: &[Key]) -> Result<SentLog, BotError> {
        self.uplink().play(pcm, keys).await
    }

    /// Sends a chat message.
    pub async fn chat(&self, text: &str) -> Result<(), BotError> {
        let json = serde_json::json!({"type":"chat","text":text}).to_string();
        self.chat
            .send_text(&json)
            .await
            .map_err(|e| BotError::new("chat send", e))
    }

    /// Sends raw bytes on the chat channel (bad-input tests).
    pub async fn chat_raw(&self, text: &str) -> Result<(), BotError> {
        self.chat
            .send_text(text)
            .await
            .map_err(|e| BotError::new("chat send", e))
    }

    /// The next chat frame, if one arrives within `within`.
    pub async fn next_chat(&mut self, within: std::time::Duration) -> Option<ChatOut> {
        tokio::time::timeout(within, self.chat_rx.recv())
            .await
            .ok()
            .flatten()
    }

    /// Every text frame received so far on the signalling socket and the chat channel, raw
    /// and in arrival order (needs `keep_payloads`; empty otherwise).
    pub fn raw_frames(&self) -> Vec<String> {
        self.frames
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Sends a raw signalling frame.
    pub fn send_signal(&self, json: &serde_json::Value) -> Result<(), BotError> {
        self.signalling.send_json(json)
    }

    /// The audio received so far, decoded at 48 kHz (needs `keep_payloads`).
    pub fn recording(&self) -> Vec<i16> {
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .decode()
    }

    /// Leaves and closes everything.
    pub async fn leave(self) {
        let _ = self
            .signalling
            .send_json(&serde_json::json!({"type":"leave"}));
        self.signalling.close().await;
        let _ = self.pc.close().await;
    }

    /// Drops the connection without `leave` (abrupt disconnect).
    pub async fn vanish(self) {
        self.signalling.abort();
        let _ = self.pc.close().await;
    }

    /// When the bot last received a packet.
    pub fn last_packet_at(&self) -> Option<Instant> {
        self.received
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_at()
    }
}

fn signalling_events(rx: mpsc::Receiver<ServerMessage>) -> mpsc::Receiver<ServerMessage> {
    rx
}
