//! The forwarder's [`Worker`]: which endpoint peer is which signalling peer, and the one rule
//! (an RTP packet from peer `2k` goes to `2k+1` and back).

use std::collections::HashMap;
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

use engines_common::pairing::partner;
use hushpay_rtc::driver::Worker;
use hushpay_rtc::{AudioPayload, Endpoint, PeerEvent, PeerId, RtpOut};

/// An offer from the signalling thread, answered on `reply`.
#[derive(Debug)]
pub struct Command {
    pub peer: usize,
    pub offer: String,
    pub reply: Sender<Result<String, String>>,
}

/// Every peer of the forwarder, by signalling index and by endpoint id.
#[derive(Debug)]
pub struct Forwarder {
    commands: Receiver<Command>,
    by_index: Vec<Option<PeerId>>,
    index_of: HashMap<PeerId, usize>,
    /// Writes the endpoint refused (partner not negotiated yet, or gone).
    pub refused: u64,
}

impl Forwarder {
    pub fn new(commands: Receiver<Command>) -> Self {
        Self {
            commands,
            by_index: Vec::new(),
            index_of: HashMap::new(),
            refused: 0,
        }
    }

    fn accept(&mut self, now: Instant, ep: &mut Endpoint, cmd: &Command) -> Result<String, String> {
        let (id, answer) = ep
            .accept_offer(now, &cmd.offer)
            .map_err(|e| e.to_string())?;
        if self.by_index.len() <= cmd.peer {
            self.by_index.resize(cmd.peer + 1, None);
        }
        if let Some(old) = self.by_index[cmd.peer].replace(id) {
            self.index_of.remove(&old);
            ep.close(old);
        }
        self.index_of.insert(id, cmd.peer);
        Ok(answer)
    }
}

impl Worker for Forwarder {
    fn commands(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Ok(cmd) = self.commands.try_recv() {
            let answer = self.accept(now, ep, &cmd);
            let _ = cmd.reply.send(answer);
        }
    }

    fn event(&mut self, now: Instant, ep: &mut Endpoint, peer: PeerId, event: PeerEvent) {
        match event {
            PeerEvent::Rtp(p) => {
                let Some(&index) = self.index_of.get(&peer) else {
                    return;
                };
                let Some(Some(to)) = self.by_index.get(partner(index)).copied() else {
                    return;
                };
                let out = RtpOut {
                    section: 0,
                    payload_kind: AudioPayload::Opus,
                    seq: p.seq,
                    timestamp: p.timestamp,
                    marker: p.marker,
                    payload: p.payload,
                };
                if ep.write_rtp(now, to, out).is_err() {
                    self.refused += 1;
                }
            }
            PeerEvent::Gone => {
                eprintln!("{peer}: gone");
                if let Some(index) = self.index_of.remove(&peer)
                    && let Some(slot) = self.by_index.get_mut(index)
                {
                    *slot = None;
                }
            }
            _ => {}
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }

    fn timeout(&mut self, _now: Instant, _ep: &mut Endpoint) {}
}
