//! Hushpay hangs up: the BYE it sends inside the caller's dialog, its retransmission and its
//! end, and what happens when the call is not confirmed yet.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::time::{Duration, Instant};

use common::*;
use hushpay_sip::{CallId, EndReason, Endpoint, Event};

fn rtp() -> std::net::SocketAddr {
    "198.51.100.1:30000".parse().unwrap()
}

/// An answered call (not yet acknowledged): its id and our To tag.
fn answered(
    ep: &mut Endpoint,
    t0: Instant,
    call_id: &str,
    extra: &'static str,
) -> (CallId, String) {
    let mut r = Req::new("INVITE", call_id);
    r.sdp = Some(OFFER);
    r.extra = extra;
    let s = feed(ep, t0, CARRIER, &r.bytes());
    let [Event::IncomingCall(c)] = &s.events[..] else {
        panic!("{:?}", s.events)
    };
    ep.answer(t0, c.call, rtp()).unwrap();
    (c.call, to_tag(drain(ep).only()))
}

fn ack(ep: &mut Endpoint, t: Instant, call_id: &str, tag: &str) -> Step {
    let mut a = Req::new("ACK", call_id);
    a.to_tag = Some(tag);
    a.branch = "z9hG4bK-ack";
    feed(ep, t, CARRIER, &a.bytes())
}

/// A response from the caller to the request `req` (echoing its Via, From, To, Call-ID, CSeq).
fn answer_to(req: &str, code: u16) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} Whatever\r\n");
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        out.push_str(&format!("{name}: {}\r\n", header(req, name).unwrap()));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

#[test]
fn a_confirmed_call_hung_up_gets_a_bye_in_its_dialog() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let rr = "Record-Route: <sip:proxy-b.example;lr>\r\nRecord-Route: <sip:proxy-a.example;lr>\r\n";
    let (call, tag) = answered(&mut ep, t0, "h1", rr);
    assert_eq!(
        ack(&mut ep, t0, "h1", &tag).events,
        vec![Event::Confirmed(call)]
    );

    ep.hang_up(t0, call).unwrap();
    let s = drain(&mut ep);
    assert_eq!(s.events, vec![Event::Ended(call, EndReason::HungUp)]);
    assert_eq!(ep.call_count(), 0);
    let [(peer, bye)] = &s.sent[..] else {
        panic!("{:?}", s.sent)
    };
    assert_eq!(peer.addr, CARRIER.parse().unwrap(), "sent to the trunk");
    // the caller's Contact is the Request-URI; the route set in Record-Route order
    assert!(
        bye.starts_with("BYE sip:caller@192.0.2.10:5060 SIP/2.0\r\n"),
        "{bye}"
    );
    let routes: Vec<&str> = bye
        .split("\r\n")
        .filter(|l| l.starts_with("Route:"))
        .collect();
    assert_eq!(
        routes,
        [
            "Route: <sip:proxy-b.example;lr>",
            "Route: <sip:proxy-a.example;lr>"
        ]
    );
    // our side: From is the INVITE's To with our tag, To the caller's From with its tag
    assert_eq!(
        header(bye, "From"),
        Some(format!("<sip:+441234@198.51.100.1>;tag={tag}").as_str())
    );
    assert_eq!(
        header(bye, "To"),
        Some("<sip:caller@192.0.2.10>;tag=caller-tag")
    );
    assert_eq!(header(bye, "Call-ID"), Some("h1"));
    assert_eq!(header(bye, "CSeq"), Some("1 BYE"));
    let via = header(bye, "Via").unwrap();
    assert!(
        via.starts_with("SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK"),
        "{via}"
    );
    assert_eq!(header(bye, "Content-Length"), Some("0"));

    // the caller's 200 ends the transaction: nothing is sent again
    assert_eq!(ep.pending_byes(), 1);
    let s = feed(
        &mut ep,
        t0 + Duration::from_millis(40),
        CARRIER,
        &answer_to(bye, 200),
    );
    assert!(s.sent.is_empty() && s.events.is_empty());
    assert_eq!(ep.pending_byes(), 0);
    ep.handle_timeout(t0 + Duration::from_secs(5));
    assert!(drain(&mut ep).sent.is_empty());

    // a BYE from the caller now finds no call
    let mut bye_in = Req::new("BYE", "h1");
    bye_in.to_tag = Some(&tag);
    bye_in.cseq = 2;
    bye_in.branch = "z9hG4bK-late-bye";
    assert_eq!(
        feed(&mut ep, t0, CARRIER, &bye_in.bytes()).codes(),
        vec![481]
    );
}

