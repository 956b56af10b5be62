//! Shared helpers of the scenario tests: a config with one allowlisted and one digest trunk, a
//! request writer, and a driver that steps the endpoint.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::time::Instant;

use hushpay_sip::dispatch::{DispatchRule, RoomTarget};
use hushpay_sip::trunk::{DigestAlgorithm, DigestCredentials, Trunk};
use hushpay_sip::{Endpoint, Event, Input, Limits, Output, Peer, SipConfig, Transport};

pub const LOCAL: &str = "198.51.100.1:5060";
pub const CARRIER: &str = "192.0.2.10:5060";
pub const DIGEST_PEER: &str = "203.0.113.7:5062";
pub const STRANGER: &str = "198.18.0.9:5060";
pub const REALM: &str = "hushpay.test";

pub fn config_with(limits: Limits, max_calls: usize) -> SipConfig {
    let trunks = vec![
        Trunk {
            name: "carrier".into(),
            tenant: "acme".into(),
            sources: vec!["192.0.2.0/24".parse().unwrap()],
            digest: None,
            max_calls,
        },
        Trunk {
            name: "pbx".into(),
            tenant: "beta".into(),
            sources: vec![],
            digest: Some(DigestCredentials {
                username: "pbx-user".into(),
                password: "pbx-pass".into(),
                algorithms: vec![DigestAlgorithm::Sha256, DigestAlgorithm::Md5],
            }),
            max_calls,
        },
    ];
    let rules = vec![
        DispatchRule {
            tenant: "acme".into(),
            called: Some("+441234".into()),
            header: None,
            room: RoomTarget::Room("room-pay".into()),
        },
        DispatchRule {
            tenant: "acme".into(),
            called: None,
            header: Some(("X-Queue".into(), "billing".into())),
            room: RoomTarget::NewPerCall,
        },
        DispatchRule {
            tenant: "beta".into(),
            called: None,
            header: None,
            room: RoomTarget::NewPerCall,
        },
    ];
    SipConfig::new(trunks, rules, limits, REALM).unwrap()
}

pub fn endpoint() -> Endpoint {
    Endpoint::new(config_with(Limits::default(), 4), [7u8; 32], Instant::now())
}

pub fn udp(addr: &str) -> Peer {
    Peer {
        transport: Transport::Udp,
        addr: addr.parse().unwrap(),
    }
}

pub const OFFER: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";

/// A request: method, Request-URI user, Call-ID, CSeq, branch, To tag, extra headers, SDP body.
#[derive(Debug)]
pub struct Req<'a> {
    pub method: &'a str,
    pub user: &'a str,
    pub call_id: &'a str,
    pub cseq: u32,
    pub branch: &'a str,
    pub to_tag: Option<&'a str>,
    pub extra: &'a str,
    pub sdp: Option<&'a str>,
}

impl<'a> Req<'a> {
    pub fn new(method: &'a str, call_id: &'a str) -> Self {
        Req {
            method,
            user: "+441234",
            call_id,
            cseq: 1,
            branch: "z9hG4bK-1",
            to_tag: None,
            extra: "",
            sdp: None,
        }
    }

    pub fn uri(&self) -> String {
        format!("sip:{}@198.51.100.1", self.user)
    }

    pub fn bytes(&self) -> Vec<u8> {
        let to_tag = self.to_tag.map(|t| format!(";tag={t}")).unwrap_or_default();
        let (ctype, body) = match self.sdp {
            Some(b) => ("Content-Type: application/sdp\r\n", b),
            None => ("", ""),
        };
        let cseq_method = self.method;
        format!(
            "{m} {uri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch={b}\r\nMax-Forwards: 70\r\nFrom: <sip:caller@192.0.2.10>;tag=caller-tag\r\nTo: <sip:{u}@198.51.100.1>{to_tag}\r\nCall-ID: {c}\r\nCSeq: {n} {cm}\r\nContact: <sip:caller@192.0.2.10:5060>\r\n{x}{ctype}Content-Length: {len}\r\n\r\n{body}",
            m = self.method,
            uri = self.uri(),
            b = self.branch,
            u = self.user,
            c = self.call_id,
            n = self.cseq,
            cm = cseq_method,
            x = self.extra,
            len = body.len(),
        )
        .into_bytes()
    }
}

/// Everything the endpoint emitted after one input, until its Timeout.
#[derive(Debug, Default)]
pub struct Step {
    pub sent: Vec<(Peer, String)>,
    pub events: Vec<Event>,
    pub timeout: Option<Instant>,
}

impl Step {
    pub fn codes(&self) -> Vec<u16> {
        self.sent.iter().map(|(_, s)| code(s)).collect()
    }

    pub fn only(&self) -> &str {
        assert_eq!(self.sent.len(), 1, "{:#?}", self.sent);
        &self.sent[0].1
    }
}

pub fn code(response: &str) -> u16 {
    response
        .strip_prefix("SIP/2.0 ")
        .and_then(|r| r.get(..3))
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not a response: {response}"))
}

pub fn drain(ep: &mut Endpoint) -> Step {
    let mut s = Step::default();
    loop {
        match ep.poll_output() {
            Output::Transmit { peer, bytes } => {
                s.sent.push((peer, String::from_utf8(bytes).unwrap()))
            }
            Output::Event(e) => s.events.push(e),
            Output::Timeout(t) => {
                s.timeout = Some(t);
                return s;
            }
        }
    }
}

pub fn feed(ep: &mut Endpoint, now: Instant, from: &str, bytes: &[u8]) -> Step {
    let local: SocketAddr = LOCAL.parse().unwrap();
    ep.handle_input(
        now,
        Input {
            peer: udp(from),
            local,
            bytes,
        },
    );
    drain(ep)
}

/// A header's value in a response.
pub fn header<'s>(msg: &'s str, name: &str) -> Option<&'s str> {
    msg.split("\r\n").find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

pub fn to_tag(msg: &str) -> String {
    let to = header(msg, "To").unwrap();
    to.split(";tag=").nth(1).unwrap().to_owned()
}
