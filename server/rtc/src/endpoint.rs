//! The endpoint: every peer of one worker behind one UDP address (and one TCP address),
//! sans-IO. See the crate docs for the contract.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::Instant;

use str0m::change::{SdpAnswer, SdpOffer};
use str0m::channel::ChannelId;
use str0m::format::{Codec, CodecConfig, CodecSpec, FormatParams, PayloadParams};
use str0m::media::{Direction, Frequency, MediaKind};
use str0m::net::{Protocol, Receive, TcpType};
use str0m::rtp::{Extension, ExtensionMap};
use str0m::{Candidate, Input, Rtc, RtcConfig};

use crate::deadlines::Deadlines;
use crate::peer::{Drained, Peer, PeerEvent, RtpOut};
use crate::unwind::guard;
use crate::{EngineError, sdp, stun};

/// How many remote addresses one peer may be reached from (host, reflexive, relayed, TCP
/// candidates of its side); beyond it the oldest route is forgotten, so a flood of checks from
/// new addresses cannot grow the routing table.
pub const MAX_ROUTES_PER_PEER: usize = 8;

/// Where the endpoint receives, and what it advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointConfig {
    /// The local UDP address the driver's socket is bound to.
    pub udp: SocketAddr,
    /// Offer UDP candidates (false: a TCP-only client, as behind a firewall that drops UDP).
    pub udp_candidates: bool,
    /// The local TCP address for ICE-TCP (RFC 6544), if any: a passive candidate the peers
    /// connect to (a server), or with `tcp_active` an active one (a client that connects).
    pub tcp: Option<SocketAddr>,
    /// The TCP candidate is active (the driver connects out) instead of passive.
    pub tcp_active: bool,
    /// Opus payload type offered (answers follow the offer's numbering).
    pub opus_pt: u8,
    /// telephone-event payload types and clock rates offered.
    pub event_pts: Vec<(u8, u32)>,
}

impl EndpointConfig {
    /// UDP on `udp` only, Chrome's payload types (Opus 111, telephone-event 110 and 126).
    pub fn udp(udp: SocketAddr) -> Self {
        Self {
            udp,
            udp_candidates: true,
            tcp: None,
            tcp_active: false,
            opus_pt: 111,
            event_pts: vec![(110, 48_000), (126, 8_000)],
        }
    }
}

/// The RTP header extensions negotiated: the media section's id only. Audio-only calls have no
/// use for bandwidth estimation, so no transport-wide sequence numbers (TWCC feedback would
/// add a report per peer every 50 ms, 40 % more datagrams than the audio's 50 a second),
/// no absolute send time and no audio level (nothing reads it).
fn audio_extensions() -> ExtensionMap {
    let mut map = ExtensionMap::empty();
    map.set(4, Extension::RtpMid);
    map
}

/// A peer of an endpoint. Ids are not reused: a closed peer's id stays unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerId {
    slot: u32,
    generation: u32,
}

impl std::fmt::Display for PeerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "peer-{}.{}", self.slot, self.generation)
    }
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// UDP, or TCP (frame it per RFC 4571 on the connection to `destination`).
    pub proto: Protocol,
    /// The local address to send from.
    pub source: SocketAddr,
    /// Where to.
    pub destination: SocketAddr,
    /// The datagram.
    pub contents: Vec<u8>,
}

/// What the endpoint asks of its driver and its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// Send this datagram.
    Transmit(Transmit),
    /// Something happened on a peer.
    Event(PeerId, PeerEvent),
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams handed in.
    pub datagrams_in: u64,
    /// Of which refused (no peer, or not WebRTC).
    pub refused: u64,
    /// Datagrams out.
    pub datagrams_out: u64,
}

struct Slot {
    generation: u32,
    peer: Option<Peer>,
}

