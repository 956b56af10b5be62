//! Endpoints talking real WebRTC (ICE, DTLS, SRTP, SCTP) to each other through an in-memory
//! network, with time driven by the test: many client peers (each on its own address, as
//! browsers are) on the server's one address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay_rtc::{
    AudioPayload, ChannelId, Endpoint, EndpointConfig, EngineError, MAX_ROUTES_PER_PEER, Output,
    PeerEvent, PeerId, Protocol, RtpIn, RtpOut, Transmit,
};

const SERVER: &str = "127.0.0.1:7882";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| panic!("address {s}"))
}

/// The server endpoint, one client endpoint per client peer, and the events each produced.
struct Net {
    server: Endpoint,
    clients: Vec<Endpoint>,
    now: Instant,
    server_events: Vec<(PeerId, PeerEvent)>,
    /// Events of client `i` (each client endpoint holds one peer).
    client_events: Vec<(usize, PeerEvent)>,
    client_peers: Vec<PeerId>,
    /// Datagrams the test keeps from being delivered (and does not count as delivered).
    delivered: usize,
}

impl Net {
    fn new() -> Self {
        Self {
            server: Endpoint::new(EndpointConfig::udp(addr(SERVER))),
            clients: Vec::new(),
            now: Instant::now(),
            server_events: Vec::new(),
            client_events: Vec::new(),
            client_peers: Vec::new(),
            delivered: 0,
        }
    }

    /// Delivers every datagram in flight (and what they cause) at the current instant.
    fn settle(&mut self) {
        loop {
            let mut moved = false;
            while let Some(o) = self.server.poll_output() {
                moved = true;
                match o {
                    Output::Transmit(t) => self.deliver_to_client(t),
                    Output::Event(p, e) => self.server_events.push((p, e)),
                }
            }
            for i in 0..self.clients.len() {
                while let Some(o) = self.clients[i].poll_output() {
                    moved = true;
                    match o {
                        Output::Transmit(t) => self.deliver_to_server(t),
                        Output::Event(_, e) => self.client_events.push((i, e)),
                    }
                }
            }
            if !moved {
                return;
            }
        }
    }

    fn deliver_to_server(&mut self, t: Transmit) {
        assert_eq!(t.destination, addr(SERVER));
        self.delivered += 1;
        let _ =
            self.server
                .handle_datagram(self.now, t.proto, t.source, t.destination, &t.contents);
    }

    fn deliver_to_client(&mut self, t: Transmit) {
        self.delivered += 1;
        let now = self.now;
        if let Some(c) = self
            .clients
            .iter_mut()
            .find(|c| c.config().udp == t.destination)
        {
            let _ = c.handle_datagram(now, t.proto, t.source, t.destination, &t.contents);
        }
    }

    /// Runs timers and deliveries for `d` of simulated time.
    fn run_for(&mut self, d: Duration) {
        let end = self.now + d;
        loop {
            self.settle();
            let mut next = self.server.poll_timeout();
            for c in &mut self.clients {
                next = next.into_iter().chain(c.poll_timeout()).min();
            }
            match next {
                Some(t) if t <= end => {
                    self.now = self.now.max(t);
                    self.tick();
                }
                _ => break,
            }
        }
        self.now = end;
        self.tick();
        self.settle();
    }

    fn tick(&mut self) {
        self.server.handle_timeout(self.now);
        for c in &mut self.clients {
            c.handle_timeout(self.now);
        }
    }

    /// A new client endpoint on its own address, with one peer offering; (client index, offer).
    fn offer(&mut self, channel: Option<&str>) -> (usize, String) {
        self.offer_sections(1, channel)
    }

    /// [`Net::offer`] with `sections` audio sections.
    fn offer_sections(&mut self, sections: usize, channel: Option<&str>) -> (usize, String) {
        let i = self.clients.len();
        let local = SocketAddr::from(([127, 0, 0, 1], 40_000 + i as u16));
        let mut c = Endpoint::new(EndpointConfig::udp(local));
        let (p, offer) = c
            .create_offer(self.now, sections, channel)
            .unwrap_or_else(|e| panic!("offer: {e}"));
        self.clients.push(c);
        self.client_peers.push(p);
        (i, offer)
    }

