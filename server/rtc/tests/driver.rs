//! The driver on real sockets: two drivers on loopback, each on its own thread with a worker,
//! connect over UDP and over ICE-TCP and echo audio.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;
use std::time::{Duration, Instant};

use hushpay_rtc::driver::{Driver, DriverStats, Worker};
use hushpay_rtc::{AudioPayload, Endpoint, EndpointConfig, PeerEvent, PeerId, RtpOut};

enum Command {
    Offer(Sender<(PeerId, String)>),
    Accept(String, Sender<String>),
    Answer(PeerId, String),
    Stop,
}

/// Accepts offers (server) or makes one (client); the server echoes every audio packet back,
/// the client sends one packet every 20 ms once connected and counts what comes back.
struct TestWorker {
    commands: Receiver<Command>,
    report: Sender<String>,
    echo: bool,
    peer: Option<PeerId>,
    next_send: Option<Instant>,
    sent: u64,
    done: bool,
}

impl Worker for TestWorker {
    fn commands(&mut self, now: Instant, ep: &mut Endpoint) {
        while let Ok(c) = self.commands.try_recv() {
            match c {
                Command::Offer(reply) => {
                    if let Ok((p, offer)) = ep.create_offer(now, 1, None) {
                        self.peer = Some(p);
                        let _ = reply.send((p, offer));
                    }
                }
                Command::Accept(offer, reply) => match ep.accept_offer(now, &offer) {
                    Ok((_, answer)) => drop(reply.send(answer)),
                    Err(e) => drop(self.report.send(format!("accept failed: {e}"))),
                },
                Command::Answer(p, answer) => {
                    if let Err(e) = ep.accept_answer(p, &answer) {
                        let _ = self.report.send(format!("answer failed: {e}"));
                    }
                }
                Command::Stop => self.done = true,
            }
        }
    }

    fn event(&mut self, now: Instant, ep: &mut Endpoint, peer: PeerId, event: PeerEvent) {
        match event {
            PeerEvent::Connected => {
                let _ = self.report.send("connected".to_owned());
                if !self.echo {
                    self.next_send = Some(now);
                }
            }
            PeerEvent::Rtp(r) if self.echo => {
                let back = RtpOut {
                    section: 0,
                    payload_kind: AudioPayload::Opus,
                    seq: r.seq,
                    timestamp: r.timestamp,
                    marker: r.marker,
                    payload: r.payload,
                };
                let _ = ep.write_rtp(now, peer, back);
            }
            PeerEvent::Rtp(r) => {
                let _ = self.report.send(format!("echo {}", r.payload[1]));
            }
            _ => {}
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.next_send
    }

    fn timeout(&mut self, now: Instant, ep: &mut Endpoint) {
        let Some(peer) = self.peer else { return };
        if self.sent == 25 {
            self.next_send = None;
            return;
        }
        let rtp = RtpOut {
            section: 0,
            payload_kind: AudioPayload::Opus,
            seq: self.sent,
            timestamp: 960 * self.sent as u32,
            marker: false,
            payload: Arc::from([0x48, self.sent as u8].as_slice()),
        };
        if ep.write_rtp(now, peer, rtp).is_ok() {
            self.sent += 1;
        }
        self.next_send = Some(now + Duration::from_millis(20));
    }

    fn is_done(&self) -> bool {
        self.done
    }
}

struct Running {
    commands: Sender<Command>,
    report: Receiver<String>,
    waker: Arc<mio::Waker>,
    config: EndpointConfig,
    thread: thread::JoinHandle<DriverStats>,
}

impl Running {
    fn send(&self, c: Command) {
        let _ = self.commands.send(c);
        let _ = self.waker.wake();
    }

    fn stop(self) -> DriverStats {
        self.send(Command::Stop);
        self.thread
            .join()
            .unwrap_or_else(|_| panic!("driver thread"))
    }