/// Every peer of one worker. See the crate docs.
pub struct Endpoint {
    config: EndpointConfig,
    slots: Vec<Slot>,
    free: Vec<usize>,
    by_ufrag: HashMap<String, usize>,
    by_addr: HashMap<(Protocol, SocketAddr), usize>,
    deadlines: Deadlines,
    out: VecDeque<Output>,
    stats: EndpointStats,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("udp", &self.config.udp)
            .field("peers", &self.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Endpoint {
    /// An endpoint with no peers.
    pub fn new(config: EndpointConfig) -> Self {
        Self {
            config,
            slots: Vec::new(),
            free: Vec::new(),
            by_ufrag: HashMap::new(),
            by_addr: HashMap::new(),
            deadlines: Deadlines::default(),
            out: VecDeque::new(),
            stats: EndpointStats::default(),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Peers open.
    pub fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// True with no peer.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Counters so far.
    pub fn stats(&self) -> EndpointStats {
        self.stats
    }

    /// A new peer answering `offer` (a browser, a softphone gateway); returns its id and the
    /// answer to send back (munged: 20 ms, wideband Opus without FEC, see [`sdp`]).
    pub fn accept_offer(
        &mut self,
        now: Instant,
        offer: &str,
    ) -> Result<(PeerId, String), EngineError> {
        let offer = guard(|| SdpOffer::from_sdp_string(offer))
            .ok_or(EngineError::Panicked)?
            .map_err(|e| EngineError::Sdp(e.to_string()))?;
        let mut rtc = self.rtc(now)?;
        let answer = guard(|| rtc.sdp_api().accept_offer(offer))
            .ok_or(EngineError::Panicked)?
            .map_err(|e| EngineError::Sdp(e.to_string()))?;
        let id = self.insert(rtc);
        self.drain(id.slot as usize);
        Ok((id, sdp::munge_answer(&answer.to_sdp_string())))
    }

    /// A new peer offering `audio_sections` send-and-receive audio sections (at least one)
    /// and, with `channel`, a data channel of that label (the bots of the load generator and
    /// the tests); returns its id and the offer. Apply the answer with
    /// [`Endpoint::accept_answer`].
    pub fn create_offer(
        &mut self,
        now: Instant,
        audio_sections: usize,
        channel: Option<&str>,
    ) -> Result<(PeerId, String), EngineError> {
        let mut rtc = self.rtc(now)?;
        let made = guard(|| {
            let mut change = rtc.sdp_api();
            let mids: Vec<_> = (0..audio_sections.max(1))
                .map(|_| change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None))
                .collect();
            if let Some(label) = channel {
                change.add_channel(label.to_owned());
            }
            change
                .apply()
                .map(|(offer, pending)| (mids, offer, pending))
        });
        let (mids, offer, pending) = made
            .ok_or(EngineError::Panicked)?
            .ok_or_else(|| EngineError::Sdp("nothing to offer".to_owned()))?;
        let id = self.insert(rtc);
        if let Some(peer) = self.peer_mut(id) {
            peer.pending = Some(pending);
            peer.audio = mids;
        }
        Ok((id, offer.to_sdp_string()))
    }

    /// A candidate the remote side trickled (`candidate:...` or `a=candidate:...`); an empty
    /// one (end of candidates) is accepted and does nothing.
    pub fn add_remote_candidate(
        &mut self,
        peer: PeerId,
        candidate: &str,
    ) -> Result<(), EngineError> {
        let p = self.peer_mut(peer).ok_or(EngineError::UnknownPeer)?;
        let Some(c) = parse_candidate(candidate)? else {
            return Ok(());
        };
        p.rtc.add_remote_candidate(c);
        self.drain(peer.slot as usize);
        Ok(())
    }

    /// Applies the answer to the offer `peer` made.
    pub fn accept_answer(&mut self, peer: PeerId, answer: &str) -> Result<(), EngineError> {
        let answer =
            SdpAnswer::from_sdp_string(answer).map_err(|e| EngineError::Sdp(e.to_string()))?;
        let p = self.peer_mut(peer).ok_or(EngineError::UnknownPeer)?;
        let pending = p
            .pending
            .take()
            .ok_or_else(|| EngineError::Sdp("no offer is waiting for an answer".to_owned()))?;
        let slot = peer.slot as usize;
        self.call(slot, |p| {
            p.forget_payload_types();
            p.rtc.sdp_api().accept_answer(pending, answer)
        })?
        .map_err(|e| EngineError::Sdp(e.to_string()))?;
        self.drain(slot);
        Ok(())
    }

    /// One datagram that arrived at `now` on `destination` (the local address) from `source`.
    /// Routed by the remote address a connectivity check came from, or by the `USERNAME` of
    /// the check itself; a new address is routed only once its check passes the peer's
    /// integrity check (so a check forged without the peer's ICE password cannot route an
    /// address or evict a route). Anything else is refused and changes nothing.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        proto: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        data: &[u8],
    ) -> Result<PeerId, EngineError> {
        self.stats.datagrams_in += 1;
        let known = self.by_addr.get(&(proto, source)).copied();
        let slot = match known {
            Some(slot) => slot,
            None => self
                .by_ufrag(data)
                .inspect_err(|_| self.stats.refused += 1)?,
        };
        let Ok(contents) = data.try_into() else {
            self.stats.refused += 1;
            return Err(EngineError::NotWebRtc);
        };
        let input = Input::Receive(
            now,
            Receive {
                proto,
                source,
                destination,
                contents,
            },
        );
        if known.is_none() {
            if !self.call(slot, |p| p.rtc.accepts(&input))? {
                self.stats.refused += 1;
                return Err(EngineError::Unroutable);
            }
            self.add_route(slot, proto, source);
        }
        let id = self.id(slot);
        if self.call(slot, |p| p.rtc.handle_input(input))?.is_err() {
            self.stats.refused += 1;
        }
        self.drain(slot);
        Ok(id)
    }

    /// Runs every peer whose deadline is `now` or earlier.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(slot) = self.deadlines.pop_due(now) {
            // A failed timeout shows in the drain (the peer is no longer alive); a gone or
            // panicked peer has nothing to drain.
            if self
                .call(slot, |p| p.rtc.handle_input(Input::Timeout(now)))
                .is_ok()
            {
                self.drain(slot);
            }
        }
    }

