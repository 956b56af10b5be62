//! Target `rtc_endpoint`: the datagram routing of [`hushpay_rtc::Endpoint`] (the media
//! engine's one UDP port and one ICE-TCP port for every peer) under attack, while one or two
//! legitimate peers connect and talk through it ([`net`]: real ICE, DTLS and SRTP with client
//! endpoints, simulated time).
//!
//! The input is a program: byte 0 picks one or two legitimate peers; then each step is an
//! opcode byte (mod 8) and its operands, read with [`Bytes`] (the input running out reads
//! zeros):
//!
//! | op | step |
//! |---|---|
//! | 0 | a UDP datagram of arbitrary bytes from an attacker's address |
//! | 1 | a STUN binding request over UDP naming a server peer's real ufrag (no valid integrity: the attacker lacks the password), arbitrary tail |
//! | 2 | arbitrary bytes on an attacker's ICE-TCP connection (RFC 4571 frames, any split) |
//! | 3 | such a binding request, framed, on an attacker's TCP connection |
//! | 4 | time passes (up to ~1 s, 10 ms ticks), legitimate media flowing |
//! | 5 | a datagram from a legitimate client's own address (spoofed), once that client is connected |
//! | 6 | a DTLS, RTP or RTCP-looking datagram from an attacker's address |
//! | 7 | the last attacker datagram again from up to 15 fresh addresses (route-table churn) |
//!
//! An attacker's address is one of four fixed ones or any address the input names (never a
//! client's). TCP frames go through the driver's own [`FrameReader`].
//!
//! Invariants: nothing panics; every attacker datagram is refused (`Err`: without the ICE
//! password no check can route an address); every legitimate datagram reaches its own peer
//! (no route of a client is evicted or stolen); no legitimate peer is dropped; and at the end,
//! after at most 3 s more of simulated time, every client and its server peer are connected and
//! RTP has crossed both ways in the last second.

pub mod net;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hushpay_rtc::Protocol;
use hushpay_rtc::driver::FrameReader;

use crate::bytes::Bytes;
use net::{Net, SERVER_TCP, SERVER_UDP};

/// Steps run at most (bounds the time one input takes).
const MAX_STEPS: usize = 200;
/// Attackers' fixed addresses (TEST-NET-3).
const ATTACKERS: [SocketAddr; 4] = [
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)), 5000),
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 6)), 5001),
    SocketAddr::new(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 7)), 40000),
    SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 7)),
        5000,
    ),
];
const STUN_COOKIE: [u8; 4] = [0x21, 0x12, 0xa4, 0x42];

pub fn run(data: &[u8]) {
    let mut input = Bytes::new(data);
    let mut net = Net::new(1 + usize::from(input.u8() & 1));
    let mut tcp: [FrameReader; 4] = Default::default();
    let mut last: Option<(Protocol, Vec<u8>)> = None;
    for _ in 0..MAX_STEPS {
        if input.is_empty() {
            break;
        }
        match input.u8() % 8 {
            0 => {
                let from = attacker(&mut input, &net);
                let bytes = input.short_slice().to_vec();
                attack(&mut net, Protocol::Udp, from, &bytes);
                last = Some((Protocol::Udp, bytes));
            }
            1 => {
                let from = attacker(&mut input, &net);
                let check = forged_check(&mut input, &net);
                attack(&mut net, Protocol::Udp, from, &check);
                last = Some((Protocol::Udp, check));
            }
            2 => {
                let conn = usize::from(input.u8() % 4);
                let bytes = input.short_slice().to_vec();
                tcp_bytes(&mut net, &mut tcp[conn], ATTACKERS[conn], &bytes);
            }
            3 => {
                let conn = usize::from(input.u8() % 4);
                let check = forged_check(&mut input, &net);
                let mut stream = (check.len() as u16).to_be_bytes().to_vec();
                stream.extend_from_slice(&check);
                let cut = usize::from(input.u8()).min(stream.len());
                tcp_bytes(&mut net, &mut tcp[conn], ATTACKERS[conn], &stream[..cut]);
                tcp_bytes(&mut net, &mut tcp[conn], ATTACKERS[conn], &stream[cut..]);
                last = Some((Protocol::Tcp, check));
            }
            4 => net.run_for(Duration::from_millis(u64::from(input.u8()) * 4)),
            5 => {
                let k = usize::from(input.u8()) % net.clients.len();
                let bytes = input.short_slice();
                if net.clients[k].up() {
                    let from = net.clients[k].addr();
                    let now = net.now;
                    // Reaches the client's peer, which must shrug it off (checked below and
                    // at the end); the result itself may be anything but a panic.
                    let _ = net
                        .server
                        .handle_datagram(now, Protocol::Udp, from, SERVER_UDP, bytes);
                    net.settle();
                }
            }
            6 => {
                let from = attacker(&mut input, &net);
                let bytes = lookalike(&mut input);
                attack(&mut net, Protocol::Udp, from, &bytes);
                last = Some((Protocol::Udp, bytes));
            }
            _ => {
                let n = input.u8() % 16;
                if let Some((proto, bytes)) = &last {
                    for i in 0..n {
                        let from = SocketAddr::from(([203, 0, 113, 100 + i], 6000 + u16::from(i)));
                        attack(&mut net, *proto, from, bytes);
                    }
                }
            }
        }
        assert_eq!(
            net.server.len(),
            net.clients.len(),
            "a legitimate peer was dropped"
        );
    }
    finish(&mut net);
}

