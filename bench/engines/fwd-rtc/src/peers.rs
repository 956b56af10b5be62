//! The forwarder's peers and the [`Handler`] the one-socket loop drives.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use bytes::BytesMut;
use engines_common::deadlines::Deadlines;
use engines_common::pairing::partner;
use engines_common::sdp::munge_answer;
use engines_common::stun;
use engines_common::udp_loop::{Handler, Tx};
use rtc::ice::mdns::MulticastDnsMode;
use rtc::interceptor::Registry;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::RTCPeerConnection;
use rtc::peer_connection::RTCPeerConnectionBuilder;
use rtc::peer_connection::configuration::RTCConfigurationBuilder;
use rtc::peer_connection::configuration::interceptor_registry::register_default_interceptors;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::peer_connection::configuration::setting_engine::SettingEngineBuilder;
use rtc::peer_connection::message::{RTCMessage, TaggedRTCMessage};
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::peer_connection::transport::{CandidateConfig, CandidateHostConfig, RTCIceCandidate};
use rtc::rtp::packet::Packet;
use rtc::rtp_transceiver::RTCRtpSenderId;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use rtc::sansio::Protocol;
use rtc::shared::{TaggedBytesMut, TransportContext, TransportProtocol};

const OPUS_PT: u8 = 111;

/// An offer from the signalling thread, answered on `reply`.
#[derive(Debug)]
pub struct Command {
    pub peer: usize,
    pub offer: String,
    pub reply: Sender<Result<String, String>>,
}

struct Peer {
    pc: RTCPeerConnection,
    sender: RTCRtpSenderId,
    ssrc: u32,
}

/// Every peer of the forwarder.
pub struct Forwarder {
    local: SocketAddr,
    commands: Receiver<Command>,
    peers: Vec<Option<Peer>>,
    by_addr: HashMap<SocketAddr, usize>,
    by_ufrag: HashMap<String, usize>,
    deadlines: Deadlines,
    /// Packets read from one peer, to write to another once the first is drained.
    pending: Vec<(usize, Packet)>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("peers", &self.peers.len())
            .finish()
    }
}

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

/// A distinct SSRC per peer (a forwarder's downlinks need not be random).
fn ssrc_for(peer: usize) -> u32 {
    0x1000_0000 ^ (peer as u32).wrapping_mul(0x9e37_79b9)
}

impl Forwarder {
    pub fn new(local: SocketAddr, commands: Receiver<Command>) -> Self {
        Self {
            local,
            commands,
            peers: Vec::new(),
            by_addr: HashMap::new(),
            by_ufrag: HashMap::new(),
            deadlines: Deadlines::default(),
            pending: Vec::new(),
        }
    }

    fn accept(&mut self, now: Instant, peer: usize, offer: String) -> Result<String, String> {
        let fail = |e: rtc::shared::error::Error| e.to_string();
        let mut me = MediaEngine::default();
        me.register_codec(
            RTCRtpCodecParameters {
                rtp_codec: opus(),
                payload_type: OPUS_PT,
            },
            RtpCodecKind::Audio,
        )
        .map_err(fail)?;
        let registry = register_default_interceptors(Registry::new(), &mut me).map_err(fail)?;
        let se = SettingEngineBuilder::new()
            .with_multicast_dns_mode(MulticastDnsMode::Disabled)
            .build();
        let mut pc = RTCPeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_setting_engine(se)
            .with_media_engine(me)
            .with_interceptor_registry(registry)
            .build(now)
            .map_err(fail)?;
        let ssrc = ssrc_for(peer);
        let track = MediaStreamTrack::new(
            format!("fwd-{peer}"),
            format!("fwd-{peer}-audio"),
            "forwarded audio".to_owned(),
            RtpCodecKind::Audio,
            vec![RTCRtpEncodingParameters {
                rtp_coding_parameters: RTCRtpCodingParameters {
                    ssrc: Some(ssrc),
                    ..Default::default()
                },
                codec: opus(),
                ..Default::default()
            }],
        );
        let sender = pc.add_track(track).map_err(fail)?;
        let desc = RTCSessionDescription::offer(offer).map_err(fail)?;
        pc.set_remote_description(now, desc).map_err(fail)?;
        let candidate = CandidateHostConfig {
            base_config: CandidateConfig {
                network: "udp".to_owned(),
                address: self.local.ip().to_string(),
                port: self.local.port(),
                component: 1,
                ..Default::default()
            },
            ..Default::default()
        }
        .new_candidate_host()
        .map_err(fail)?;
        let init = RTCIceCandidate::from(&candidate).to_json().map_err(fail)?;
        pc.add_local_candidate(init).map_err(fail)?;
        let answer = pc.create_answer(None).map_err(fail)?;
        pc.set_local_description(now, answer).map_err(fail)?;
        let sdp = pc.local_description().ok_or("no local description")?.sdp;
        let ufrag = sdp
            .lines()
            .find_map(|l| l.trim_end().strip_prefix("a=ice-ufrag:"))
            .ok_or("the answer has no ice-ufrag")?
            .to_owned();
        if self.peers.len() <= peer {
            self.peers.resize_with(peer + 1, || None);
        }
        self.peers[peer] = Some(Peer { pc, sender, ssrc });
        self.by_ufrag.insert(ufrag, peer);
        Ok(munge_answer(&sdp))
    }