    /// The next instant [`Endpoint::handle_timeout`] is due.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        self.deadlines.earliest()
    }

    /// The next datagram to send or event to handle.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// Sends one RTP packet on `peer`'s audio.
    pub fn write_rtp(
        &mut self,
        now: Instant,
        peer: PeerId,
        rtp: RtpOut,
    ) -> Result<(), EngineError> {
        self.peer_mut(peer).ok_or(EngineError::UnknownPeer)?;
        let slot = peer.slot as usize;
        self.call(slot, |p| p.write_rtp(now, rtp))??;
        self.drain(slot);
        Ok(())
    }

    /// Sends one message on a data channel; false when its buffer is full (nothing sent).
    pub fn send_data(
        &mut self,
        peer: PeerId,
        channel: ChannelId,
        binary: bool,
        data: &[u8],
    ) -> Result<bool, EngineError> {
        self.peer_mut(peer).ok_or(EngineError::UnknownPeer)?;
        let slot = peer.slot as usize;
        let written = self.call(slot, |p| {
            p.rtc.channel(channel).map(|mut c| c.write(binary, data))
        })?;
        let sent =
            written.ok_or_else(|| EngineError::Peer("no such data channel".to_owned()))??;
        self.drain(slot);
        Ok(sent)
    }

    /// Closes `peer` (its id becomes unknown); nothing when it is already gone.
    pub fn close(&mut self, peer: PeerId) {
        if self.peer_mut(peer).is_some() {
            self.remove(peer.slot as usize);
        }
    }

    /// Runs `f` on the peer in `slot` under [`guard`]: a panic removes the peer.
    fn call<T>(&mut self, slot: usize, f: impl FnOnce(&mut Peer) -> T) -> Result<T, EngineError> {
        let peer = self
            .slots
            .get_mut(slot)
            .and_then(|s| s.peer.as_mut())
            .ok_or(EngineError::UnknownPeer)?;
        guard(|| f(peer)).ok_or_else(|| {
            self.remove(slot);
            EngineError::Panicked
        })
    }

    fn rtc(&self, now: Instant) -> Result<Rtc, EngineError> {
        let mut config = RtcConfig::new()
            .set_rtp_mode(true)
            .clear_codecs()
            .set_extension_map(audio_extensions());
        *config.codec_config() = CodecConfig::new_from_payload_params(self.payload_params());
        let mut rtc = config.build(now);
        for c in self.candidates()? {
            rtc.add_local_candidate(c);
        }
        Ok(rtc)
    }

    /// Opus, then telephone-event at each clock rate; no TWCC feedback on any of them (see
    /// [`audio_extensions`]).
    fn payload_params(&self) -> Vec<PayloadParams> {
        let param = |pt: u8, codec, clock_rate, channels, format| {
            let spec = CodecSpec {
                codec,
                clock_rate,
                channels,
                format,
            };
            let mut p = PayloadParams::new(pt.into(), None, spec);
            p.set_fb_transport_cc(false);
            p
        };
        let opus = FormatParams {
            min_p_time: Some(10),
            use_inband_fec: Some(false),
            ..Default::default()
        };
        let c = &self.config;
        let mut params = vec![param(
            c.opus_pt,
            Codec::Opus,
            Frequency::FORTY_EIGHT_KHZ,
            Some(2),
            opus,
        )];
        for &(pt, clock) in &c.event_pts {
            if let Some(clock) = Frequency::new(clock) {
                params.push(param(pt, Codec::Tele, clock, None, FormatParams::default()));
            }
        }
        params
    }

    fn candidates(&self) -> Result<Vec<Candidate>, EngineError> {
        let bad = |e: str0m::error::IceError| EngineError::Candidate(e.to_string());
        let c = &self.config;
        let mut out = Vec::new();
        if c.udp_candidates {
            out.push(Candidate::host(c.udp, "udp").map_err(bad)?);
        }
        if let Some(tcp) = c.tcp {
            let kind = match c.tcp_active {
                true => TcpType::Active,
                false => TcpType::Passive,
            };
            let candidate = Candidate::builder()
                .tcp()
                .host(tcp)
                .tcptype(kind)
                .build()
                .map_err(bad)?;
            out.push(candidate);
        }
        Ok(out)
    }

    fn insert(&mut self, mut rtc: Rtc) -> PeerId {
        let ufrag = rtc.direct_api().local_ice_credentials().ufrag;
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    peer: None,
                });
                self.slots.len() - 1
            }
        };
        self.by_ufrag.insert(ufrag.clone(), slot);
        self.slots[slot].peer = Some(Peer::new(rtc, ufrag));
        self.id(slot)
    }

    fn id(&self, slot: usize) -> PeerId {
        PeerId {
            slot: slot as u32,
            generation: self.slots[slot].generation,
        }
    }

    fn peer_mut(&mut self, id: PeerId) -> Option<&mut Peer> {
        let s = self.slots.get_mut(id.slot as usize)?;
        if s.generation != id.generation {
            return None;
        }
        s.peer.as_mut()
    }

    /// The slot of the live peer whose local ufrag a STUN check names.
    fn by_ufrag(&self, data: &[u8]) -> Result<usize, EngineError> {
        let ufrag = stun::local_ufrag(data).ok_or(EngineError::Unroutable)?;
        let slot = *self.by_ufrag.get(ufrag).ok_or(EngineError::Unroutable)?;
        match self.slots[slot].peer {
            Some(_) => Ok(slot),
            None => Err(EngineError::Unroutable),
        }
    }

    /// Routes `(proto, source)` to `slot`, forgetting the peer's oldest route at the limit.
    fn add_route(&mut self, slot: usize, proto: Protocol, source: SocketAddr) {
        let Some(peer) = self.slots[slot].peer.as_mut() else {
            return;
        };
        if peer.addrs.len() == MAX_ROUTES_PER_PEER {
            let oldest = peer.addrs.remove(0);
            self.by_addr.remove(&oldest);
        }
        peer.addrs.push((proto, source));
        self.by_addr.insert((proto, source), slot);
    }

    /// Drains `slot` until its next deadline; removes it when it has failed or gone.
    fn drain(&mut self, slot: usize) {
        let id = self.id(slot);
        let Some(peer) = self.slots[slot].peer.as_mut() else {
            return;
        };
        let mut gone = false;
        let out = &mut self.out;
        let stats = &mut self.stats;
        let next = peer.drain(|d| match d {
            Drained::Transmit(t) => {
                stats.datagrams_out += 1;
                out.push_back(Output::Transmit(t));
            }
            Drained::Event(PeerEvent::Gone) => gone = true,
            Drained::Event(e) => out.push_back(Output::Event(id, e)),
        });
        match next {
            Some(at) if !gone => self.deadlines.set(slot, at),
            _ => self.remove(slot),
        }
    }

    fn remove(&mut self, slot: usize) {
        let id = self.id(slot);
        let Some(mut peer) = self.slots[slot].peer.take() else {
            return;
        };
        let _ = guard(|| peer.rtc.disconnect());
        self.by_ufrag.remove(&peer.ufrag);
        for a in &peer.addrs {
            self.by_addr.remove(a);
        }
        self.deadlines.clear(slot);
        self.slots[slot].generation = self.slots[slot].generation.wrapping_add(1);
        self.free.push(slot);
        self.out.push_back(Output::Event(id, PeerEvent::Gone));
    }
}

/// A trickled candidate line (`candidate:...`, with or without `a=`); `None` for the empty
/// end-of-candidates one.
fn parse_candidate(candidate: &str) -> Result<Option<Candidate>, EngineError> {
    let line = candidate.trim();
    let line = line.strip_prefix("a=").unwrap_or(line);
    if line.is_empty() {
        return Ok(None);
    }
    Candidate::from_sdp_string(line)
        .map(Some)
        .map_err(|e| EngineError::Candidate(e.to_string()))
}

/// Checks a trickled candidate line the way [`Endpoint::add_remote_candidate`] will (for a
/// caller that answers before handing it over).
pub fn check_candidate(candidate: &str) -> Result<(), EngineError> {
    parse_candidate(candidate).map(drop)
}