#[test]
fn an_unanswered_bye_is_retransmitted_on_rfc3261_timers_then_given_up() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let (call, tag) = answered(&mut ep, t0, "h2", "");
    ack(&mut ep, t0, "h2", &tag);
    ep.hang_up(t0, call).unwrap();
    let first = drain(&mut ep).only().to_owned();
    let (mut t, mut last, mut gaps) = (t0, t0, Vec::new());
    while t < t0 + Duration::from_secs(40) {
        t += Duration::from_millis(50);
        ep.handle_timeout(t);
        for (_, m) in drain(&mut ep).sent {
            assert_eq!(m, first, "the same BYE again");
            gaps.push((t - last).as_millis() / 50 * 50);
            last = t;
        }
    }
    assert_eq!(&gaps[..5], &[500, 1000, 2000, 4000, 4000], "{gaps:?}");
    assert!(last - t0 < Duration::from_secs(32), "given up after 64 T1");
    assert_eq!(ep.pending_byes(), 0);
}

#[test]
fn a_provisional_or_stray_response_does_not_end_the_bye() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let (call, tag) = answered(&mut ep, t0, "h3", "");
    ack(&mut ep, t0, "h3", &tag);
    ep.hang_up(t0, call).unwrap();
    let bye = drain(&mut ep).only().to_owned();
    feed(&mut ep, t0, CARRIER, &answer_to(&bye, 100));
    assert_eq!(ep.pending_byes(), 1, "a 1xx is not final");
    // the right branch from another address, and a made-up branch from the trunk
    feed(&mut ep, t0, "192.0.2.99:5060", &answer_to(&bye, 200));
    let forged = String::from_utf8(answer_to(&bye, 200))
        .unwrap()
        .replace(";branch=z9hG4bK", ";branch=z9hG4bKx");
    feed(&mut ep, t0, CARRIER, forged.as_bytes());
    assert_eq!(ep.pending_byes(), 1);
    feed(&mut ep, t0, CARRIER, &answer_to(&bye, 481));
    assert_eq!(ep.pending_byes(), 0, "any final response ends it");
}

#[test]
fn a_call_hung_up_before_its_ack_gets_the_bye_when_the_ack_arrives() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let (call, tag) = answered(&mut ep, t0, "h4", "");
    ep.hang_up(t0, call).unwrap();
    let s = drain(&mut ep);
    assert_eq!(s.events, vec![Event::Ended(call, EndReason::HungUp)]);
    assert!(s.sent.is_empty(), "no BYE before the ACK");
    ep.hang_up(t0, call).unwrap(); // again: nothing more
    assert!(drain(&mut ep).events.is_empty());
    let s = ack(&mut ep, t0 + Duration::from_millis(100), "h4", &tag);
    assert!(s.events.is_empty(), "no Confirmed for a call already ended");
    let [(_, bye)] = &s.sent[..] else {
        panic!("{:?}", s.sent)
    };
    assert!(bye.starts_with("BYE "), "{bye}");
    assert_eq!(ep.call_count(), 0);
    assert!(ep.hang_up(t0, call).is_err(), "gone");

    // never acknowledged: dropped at the ACK timeout without a second Ended
    let (call, _) = answered(&mut ep, t0, "h5", "");
    ep.hang_up(t0, call).unwrap();
    drain(&mut ep);
    ep.handle_timeout(t0 + Duration::from_secs(33));
    let s = drain(&mut ep);
    assert!(s.events.is_empty(), "{:?}", s.events);
    assert_eq!(ep.call_count(), 0);
}

#[test]
fn an_offered_call_hung_up_is_refused_480() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let mut r = Req::new("INVITE", "h6");
    r.sdp = Some(OFFER);
    let s = feed(&mut ep, t0, CARRIER, &r.bytes());
    let [Event::IncomingCall(c)] = &s.events[..] else {
        panic!()
    };
    ep.hang_up(t0, c.call).unwrap();
    let s = drain(&mut ep);
    assert_eq!(s.codes(), vec![480]);
    assert_eq!(s.events, vec![Event::Ended(c.call, EndReason::Rejected)]);
}
