//! SIP INFO keys (RFC 6086 with `application/dtmf-relay` or `application/dtmf`) on a call that
//! is up become `Event::Key`; retransmissions, strangers, other bodies and calls not up do not.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::time::{Duration, Instant};

use common::*;
use hushpay_sip::{Event, Refusal};

fn info<'a>(tag: &'a str, cseq: u32, branch: &'a str, ctype: &'a str, body: &'a str) -> Vec<u8> {
    let extra = format!("Content-Type: {ctype}\r\n");
    let head = Req {
        to_tag: Some(tag),
        cseq,
        branch,
        extra: &extra,
        ..Req::new("INFO", "k1")
    }
    .bytes();
    // Req writes Content-Length 0 without SDP: put the body in by hand
    let text = String::from_utf8(head).unwrap().replace(
        "Content-Length: 0\r\n\r\n",
        &format!("Content-Length: {}\r\n\r\n{body}", body.len()),
    );
    text.into_bytes()
}

#[test]
fn info_keys_on_a_call_that_is_up_become_key_events() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let mut r = Req::new("INVITE", "k1");
    r.sdp = Some(OFFER);
    let s = feed(&mut ep, t0, CARRIER, &r.bytes());
    let [Event::IncomingCall(c)] = &s.events[..] else {
        panic!()
    };
    let call = c.call;
    // not up yet (offered): no such dialog
    let early = info(
        "nobody",
        2,
        "z9hG4bK-i0",
        "application/dtmf-relay",
        "Signal=1\r\n",
    );
    assert_eq!(feed(&mut ep, t0, CARRIER, &early).codes(), vec![481]);
    ep.answer(t0, call, "198.51.100.1:30000".parse().unwrap())
        .unwrap();
    let tag = to_tag(drain(&mut ep).only());
    let mut ack = Req::new("ACK", "k1");
    ack.to_tag = Some(&tag);
    feed(&mut ep, t0, CARRIER, &ack.bytes());

    let five = info(
        &tag,
        2,
        "z9hG4bK-i1",
        "application/dtmf-relay",
        "Signal=5\r\nDuration=160\r\n",
    );
    let s = feed(&mut ep, t0, CARRIER, &five);
    assert_eq!(s.codes(), vec![200]);
    assert_eq!(
        s.events,
        vec![Event::Key {
            call,
            key: '5',
            duration_ms: Some(160)
        }]
    );
    // retransmitted: the same 200, no second key
    let again = feed(&mut ep, t0 + Duration::from_millis(500), CARRIER, &five);
    assert_eq!(again.codes(), vec![200]);
    assert!(again.events.is_empty());
    let hash = info(&tag, 3, "z9hG4bK-i2", "application/dtmf", "#");
    assert_eq!(
        feed(&mut ep, t0, CARRIER, &hash).events,
        vec![Event::Key {
            call,
            key: '#',
            duration_ms: None
        }]
    );

    // other bodies, bad keys, strangers, wrong tags
    let s = feed(
        &mut ep,
        t0,
        CARRIER,
        &info(&tag, 4, "z9hG4bK-i3", "application/sdp", "v=0"),
    );
    assert_eq!(s.codes(), vec![415]);
    assert_eq!(
        s.events,
        vec![Event::Refused(udp(CARRIER), Refusal::NotAcceptable)]
    );
    let pan = info(
        &tag,
        5,
        "z9hG4bK-i4",
        "application/dtmf-relay",
        "Signal=4111111111111111\r\n",
    );
    let s = feed(&mut ep, t0, CARRIER, &pan);
    assert_eq!(s.codes(), vec![400]);
    assert!(!format!("{:?}", s.events).contains("4111"));
    // a source of another trunk (the digest one admits any address) is not in this dialog
    let s = feed(
        &mut ep,
        t0,
        STRANGER,
        &info(&tag, 6, "z9hG4bK-i5", "application/dtmf", "1"),
    );
    assert_eq!(s.codes(), vec![481]);
    assert!(!s.events.iter().any(|e| matches!(e, Event::Key { .. })));
    let s = feed(
        &mut ep,
        t0,
        CARRIER,
        &info("not-ours", 7, "z9hG4bK-i6", "application/dtmf", "1"),
    );
    assert_eq!(s.codes(), vec![481]);
}