    /// Polls `index` until it has nothing more: datagrams out, packets read, events, deadline.
    fn drain(&mut self, index: usize, tx: &mut Tx<'_>) {
        let Some(Some(peer)) = self.peers.get_mut(index) else {
            return;
        };
        while let Some(out) = peer.pc.poll_write() {
            tx.send(out.transport.peer_addr, &out.message);
        }
        while let Some(TaggedRTCMessage { message, .. }) = peer.pc.poll_read() {
            if let RTCMessage::RtpPacket(_, packet) = message {
                self.pending.push((partner(index), packet));
            }
        }
        while peer.pc.poll_event().is_some() {}
        // reads may have queued writes (RTCP feedback from the interceptors)
        while let Some(out) = peer.pc.poll_write() {
            tx.send(out.transport.peer_addr, &out.message);
        }
        match peer.pc.poll_timeout() {
            Some(t) => self.deadlines.set(index, t),
            None => self.deadlines.clear(index),
        }
    }

    /// Writes every pending packet to its receiver, draining each receiver after its write.
    fn flush(&mut self, now: Instant, tx: &mut Tx<'_>) {
        while let Some((to, mut packet)) = self.pending.pop() {
            let Some(Some(peer)) = self.peers.get_mut(to) else {
                continue;
            };
            packet.header.ssrc = peer.ssrc;
            packet.header.payload_type = OPUS_PT;
            packet.header.extension = false;
            packet.header.extensions.clear();
            let Some(mut sender) = peer.pc.rtp_sender(peer.sender) else {
                continue;
            };
            if sender.write_rtp(now, packet).is_err() {
                continue; // not connected yet
            }
            self.drain(to, tx);
        }
    }

    fn find(&mut self, from: SocketAddr, data: &[u8]) -> Option<usize> {
        if let Some(&index) = self.by_addr.get(&from) {
            return Some(index);
        }
        let index = *self.by_ufrag.get(stun::local_ufrag(data)?)?;
        self.by_addr.insert(from, index);
        Some(index)
    }
}

impl Handler for Forwarder {
    fn datagram(&mut self, now: Instant, from: SocketAddr, data: &[u8], tx: &mut Tx<'_>) {
        let Some(index) = self.find(from, data) else {
            return;
        };
        let Some(Some(peer)) = self.peers.get_mut(index) else {
            return;
        };
        let read = peer.pc.handle_read(TaggedBytesMut {
            now,
            transport: TransportContext {
                local_addr: self.local,
                peer_addr: from,
                ecn: None,
                transport_protocol: TransportProtocol::UDP,
            },
            message: BytesMut::from(data),
        });
        if let Err(e) = read {
            eprintln!("peer {index}: {e}");
        }
        self.drain(index, tx);
        self.flush(now, tx);
    }

    fn woken(&mut self, now: Instant, tx: &mut Tx<'_>) {
        while let Ok(cmd) = self.commands.try_recv() {
            let answer = self.accept(now, cmd.peer, cmd.offer);
            if answer.is_ok() {
                self.drain(cmd.peer, tx);
            }
            let _ = cmd.reply.send(answer);
        }
    }

    fn timers(&mut self, now: Instant, tx: &mut Tx<'_>) {
        while let Some(index) = self.deadlines.pop_due(now) {
            if let Some(Some(peer)) = self.peers.get_mut(index) {
                if let Err(e) = peer.pc.handle_timeout(now) {
                    eprintln!("peer {index}: {e}");
                }
                self.drain(index, tx);
            }
        }
        self.flush(now, tx);
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        self.deadlines.earliest()
    }
}