    fn wait_for(&self, what: &str, n: usize) -> usize {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut seen = 0;
        while seen < n {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.report.recv_timeout(left) {
                Ok(r) if r.starts_with(what) => seen += 1,
                Ok(r) if r.contains("failed") => panic!("{r}"),
                Ok(_) => {}
                Err(_) => break,
            }
        }
        seen
    }
}

fn start(config: EndpointConfig, echo: bool) -> Running {
    let driver = Driver::bind(config).unwrap_or_else(|e| panic!("bind: {e}"));
    let (commands, rx) = channel();
    let (report_tx, report) = channel();
    let waker = driver.waker();
    let config = driver.config().clone();
    let thread = thread::spawn(move || {
        let mut w = TestWorker {
            commands: rx,
            report: report_tx,
            echo,
            peer: None,
            next_send: None,
            sent: 0,
            done: false,
        };
        driver.run(&mut w).unwrap_or_else(|e| panic!("driver: {e}"))
    });
    Running {
        commands,
        report,
        waker,
        config,
        thread,
    }
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn call(server: &Running, client: &Running) {
    let (otx, orx) = channel();
    client.send(Command::Offer(otx));
    let (peer, offer) = orx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("offer: {e}"));
    let (atx, arx) = channel();
    server.send(Command::Accept(offer, atx));
    let answer = arx
        .recv_timeout(Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("answer: {e}"));
    client.send(Command::Answer(peer, answer));
}

#[test]
fn a_call_over_udp_echoes_every_packet() {
    let server = start(EndpointConfig::udp(loopback(0)), true);
    assert_ne!(server.config.udp.port(), 0, "the bound port is advertised");
    let client = start(EndpointConfig::udp(loopback(0)), false);
    call(&server, &client);
    assert_eq!(client.wait_for("connected", 1), 1);
    assert_eq!(client.wait_for("echo", 25), 25, "every packet came back");
    client.stop();
    let stats = server.stop();
    assert!(stats.received >= 25 && stats.received_tcp == 0, "{stats:?}");
}

#[test]
fn a_client_without_udp_calls_over_ice_tcp() {
    let mut config = EndpointConfig::udp(loopback(0));
    config.tcp = Some(loopback(0));
    let server = start(config, true);
    let tcp = server.config.tcp.unwrap_or_else(|| panic!("tcp bound"));
    assert_ne!(tcp.port(), 0, "the bound port is advertised");
    // The client offers no UDP candidate: its only way in is TCP to the server's passive port.
    let mut client_config = EndpointConfig::udp(loopback(0));
    client_config.udp_candidates = false;
    client_config.tcp = Some(loopback(9));
    client_config.tcp_active = true;
    let client = start(client_config, false);
    call(&server, &client);
    assert_eq!(client.wait_for("connected", 1), 1, "connected over TCP");
    assert_eq!(
        client.wait_for("echo", 25),
        25,
        "every packet came back over TCP"
    );
    let client_stats = client.stop();
    let stats = server.stop();
    assert!(stats.received_tcp >= 25, "{stats:?}");
    assert_eq!(
        stats.received, stats.received_tcp,
        "nothing came over UDP: {stats:?}"
    );
    assert!(client_stats.received_tcp >= 25, "{client_stats:?}");
}

#[test]
fn garbage_on_either_port_harms_no_call() {
    use std::io::Write;
    let mut config = EndpointConfig::udp(loopback(0));
    config.tcp = Some(loopback(0));
    let server = start(config, true);
    let (udp, tcp) = (
        server.config.udp,
        server.config.tcp.unwrap_or_else(|| panic!("tcp")),
    );

    let noise = std::net::UdpSocket::bind(loopback(0)).unwrap_or_else(|e| panic!("{e}"));
    for data in [
        &[][..],
        &[0u8; 1][..],
        &[0x80; 1400][..],
        &[0x16; 60][..],
        b"\x00\x01\x00\x00",
    ] {
        let _ = noise.send_to(data, udp);
    }
    let mut streams = Vec::new();
    for garbage in [
        &b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"[..],
        &[0xff, 0xff, 1, 2, 3][..], // a 65535-byte frame that never completes
        &[0, 3, 0x80, 0x80, 0x80, 0, 0][..], // a framed non-STUN datagram, then an empty one
    ] {
        let mut s = std::net::TcpStream::connect(tcp).unwrap_or_else(|e| panic!("{e}"));
        let _ = s.write_all(garbage);
        streams.push(s);
    }
    // One connection closes at once.
    drop(std::net::TcpStream::connect(tcp));

    let client = start(EndpointConfig::udp(loopback(0)), false);
    call(&server, &client);
    assert_eq!(client.wait_for("echo", 25), 25, "the call is unharmed");
    client.stop();
    let stats = server.stop();
    assert!(stats.refused >= 5, "the garbage was refused: {stats:?}");
    drop(streams);
}