    /// Client `i` applies `answer`.
    fn answer(&mut self, i: usize, answer: &str) -> Result<(), EngineError> {
        let p = self.client_peers[i];
        self.clients[i].accept_answer(p, answer)
    }

    /// Client `i` sends `rtp`.
    fn client_send(&mut self, i: usize, rtp: RtpOut) {
        let (p, now) = (self.client_peers[i], self.now);
        self.clients[i]
            .write_rtp(now, p, rtp)
            .unwrap_or_else(|e| panic!("client {i} send: {e}"));
    }

    /// `n` client peers connected to the server, each with a chat channel; (client, server) ids.
    fn connect(&mut self, n: usize) -> Vec<(usize, PeerId)> {
        let mut pairs = Vec::new();
        for _ in 0..n {
            let (c, offer) = self.offer(Some("chat"));
            let (s, answer) = self
                .server
                .accept_offer(self.now, &offer)
                .unwrap_or_else(|e| panic!("accept: {e}"));
            assert!(answer.contains("a=ptime:20"), "{answer}");
            assert!(answer.contains("maxplaybackrate=16000"), "{answer}");
            self.answer(c, &answer)
                .unwrap_or_else(|e| panic!("answer: {e}"));
            pairs.push((c, s));
        }
        self.run_for(Duration::from_secs(2));
        for &(c, s) in &pairs {
            assert!(self.connected(&self.server_events, s), "server side of {s}");
            let up = self
                .client_events
                .iter()
                .any(|(i, e)| *i == c && *e == PeerEvent::Connected);
            assert!(up, "client side of {c}");
        }
        pairs
    }

    fn connected(&self, events: &[(PeerId, PeerEvent)], id: PeerId) -> bool {
        events
            .iter()
            .any(|(p, e)| *p == id && *e == PeerEvent::Connected)
    }

    fn rtp<K: PartialEq>(events: &[(K, PeerEvent)], id: K) -> Vec<RtpIn> {
        events
            .iter()
            .filter_map(|(p, e)| match e {
                PeerEvent::Rtp(r) if *p == id => Some(r.clone()),
                _ => None,
            })
            .collect()
    }

    fn channel(events: &[(PeerId, PeerEvent)], id: PeerId) -> Option<ChannelId> {
        events.iter().find_map(|(p, e)| match e {
            PeerEvent::ChannelOpen { channel, label } if *p == id && label == "chat" => {
                Some(*channel)
            }
            _ => None,
        })
    }
}

fn opus(i: u64) -> RtpOut {
    RtpOut {
        section: 0,
        payload_kind: AudioPayload::Opus,
        seq: 1000 + i,
        timestamp: 960 * i as u32,
        marker: i == 0,
        payload: Arc::from(vec![0x48, i as u8, 0xaa, 0x55].as_slice()),
    }
}

