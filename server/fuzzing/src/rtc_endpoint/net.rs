//! The legitimate side of the `rtc_endpoint` target: a server [`Endpoint`] (one UDP address,
//! one passive ICE-TCP address) with one or two accepted peers, each the far end of a client
//! endpoint on its own address, and an in-memory network between them that always delivers,
//! with simulated time. Every datagram a client sends must reach its own peer on the server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay_rtc::{AudioPayload, Endpoint, EndpointConfig, Output, PeerEvent, PeerId, RtpOut};

/// The server's UDP address (TEST-NET-1; nothing is sent anywhere: the endpoint is sans-IO).
pub const SERVER_UDP: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(SERVER_IP), 3478);
/// The server's passive ICE-TCP address.
pub const SERVER_TCP: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(SERVER_IP), 3479);
const SERVER_IP: std::net::Ipv4Addr = std::net::Ipv4Addr::new(192, 0, 2, 1);
/// One simulated tick.
pub const TICK: Duration = Duration::from_millis(10);

/// One legitimate client and what it and its server-side peer saw.
#[derive(Debug)]
pub struct Client {
    pub endpoint: Endpoint,
    /// Its peer on its own endpoint.
    pub id: PeerId,
    /// Its peer on the server.
    pub server_id: PeerId,
    /// The server peer's local ICE ufrag (what a check to it names).
    pub server_ufrag: String,
    pub connected: bool,
    pub server_connected: bool,
    /// RTP packets the client got from the server, and the server got from the client.
    pub rtp_in: u64,
    pub server_rtp_in: u64,
    seq: u64,
}

impl Client {
    pub fn addr(&self) -> SocketAddr {
        self.endpoint.config().udp
    }

    /// Both ends say connected.
    pub fn up(&self) -> bool {
        self.connected && self.server_connected
    }
}

/// The server, its clients, the clock.
#[derive(Debug)]
pub struct Net {
    pub server: Endpoint,
    pub clients: Vec<Client>,
    pub now: Instant,
    /// Ticks run so far (clients send every other tick).
    ticks: u64,
}

impl Net {
    /// A server with `clients` accepted peers (offer, answer; not yet connected).
    pub fn new(clients: usize) -> Self {
        let now = Instant::now();
        let mut config = EndpointConfig::udp(SERVER_UDP);
        config.tcp = Some(SERVER_TCP);
        let mut net = Self {
            server: Endpoint::new(config),
            clients: Vec::new(),
            now,
            ticks: 0,
        };
        for i in 0..clients {
            let local = SocketAddr::from(([198, 51, 100, 10 + i as u8], 40_000));
            let mut endpoint = Endpoint::new(EndpointConfig::udp(local));
            let (id, offer) = endpoint
                .create_offer(now, 1, None)
                .unwrap_or_else(|e| panic!("client offer: {e}"));
            let (server_id, answer) = net
                .server
                .accept_offer(now, &offer)
                .unwrap_or_else(|e| panic!("server accept: {e}"));
            endpoint
                .accept_answer(id, &answer)
                .unwrap_or_else(|e| panic!("client answer: {e}"));
            let server_ufrag = answer
                .lines()
                .find_map(|l| l.trim().strip_prefix("a=ice-ufrag:"))
                .unwrap_or_else(|| panic!("the answer names its ufrag"))
                .to_owned();
            net.clients.push(Client {
                endpoint,
                id,
                server_id,
                server_ufrag,
                connected: false,
                server_connected: false,
                rtp_in: 0,
                server_rtp_in: 0,
                seq: 0,
            });
        }
        net.settle();
        net
    }

    /// True if `addr` is a legitimate client's (an attacker must not use it unless spoofing).
    pub fn is_client(&self, addr: SocketAddr) -> bool {
        self.clients.iter().any(|c| c.addr() == addr)
    }

    /// Lets `d` of simulated time pass, tick by tick: timers run, every connected client and
    /// its server peer send one Opus packet every 20 ms, everything in flight is delivered.
    pub fn run_for(&mut self, d: Duration) {
        let ticks = d.as_millis().div_ceil(TICK.as_millis()).max(1);
        for _ in 0..ticks {
            self.now += TICK;
            self.ticks += 1;
            self.server.handle_timeout(self.now);
            let now = self.now;
            let send = self.ticks.is_multiple_of(2);
            for c in &mut self.clients {
                c.endpoint.handle_timeout(now);
                if send && c.up() {
                    c.seq += 1;
                    let _ = c.endpoint.write_rtp(now, c.id, opus(c.seq));
                    let _ = self.server.write_rtp(now, c.server_id, opus(c.seq));
                }
            }
            self.settle();
        }
    }

    /// Delivers everything in flight at the current instant (bounded: a livelock is a bug).
    pub fn settle(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            while let Some(o) = self.server.poll_output() {
                moved = true;
                match o {
                    Output::Transmit(t) => {
                        let now = self.now;
                        if let Some(c) = self.clients.iter_mut().find(|c| c.addr() == t.destination)
                        {
                            let _ = c.endpoint.handle_datagram(
                                now,
                                t.proto,
                                t.source,
                                t.destination,
                                &t.contents,
                            );
                        }
                    }
                    Output::Event(id, e) => self.server_event(id, e),
                }
            }
            for i in 0..self.clients.len() {
                while let Some(o) = self.clients[i].endpoint.poll_output() {
                    moved = true;
                    match o {
                        Output::Transmit(t) => self.deliver_to_server(i, &t),
                        Output::Event(_, PeerEvent::Connected) => self.clients[i].connected = true,
                        Output::Event(_, PeerEvent::Rtp(_)) => self.clients[i].rtp_in += 1,
                        Output::Event(..) => {}
                    }
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the network never settles");
    }

    /// A client's datagram: it must reach that client's peer on the server.
    fn deliver_to_server(&mut self, i: usize, t: &hushpay_rtc::Transmit) {
        if t.destination != SERVER_UDP {
            return; // to the TCP candidate: the clients have UDP only
        }
        let r =
            self.server
                .handle_datagram(self.now, t.proto, t.source, t.destination, &t.contents);
        let want = self.clients[i].server_id;
        assert!(
            matches!(r, Ok(id) if id == want),
            "a legitimate datagram of client {i} was not routed to its peer: {r:?}"
        );
    }

    fn server_event(&mut self, id: PeerId, e: PeerEvent) {
        let Some(c) = self.clients.iter_mut().find(|c| c.server_id == id) else {
            return;
        };
        match e {
            PeerEvent::Connected => c.server_connected = true,
            PeerEvent::Rtp(_) => c.server_rtp_in += 1,
            PeerEvent::Gone => panic!("the server dropped a legitimate peer"),
            _ => {}
        }
    }
}

fn opus(seq: u64) -> RtpOut {
    RtpOut {
        section: 0,
        payload_kind: AudioPayload::Opus,
        seq,
        timestamp: (seq as u32).wrapping_mul(960),
        marker: false,
        payload: Arc::from(&[0x78u8, 1, 2, 3, 4, 5, 6, 7][..]),
    }
}
