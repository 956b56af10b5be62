//! Target `sip`: bytes off a SIP trunk, as one UDP datagram and as a TCP stream cut by the
//! framer, into the real [`hushpay_sip::Endpoint`] (one allowlisted trunk, one digest trunk).
//!
//! Invariants: nothing panics; everything the endpoint sends is a response (`SIP/2.0 ...`),
//! never a request: Hushpay originates no call whatever a peer sends; a source no trunk admits
//! gets at most one `403` and no call state; calls offered are answered and timed out without
//! leaving state behind.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hushpay_sip::dispatch::{DispatchRule, RoomTarget};
use hushpay_sip::framing::Framer;
use hushpay_sip::trunk::{DigestAlgorithm, DigestCredentials, Trunk};
use hushpay_sip::{Endpoint, Event, Input, Limits, Output, Peer, SipConfig, Transport};

pub const TRUNK: &str = "192.0.2.10:5060";
pub const STRANGER: &str = "198.18.0.9:5060";

fn endpoint() -> Endpoint {
    let trunks = vec![
        Trunk {
            name: "carrier".into(),
            tenant: "acme".into(),
            sources: vec!["192.0.2.0/24".parse().unwrap_or_else(|_| unreachable!())],
            digest: None,
            max_calls: 4,
        },
        Trunk {
            name: "pbx".into(),
            tenant: "acme".into(),
            sources: vec!["203.0.113.0/24".parse().unwrap_or_else(|_| unreachable!())],
            digest: Some(DigestCredentials {
                username: "pbx".into(),
                password: "pw".into(),
                algorithms: vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5],
            }),
            max_calls: 4,
        },
    ];
    let rules = vec![DispatchRule {
        tenant: "acme".into(),
        called: None,
        header: None,
        room: RoomTarget::NewPerCall,
    }];
    let config = SipConfig::new(trunks, rules, Limits::default(), "fuzz")
        .unwrap_or_else(|e| unreachable!("fixed config is valid: {e}"));
    Endpoint::new(config, [9; 32], Instant::now())
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap_or_else(|_| unreachable!())
}

/// Drains outputs, checking each; answers offered calls. Returns (responses, events).
fn drain(ep: &mut Endpoint, now: Instant) -> (Vec<Vec<u8>>, Vec<Event>) {
    let mut sent = Vec::new();
    let mut events = Vec::new();
    loop {
        match ep.poll_output() {
            Output::Transmit { bytes, .. } => {
                assert!(
                    bytes.starts_with(b"SIP/2.0 "),
                    "the endpoint sent a request"
                );
                sent.push(bytes);
            }
            Output::Event(e) => {
                if let Event::IncomingCall(c) = &e {
                    let _ = ep.answer(now, c.call, addr("198.51.100.1:30000"));
                }
                events.push(e);
            }
            Output::Timeout(_) => return (sent, events),
        }
    }
}

pub fn run(data: &[u8]) {
    let now = Instant::now();
    let local = addr("198.51.100.1:5060");

    // a stranger: at most a 403, no state
    let mut ep = endpoint();
    let peer = Peer {
        transport: Transport::Udp,
        addr: addr(STRANGER),
    };
    ep.handle_input(
        now,
        Input {
            peer,
            local,
            bytes: data,
        },
    );
    let (sent, events) = drain(&mut ep, now);
    assert!(sent.len() <= 1 && sent.iter().all(|s| s.starts_with(b"SIP/2.0 403 ")));
    assert!(events.iter().all(|e| matches!(e, Event::Refused(..))));
    assert_eq!(ep.call_count(), 0);

    // the trunk, over UDP, twice (a retransmission)
    let mut ep = endpoint();
    for peer_addr in [TRUNK, "203.0.113.5:5060"] {
        let peer = Peer {
            transport: Transport::Udp,
            addr: addr(peer_addr),
        };
        for _ in 0..2 {
            ep.handle_input(
                now,
                Input {
                    peer,
                    local,
                    bytes: data,
                },
            );
            drain(&mut ep, now);
        }
    }
    ep.handle_timeout(now + Duration::from_secs(70));
    drain(&mut ep, now + Duration::from_secs(70));
    ep.handle_timeout(now + Duration::from_secs(140));
    drain(&mut ep, now + Duration::from_secs(140));
    assert_eq!(ep.call_count(), 0, "unacknowledged calls time out");

    // the trunk, over TCP, cut by the framer in 7-byte reads
    let mut ep = endpoint();
    let mut framer = Framer::new();
    let peer = Peer {
        transport: Transport::Tcp,
        addr: addr(TRUNK),
    };
    for chunk in data.chunks(7) {
        framer.push(chunk);
        loop {
            match framer.next_message(Limits::default().max_message_bytes) {
                Ok(Some(msg)) => {
                    ep.handle_input(
                        now,
                        Input {
                            peer,
                            local,
                            bytes: &msg,
                        },
                    );
                    drain(&mut ep, now);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}