#[test]
fn many_peers_on_one_address_exchange_audio_events_and_chat() {
    let mut net = Net::new();
    let pairs = net.connect(12);
    assert_eq!(net.server.len(), 12);

    // Every client sends 50 Opus packets and one telephone event; every packet reaches the
    // server peer it belongs to, in order, with what was sent.
    for (k, &(c, _)) in pairs.iter().enumerate() {
        for i in 0..50 {
            let mut p = opus(i);
            p.payload = Arc::from(vec![0x48, i as u8, k as u8].as_slice());
            net.client_send(c, p);
        }
        let event = RtpOut {
            section: 0,
            payload_kind: AudioPayload::TelephoneEvent(48_000),
            seq: 1050,
            timestamp: 960 * 50,
            marker: true,
            payload: Arc::from([5u8, 10, 0, 160].as_slice()),
        };
        net.client_send(c, event);
    }
    net.run_for(Duration::from_millis(500));
    for (k, &(_, s)) in pairs.iter().enumerate() {
        let got = Net::rtp(&net.server_events, s);
        assert_eq!(got.len(), 51, "peer {k}");
        let opus_pt = got[0].pt;
        for (i, r) in got.iter().take(50).enumerate() {
            assert_eq!(r.pt, opus_pt);
            assert_eq!(r.seq % 65_536, (1000 + i as u64) % 65_536);
            assert_eq!(r.timestamp, 960 * i as u32);
            assert_eq!(&r.payload[..], &[0x48, i as u8, k as u8]);
        }
        assert_eq!(got[50].pt, 110, "telephone-event at 48 kHz");
        assert_eq!(&got[50].payload[..], &[5, 10, 0, 160]);
    }

    // The server sends back on each peer; the same payload allocation goes to every peer.
    let shared: Arc<[u8]> = Arc::from([0x48u8, 1, 2, 3].as_slice());
    for &(_, s) in &pairs {
        let mut p = opus(0);
        p.payload = Arc::clone(&shared);
        net.server
            .write_rtp(net.now, s, p)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    net.run_for(Duration::from_millis(200));
    for &(c, _) in &pairs {
        let got = Net::rtp(&net.client_events, c);
        assert_eq!(got.len(), 1);
        assert_eq!(&got[0].payload[..], &shared[..]);
    }

    // Chat both ways.
    let (c0, s0) = pairs[0];
    let server_chat = Net::channel(&net.server_events, s0).unwrap_or_else(|| panic!("open"));
    assert!(
        net.server
            .send_data(s0, server_chat, false, b"hello patient")
            .unwrap_or(false)
    );
    net.run_for(Duration::from_millis(200));
    let got = net.client_events.iter().any(|(p, e)| {
        *p == c0 && matches!(e, PeerEvent::ChannelData { data, .. } if data == b"hello patient")
    });
    assert!(got, "the client got the server's message");
}

#[test]
fn datagrams_for_no_peer_are_refused_without_harm() {
    let mut net = Net::new();
    let pairs = net.connect(2);
    let stranger = addr("127.0.0.1:50000");
    let now = net.now;
    let server = addr(SERVER);
    let refused_before = net.server.stats().refused;

    // Not STUN, from an unknown address.
    for data in [
        &[][..],
        &[0x80; 40][..],
        &[22; 60][..],
        b"GET / HTTP/1.1\r\n\r\n",
    ] {
        let r = net
            .server
            .handle_datagram(now, Protocol::Udp, stranger, server, data);
        assert!(matches!(r, Err(EngineError::Unroutable)), "{r:?}");
    }
    // A binding request naming a ufrag no peer has.
    let r = net.server.handle_datagram(
        now,
        Protocol::Udp,
        stranger,
        server,
        &binding_request("nosuchufrag:x"),
    );
    assert!(matches!(r, Err(EngineError::Unroutable)), "{r:?}");
    assert_eq!(net.server.stats().refused, refused_before + 5);

    // Garbage from a connected peer's own address reaches that peer, which ignores it: the
    // call goes on.
    let client_addr = net.clients[0].config().udp;
    for data in [
        &[0x80; 12][..],
        &[0x90; 200][..],
        &[23, 254, 253, 0][..],
        &[1; 3][..],
    ] {
        let _ = net
            .server
            .handle_datagram(now, Protocol::Udp, client_addr, server, data);
    }
    let (c, s) = pairs[1];
    net.client_send(c, opus(7));
    net.run_for(Duration::from_millis(100));
    assert_eq!(Net::rtp(&net.server_events, s).len(), 1, "still connected");
    assert_eq!(net.server.len(), 2);
}

#[test]
fn forged_checks_naming_a_peer_neither_route_nor_evict_its_address() {
    let mut net = Net::new();
    let (c, offer) = net.offer(None);
    let (s, answer) = net
        .server
        .accept_offer(net.now, &offer)
        .unwrap_or_else(|e| panic!("{e}"));
    net.answer(c, &answer).unwrap_or_else(|e| panic!("{e}"));
    net.run_for(Duration::from_secs(1));
    assert!(net.connected(&net.server_events, s));
    let ufrag = |sdp: &str| {
        sdp.lines()
            .find_map(|l| l.trim().strip_prefix("a=ice-ufrag:"))
            .unwrap_or_else(|| panic!("no ufrag in {sdp}"))
            .to_owned()
    };
    // The checks a forger can make without the ICE password: the right names, no integrity.
    let forged = binding_request(&format!("{}:{}", ufrag(&answer), ufrag(&offer)));
    let server = addr(SERVER);
    let refused_before = net.server.stats().refused;
    for i in 0..MAX_ROUTES_PER_PEER as u16 + 2 {
        let forger = SocketAddr::from(([127, 0, 0, 2], 50_000 + i));
        for data in [&forged[..], &[0x80; 40][..]] {
            let r = net
                .server
                .handle_datagram(net.now, Protocol::Udp, forger, server, data);
            assert!(r.is_err(), "{r:?}");
        }
    }
    assert_eq!(
        net.server.stats().refused,
        refused_before + 2 * (MAX_ROUTES_PER_PEER as u64 + 2)
    );
    // The client's address is still routed (with no check in between that could have routed
    // it again): a datagram from it reaches its peer.
    let client_addr = net.clients[c].config().udp;
    let r = net
        .server
        .handle_datagram(net.now, Protocol::Udp, client_addr, server, &[0x80; 40]);
    assert!(matches!(r, Ok(id) if id == s), "{r:?}");
    net.client_send(c, opus(1));
    net.run_for(Duration::from_millis(100));
    assert_eq!(Net::rtp(&net.server_events, s).len(), 1, "media goes on");
}

#[test]
fn a_closed_peer_is_gone_and_its_id_and_address_are_dead() {
    let mut net = Net::new();
    let pairs = net.connect(2);
    let (_, s0) = pairs[0];
    net.server.close(s0);
    net.settle();
    assert!(
        net.server_events
            .iter()
            .any(|(p, e)| *p == s0 && *e == PeerEvent::Gone)
    );
    assert_eq!(net.server.len(), 1);
    assert!(matches!(
        net.server.write_rtp(net.now, s0, opus(1)),
        Err(EngineError::UnknownPeer)
    ));
    // Its replacement in the same slot gets another id.
    let (c2, offer) = net.offer(None);
    let (s2, answer) = net
        .server
        .accept_offer(net.now, &offer)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(s2, s0);
    net.answer(c2, &answer).unwrap_or_else(|e| panic!("{e}"));
    net.run_for(Duration::from_secs(1));
    assert!(net.connected(&net.server_events, s2));
}

#[test]
fn hostile_session_descriptions_are_refused() {
    let mut net = Net::new();
    for sdp in ["", "v=0", "garbage\r\n\r\n", &"a=".repeat(10_000)] {
        assert!(net.server.accept_offer(net.now, sdp).is_err(), "{sdp:.20}");
    }
    let (c, _) = net.offer(None);
    assert!(net.answer(c, "v=0\r\n").is_err());
    assert_eq!(net.server.len(), 0, "no peer was left behind");
}

/// A STUN binding request with `username` (no integrity: the peer refuses it, the router
/// only reads the name).
fn binding_request(username: &str) -> Vec<u8> {
    let mut attrs = vec![0x00, 0x06];
    attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
    attrs.extend_from_slice(username.as_bytes());
    attrs.resize(attrs.len().div_ceil(4) * 4, 0);
    let mut m = vec![0x00, 0x01];
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0x21, 0x12, 0xa4, 0x42]);
    m.extend_from_slice(&[9; 12]);
    m.extend_from_slice(&attrs);
    m
}

