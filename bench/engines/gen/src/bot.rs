//! One call-pair bot: a str0m [`Rtc`] in RTP mode with one send-receive audio m-line, its own UDP
//! socket, and the Opus sender. The bot offers; the forwarder answers. The fleet feeds it
//! datagrams and timeouts and drains it after each ([`Bot::drain`], str0m's single-mutation
//! rule), collecting [`BotEvent`]s.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use mio::net::UdpSocket;
use str0m::change::{SdpAnswer, SdpPendingOffer};
use str0m::media::{Direction, MediaKind, Mid};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc, RtcError};

use crate::payload;

/// Opus RTP clock ticks per 20 ms packet.
const TICKS_PER_PACKET: u32 = 960;

/// Bot failures.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
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
pub enum BotEvent {
    /// ICE and DTLS are up: media can flow.
    Connected,
    /// ICE went to disconnected (the forwarder stopped answering).
    Disconnected,
    /// An audio packet from the partner: its stamp, if it carried one.
    Media { seq: u32, sent_ns: u64 },
}

/// One bot.
pub struct Bot {
    rtc: Rtc,
    socket: UdpSocket,
    local: SocketAddr,
    mid: Option<Mid>,
    pending: Option<SdpPendingOffer>,
    seq: u32,
    connected: bool,
    /// Datagrams the socket refused (full send buffer).
    pub send_errors: u64,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("local", &self.local)
            .field("connected", &self.connected)
            .finish()
    }
}

impl Bot {
    /// A bot on `socket` (bound, non-blocking).
    pub fn new(now: Instant, socket: UdpSocket) -> Result<Self, BotError> {
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
            seq: 0,
            connected: false,
            send_errors: 0,
        })
    }

    /// The socket, to register with the poller and to read from.
    pub fn socket_mut(&mut self) -> &mut UdpSocket {
        &mut self.socket
    }

    /// True once [`BotEvent::Connected`] was seen.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// The SDP offer (one send-receive audio m-line, Opus only).
    pub fn offer(&mut self) -> Result<String, BotError> {
        let mut change = self.rtc.sdp_api();
        let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
        let (offer, pending) = change.apply().ok_or(BotError::NoOffer)?;
        self.mid = Some(mid);
        self.pending = Some(pending);
        Ok(offer.to_sdp_string())
    }

    /// Applies the forwarder's answer (drain afterwards).
    pub fn answer(&mut self, sdp: &str) -> Result<(), BotError> {
        let answer = SdpAnswer::from_sdp_string(sdp).map_err(|e| BotError::Sdp(e.to_string()))?;
        let pending = self.pending.take().ok_or(BotError::NoOffer)?;
        self.rtc.sdp_api().accept_answer(pending, answer)?;
        Ok(())
    }

    /// One datagram read from the socket (drain afterwards).
    pub fn receive(&mut self, now: Instant, from: SocketAddr, data: &[u8]) -> Result<(), BotError> {
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
    pub fn timeout(&mut self, now: Instant) -> Result<(), BotError> {
        self.rtc.handle_input(Input::Timeout(now))?;
        Ok(())
    }

    /// Writes the next 20 ms packet with a `payload_len`-byte payload stamped with `sent_ns`;
    /// returns its sequence, or `None` when the media is not ready (drain afterwards).
    pub fn send_audio(&mut self, now: Instant, payload_len: usize, sent_ns: u64) -> Option<u32> {
        let mid = self.mid?;
        let pt = *self.rtc.media(mid)?.remote_pts().first()?;
        let seq = self.seq;
        let body: Arc<[u8]> = payload::stamped(payload_len, seq, sent_ns).into();
        let mut direct = self.rtc.direct_api();
        let stream = direct.stream_tx_by_mid(mid, None)?;
        let rtp_time = seq.wrapping_mul(TICKS_PER_PACKET);
        stream.write_rtp(
            RtpWrite::new(pt, SeqNo::from(u64::from(seq)), rtp_time, now, body).marker(seq == 0),
        );
        self.seq = self.seq.wrapping_add(1);
        Some(seq)
    }

    /// Polls the engine until its next timeout (returned): sends its datagrams, reports events.
    pub fn drain(&mut self, on_event: &mut impl FnMut(BotEvent)) -> Result<Instant, BotError> {
        loop {
            match self.rtc.poll_output()? {
                Output::Timeout(t) => return Ok(t),
                Output::Transmit(t) => {
                    if self.socket.send_to(&t.contents, t.destination).is_err() {
                        self.send_errors += 1;
                    }
                }
                Output::Event(Event::Connected) => {
                    self.connected = true;
                    on_event(BotEvent::Connected);
                }
                Output::Event(Event::IceConnectionStateChange(
                    IceConnectionState::Disconnected,
                )) => on_event(BotEvent::Disconnected),
                Output::Event(Event::RtpPacket(p)) => {
                    if let Some((seq, sent_ns)) = payload::read(&p.payload) {
                        on_event(BotEvent::Media { seq, sent_ns });
                    }
                }
                Output::Event(_) => {}
            }
        }
    }
}
