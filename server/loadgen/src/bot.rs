//! One bot: a str0m [`Rtc`] in RTP mode with one send-receive audio m-line (Opus only) and,
//! when asked, the `chat` data channel; its own UDP socket. The bot offers, the gateway
//! answers (its candidates in the answer). The fleet feeds it datagrams and timeouts and
//! drains it after each ([`Bot::drain`], str0m's single-mutation rule), collecting
//! [`BotEvent`]s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use mio::net::UdpSocket;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::channel::ChannelId;
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcError};

/// Opus RTP clock ticks per 20 ms packet.
pub(crate) const TICKS_PER_PACKET: u32 = 960;

/// Bot failures.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BotError {
    #[error("bot socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("str0m: {0}")]
    Rtc(#[from] RtcError),
    #[error("the answer is not SDP: {0}")]
    Sdp(String),
    #[error("the bot made no offer")]
    NoOffer,
}

/// What a drain reports to the fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BotEvent {
    /// ICE and DTLS are up: media can flow.
    Connected,
    /// ICE went to disconnected (the gateway stopped answering).
    Disconnected,
    /// An audio packet from the gateway, by its RTP timestamp.
    Media { timestamp: u32 },
    /// The chat channel opened.
    ChatOpen,
    /// A chat frame arrived.
    Chat,
}

/// One bot.
pub(crate) struct Bot {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    mid: Option<Mid>,
    pending: Option<SdpPendingOffer>,
    chat: Option<ChannelId>,
    seq: u32,
    /// Datagrams the socket refused (full send buffer).
    pub(crate) send_errors: u64,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot").field("local", &self.local).finish()
    }
}

impl Bot {
    /// A bot on `socket` (bound, non-blocking).
    pub(crate) fn new(now: Instant, socket: UdpSocket) -> Result<Self, BotError> {
        let local = socket.local_addr()?;
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .build(now);
        rtc.add_local_candidate(Candidate::host(local, "udp").map_err(RtcError::from)?);
        Ok(Self {
            rtc,
            socket,
            local,
            mid: None,
            pending: None,
            chat: None,
            seq: 0,
            send_errors: 0,
        })
    }

    /// The socket, to register with the poller and to read from.
    pub(crate) fn socket_mut(&mut self) -> &mut UdpSocket {
        &mut self.socket
    }

    /// The SDP offer: one send-receive audio m-line (Opus only), and the `chat` data channel
    /// with `chat`.
    pub(crate) fn offer(&mut self, chat: bool) -> Result<String, BotError> {
        let mut change = self.rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        if chat {
            change.add_channel("chat".to_owned());
        }
        let (offer, pending) = change.apply().ok_or(BotError::NoOffer)?;
        self.mid = Some(mid);
        self.pending = Some(pending);
        Ok(offer.to_sdp_string())
    }

    /// Applies the gateway's answer (drain afterwards).
    pub(crate) fn answer(&mut self, sdp: &str) -> Result<(), BotError> {
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| BotError::Sdp(e.to_string()))?;
        let pending = self.pending.take().ok_or(BotError::NoOffer)?;
        self.rtc.sdp_api().accept_answer(pending, answer)?;
        Ok(())
    }

    /// One datagram read from the socket (drain afterwards).
    pub(crate) fn receive(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &[u8],
    ) -> Result<(), BotError> {
        let Ok(contents) = data.try_into() else {
            return Ok(()); // not a WebRTC datagram
        };
        self.rtc.handle_input(Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source: from,
                destination: self.local,
                contents,
            },
        ))?;
        Ok(())
    }

    /// Time has come (drain afterwards).
    pub(crate) fn timeout(&mut self, now: Instant) -> Result<(), BotError> {
        self.rtc.handle_input(Input::Timeout(now))?;
        Ok(())
    }

    /// Writes the next 20 ms packet carrying `payload` (RTP timestamp: its sequence times 960);
    /// returns its sequence, or `None` when the media is not ready (drain afterwards).
    pub(crate) fn send_audio(&mut self, now: Instant, payload: Arc<[u8]>) -> Option<u32> {
        let mid = self.mid?;
        let pt = *self.rtc.media(mid)?.remote_pts().first()?;
        let seq = self.seq;
        let mut direct = self.rtc.direct_api();
        let stream = direct.stream_tx_by_mid(mid, None)?;
        let rtp_time = seq.wrapping_mul(TICKS_PER_PACKET);
        stream.write_rtp(
            RtpWrite::new(pt, SeqNo::from(u64::from(seq)), rtp_time, now, payload).marker(seq == 0),
        );
        self.seq = self.seq.wrapping_add(1);
        Some(seq)
    }

    /// The sequence number of the next packet [`Bot::send_audio`] writes.
    pub(crate) fn next_seq(&self) -> u32 {
        self.seq
    }

    /// Sends a text frame on the chat channel; false when it is not open (drain afterwards).
    pub(crate) fn send_chat(&mut self, text: &str) -> bool {
        let Some(id) = self.chat else { return false };
        let Some(mut channel) = self.rtc.channel(id) else {
            return false;
        };
        channel.write(false, text.as_bytes()).unwrap_or(false)
    }

    /// Polls the engine until its next timeout (returned): sends its datagrams, reports events.
    pub(crate) fn drain(
        &mut self,
        on_event: &mut impl FnMut(BotEvent),
    ) -> Result<Instant, BotError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    if self.socket.send_to(&t.contents, t.destination).is_err() {
                        self.send_errors += 1;
                    }
                }
                Output::Event(Event::Connected) => on_event(BotEvent::Connected),
                Output::Event(Event::IceConnectionStateChange(
                    IceConnectionState::Disconnected,
                )) => on_event(BotEvent::Disconnected),
                Output::Event(Event::RtpPacket(p)) => on_event(BotEvent::Media {
                    timestamp: p.header.timestamp,
                }),
                Output::Event(Event::ChannelOpen(id, _)) => {
                    self.chat = Some(id);
                    on_event(BotEvent::ChatOpen);
                }
                Output::Event(Event::ChannelData(_)) => on_event(BotEvent::Chat),
                Output::Event(_) => {}
            }
        }
    }
}