#[test]
fn a_peer_with_two_audio_sections_hears_two_streams() {
    // A supervisor hears the patient and the agent, one section each.
    let mut net = Net::new();
    let (c, offer) = net.offer_sections(2, None);
    let (s, answer) = net
        .server
        .accept_offer(net.now, &offer)
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(answer.matches("m=audio").count(), 2);
    assert_eq!(answer.matches("a=ptime:20").count(), 2);
    net.answer(c, &answer).unwrap_or_else(|e| panic!("{e}"));
    net.run_for(Duration::from_secs(1));
    let sections: Vec<usize> = net
        .server_events
        .iter()
        .filter_map(|(p, e)| match e {
            PeerEvent::AudioReady {
                section,
                can_send: true,
                ..
            } if *p == s => Some(*section),
            _ => None,
        })
        .collect();
    assert_eq!(sections, vec![0, 1]);
    for section in [0, 1] {
        for i in 0..5 {
            let mut p = opus(i);
            p.section = section;
            p.payload = Arc::from([0x48u8, section as u8, i as u8].as_slice());
            net.server
                .write_rtp(net.now, s, p)
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let mut p = opus(0);
    p.section = 2;
    assert!(matches!(
        net.server.write_rtp(net.now, s, p),
        Err(EngineError::NoAudio)
    ));
    net.run_for(Duration::from_millis(200));
    let got = Net::rtp(&net.client_events, c);
    for section in [0u8, 1] {
        let n = got.iter().filter(|r| r.payload[1] == section).count();
        assert_eq!(n, 5, "section {section}");
    }
    let ssrcs: std::collections::HashSet<u32> = got.iter().map(|r| r.ssrc).collect();
    assert_eq!(ssrcs.len(), 2, "two streams");
}

#[test]
fn trickled_candidates_are_checked() {
    let mut net = Net::new();
    let pairs = net.connect(1);
    let (_, s) = pairs[0];
    let ok = "candidate:1 1 udp 2130706431 127.0.0.1 45000 typ host";
    assert!(net.server.add_remote_candidate(s, ok).is_ok());
    assert!(
        net.server
            .add_remote_candidate(s, &format!("a={ok}"))
            .is_ok()
    );
    assert!(
        net.server.add_remote_candidate(s, "").is_ok(),
        "end of candidates"
    );
    for bad in [
        "candidate:",
        "garbage",
        "candidate:1 1 udp x 1.2.3.4 1 typ host",
    ] {
        assert!(net.server.add_remote_candidate(s, bad).is_err(), "{bad}");
    }
    net.server.close(s);
    assert!(matches!(
        net.server.add_remote_candidate(s, ok),
        Err(EngineError::UnknownPeer)
    ));
}

#[test]
fn only_the_mid_extension_is_negotiated_no_transport_cc() {
    let mut net = Net::new();
    let (_, offer) = net.offer(None);
    assert!(!offer.contains("transport-cc"), "{offer}");
    // What Chromium offers for audio besides the mid: audio level, abs-send-time, TWCC.
    let chromium_extras = "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
        a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
        a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n\
        a=rtcp-fb:111 transport-cc\r\n";
    let mut chromium = String::new();
    for line in offer.split_inclusive("\r\n") {
        chromium.push_str(line);
        if line.starts_with("a=mid:") {
            chromium.push_str(chromium_extras);
        }
    }
    assert!(chromium.contains("transport-wide-cc"), "{chromium}");
    let (_, answer) = net
        .server
        .accept_offer(net.now, &chromium)
        .unwrap_or_else(|e| panic!("{e}"));
    let extmaps: Vec<&str> = answer
        .lines()
        .filter(|l| l.starts_with("a=extmap:"))
        .collect();
    assert!(
        extmaps
            .iter()
            .all(|l| l.ends_with("urn:ietf:params:rtp-hdrext:sdes:mid")),
        "{extmaps:?}"
    );
    assert!(!answer.contains("transport-cc"), "{answer}");
}