/// Every client connects (if it has not) and media crosses both ways.
fn finish(net: &mut Net) {
    for _ in 0..20 {
        if net.clients.iter().all(|c| c.up()) {
            break;
        }
        net.run_for(Duration::from_millis(100));
    }
    for (i, c) in net.clients.iter().enumerate() {
        assert!(
            c.up(),
            "client {i} never connected (client {}, server {})",
            c.connected,
            c.server_connected
        );
    }
    let before: Vec<(u64, u64)> = net
        .clients
        .iter()
        .map(|c| (c.rtp_in, c.server_rtp_in))
        .collect();
    net.run_for(Duration::from_secs(1));
    for (i, (c, (rtp_in, server_rtp_in))) in net.clients.iter().zip(before).enumerate() {
        assert!(
            c.server_rtp_in > server_rtp_in,
            "client {i}'s audio no longer reaches the server"
        );
        assert!(
            c.rtp_in > rtp_in,
            "the server's audio no longer reaches client {i}"
        );
    }
}

/// One attacker datagram: it must be refused.
fn attack(net: &mut Net, proto: Protocol, from: SocketAddr, bytes: &[u8]) {
    let to = match proto {
        Protocol::Udp => SERVER_UDP,
        _ => SERVER_TCP,
    };
    let r = net.server.handle_datagram(net.now, proto, from, to, bytes);
    assert!(
        r.is_err(),
        "an attacker's datagram from {from} reached {r:?}"
    );
    net.settle();
}

/// Stream bytes on an attacker's TCP connection: each whole frame is a datagram.
fn tcp_bytes(net: &mut Net, reader: &mut FrameReader, from: SocketAddr, bytes: &[u8]) {
    let spare = reader.spare(bytes.len());
    spare.copy_from_slice(bytes);
    reader.filled(bytes.len(), bytes.len());
    while let Some(frame) = reader.next_frame() {
        let frame = frame.to_vec();
        attack(net, Protocol::Tcp, from, &frame);
    }
}

/// An attacker's address: a fixed one, or any the input names that is not a client's.
fn attacker(input: &mut Bytes<'_>, net: &Net) -> SocketAddr {
    let pick = input.u8();
    let addr = match pick {
        0..=0xef => ATTACKERS[usize::from(pick % 4)],
        0xf0..=0xf7 => SocketAddr::new(IpAddr::V4(Ipv4Addr::from(input.u32())), input.u16()),
        _ => {
            let ip = u128::from(input.u32()) << 96 | u128::from(input.u32());
            SocketAddr::new(IpAddr::V6(Ipv6Addr::from(ip)), input.u16())
        }
    };
    if net.is_client(addr) {
        ATTACKERS[0]
    } else {
        addr
    }
}

/// A binding request whose `USERNAME` names a server peer's real ufrag, then arbitrary
/// attributes (a forged `MESSAGE-INTEGRITY` among them, or none).
fn forged_check(input: &mut Bytes<'_>, net: &Net) -> Vec<u8> {
    let k = usize::from(input.u8()) % net.clients.len();
    let remote = input.short_slice();
    let tail = input.short_slice();
    let mut username = net.clients[k].server_ufrag.as_bytes().to_vec();
    username.push(b':');
    username.extend_from_slice(remote);
    let mut attrs = vec![0x00, 0x06];
    attrs.extend_from_slice(&(username.len() as u16).to_be_bytes());
    attrs.extend_from_slice(&username);
    attrs.resize(attrs.len().div_ceil(4) * 4, 0);
    attrs.extend_from_slice(tail);
    let mut m = vec![0x00, 0x01];
    m.extend_from_slice(&(attrs.len() as u16).to_be_bytes());
    m.extend_from_slice(&STUN_COOKIE);
    m.extend_from_slice(input.take(12));
    m.resize(20, 0);
    m.extend_from_slice(&attrs);
    m
}

/// Bytes that pass the first-byte demultiplexing of RFC 7983 as DTLS, RTP or RTCP.
fn lookalike(input: &mut Bytes<'_>) -> Vec<u8> {
    let kind = input.u8() % 3;
    let body = input.short_slice();
    let mut m = match kind {
        // DTLS 1.2 handshake record, epoch and sequence from the input
        0 => vec![22, 0xfe, 0xfd],
        // RTP, Opus
        1 => vec![0x80, 111],
        // RTCP sender report
        _ => vec![0x80, 200],
    };
    m.extend_from_slice(body);
    m
}
