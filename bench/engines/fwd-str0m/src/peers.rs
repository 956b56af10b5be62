//! The forwarder's peers and the [`Handler`] the one-socket loop drives.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use engines_common::deadlines::Deadlines;
use engines_common::pairing::partner;
use engines_common::sdp::munge_answer;
use engines_common::stun;
use engines_common::udp_loop::{Handler, Tx};
use str0m::change::SdpOffer;
use str0m::media::{Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::rtp::{RtpPacket, RtpWrite};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

/// An offer from the signalling thread, answered on `reply`.
#[derive(Debug)]
pub struct Command {
    pub peer: usize,
    pub offer: String,
    pub reply: Sender<Result<String, String>>,
}

struct Peer {
    rtc: Rtc,
    /// The audio m-line and the Opus payload type this peer receives with.
    send: Option<(Mid, Pt)>,
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
    pending: Vec<(usize, RtpPacket)>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field("peers", &self.peers.len())
            .finish()
    }
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

    fn accept(&mut self, now: Instant, peer: usize, offer: &str) -> Result<String, String> {
        let offer = SdpOffer::from_sdp_string(offer).map_err(|e| e.to_string())?;
        let mut rtc = Rtc::builder()
            .set_rtp_mode(true)
            .clear_codecs()
            .enable_opus(true, false)
            .build(now);
        let candidate = Candidate::host(self.local, "udp").map_err(|e| e.to_string())?;
        rtc.add_local_candidate(candidate);
        let answer = rtc
            .sdp_api()
            .accept_offer(offer)
            .map_err(|e| e.to_string())?;
        let ufrag = rtc.direct_api().local_ice_credentials().ufrag;
        if self.peers.len() <= peer {
            self.peers.resize_with(peer + 1, || None);
        }
        self.peers[peer] = Some(Peer { rtc, send: None });
        self.by_ufrag.insert(ufrag, peer);
        Ok(munge_answer(&answer.to_sdp_string()))
    }

    /// Polls `index` until its next timeout: transmits, events, deadline.
    fn drain(&mut self, index: usize, tx: &mut Tx<'_>) {
        let Some(Some(peer)) = self.peers.get_mut(index) else {
            return;
        };
        loop {
            match peer.rtc.poll_output() {
                Ok(Output::Timeout(t)) => {
                    self.deadlines.set(index, t);
                    break;
                }
                Ok(Output::Transmit(t)) => tx.send(t.destination, &t.contents),
                Ok(Output::Event(Event::RtpPacket(p))) => self.pending.push((partner(index), p)),
                Ok(Output::Event(Event::MediaAdded(m))) => {
                    let pt = peer
                        .rtc
                        .media(m.mid)
                        .and_then(|media| media.remote_pts().first().copied());
                    peer.send = pt.map(|pt| (m.mid, pt));
                }
                Ok(Output::Event(Event::IceConnectionStateChange(
                    IceConnectionState::Disconnected,
                ))) => {
                    eprintln!("peer {index}: ICE disconnected");
                }
                Ok(Output::Event(_)) => {}
                Err(e) => {
                    eprintln!("peer {index}: {e}");
                    break;
                }
            }
        }
    }

    /// Writes every pending packet to its receiver, draining each receiver after its write.
    fn flush(&mut self, tx: &mut Tx<'_>) {
        while let Some((to, packet)) = self.pending.pop() {
            let Some(Some(peer)) = self.peers.get_mut(to) else {
                continue;
            };
            let Some((mid, pt)) = peer.send else { continue };
            let mut direct = peer.rtc.direct_api();
            let Some(stream) = direct.stream_tx_by_mid(mid, None) else {
                continue;
            };
            stream.write_rtp(
                RtpWrite::new(
                    pt,
                    packet.seq_no,
                    packet.header.timestamp,
                    packet.timestamp,
                    packet.payload,
                )
                .marker(packet.header.marker),
            );
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
        let Ok(contents) = data.try_into() else {
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source: from,
                destination: self.local,
                contents,
            },
        );
        if let Err(e) = peer.rtc.handle_input(input) {
            eprintln!("peer {index}: {e}");
        }
        self.drain(index, tx);
        self.flush(tx);
    }

    fn woken(&mut self, now: Instant, tx: &mut Tx<'_>) {
        while let Ok(cmd) = self.commands.try_recv() {
            let answer = self.accept(now, cmd.peer, &cmd.offer);
            if answer.is_ok() {
                self.drain(cmd.peer, tx);
            }
            let _ = cmd.reply.send(answer);
        }
    }

    fn timers(&mut self, now: Instant, tx: &mut Tx<'_>) {
        while let Some(index) = self.deadlines.pop_due(now) {
            if let Some(Some(peer)) = self.peers.get_mut(index) {
                if let Err(e) = peer.rtc.handle_input(Input::Timeout(now)) {
                    eprintln!("peer {index}: {e}");
                }
                self.drain(index, tx);
            }
        }
        self.flush(tx);
    }

    fn next_deadline(&mut self) -> Option<Instant> {
        self.deadlines.earliest()
    }
}
