//! Hushpay sends a caller back (RFC 3515): the REFER inside the caller's dialog, the trunk's
//! 202 and NOTIFYs (sipfrag), what each outcome tells the application, the BYE that follows
//! with its next CSeq, and the refusals: a REFER the trunk refuses or never answers, a NOTIFY
//! outside a transfer, of another event package or with an unreadable body, a bad target.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod common;

use std::time::{Duration, Instant};

use common::*;
use hushpay_sip::{CallId, EndReason, Endpoint, Event, SipError, TransferOutcome};

const TARGET: &str = "sip:ivr@192.0.2.20:5060?X-Hushpay-Result=success";

/// A confirmed call: its id and our To tag.
fn up(ep: &mut Endpoint, t0: Instant, call_id: &str) -> (CallId, String) {
    let mut r = Req::new("INVITE", call_id);
    r.sdp = Some(OFFER);
    let s = feed(ep, t0, CARRIER, &r.bytes());
    let [Event::IncomingCall(c)] = &s.events[..] else {
        panic!("{:?}", s.events)
    };
    ep.answer(t0, c.call, "198.51.100.1:30000".parse().unwrap())
        .unwrap();
    let tag = to_tag(drain(ep).only());
    let mut a = Req::new("ACK", call_id);
    a.to_tag = Some(&tag);
    a.branch = "z9hG4bK-ack";
    assert_eq!(
        feed(ep, t0, CARRIER, &a.bytes()).events,
        vec![Event::Confirmed(c.call)]
    );
    (c.call, tag)
}

fn response_to(req: &str, code: u16) -> Vec<u8> {
    let mut out = format!("SIP/2.0 {code} Whatever\r\n");
    for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
        out.push_str(&format!("{name}: {}\r\n", header(req, name).unwrap()));
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// The trunk's NOTIFY in the dialog: `event` package, `body` as message/sipfrag.
fn notify(call_id: &str, tag: &str, cseq: u32, event: &str, body: &str) -> Vec<u8> {
    let mut n = Req::new("NOTIFY", call_id);
    n.to_tag = Some(tag);
    n.cseq = cseq;
    let branch = format!("z9hG4bK-notify-{cseq}");
    n.branch = &branch;
    let head = String::from_utf8(n.bytes()).unwrap();
    head.replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Event: {event}\r\nSubscription-State: active\r\nContent-Type: message/sipfrag;version=2.0\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .into_bytes()
}

#[test]
fn a_transfer_goes_through_and_the_bye_follows_with_the_next_cseq() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let (call, tag) = up(&mut ep, t0, "t1");
    let result = vec![("X-Hushpay-Result".to_owned(), "success".to_owned())];
    ep.transfer(t0, call, TARGET, result.clone()).unwrap();
    let s = drain(&mut ep);
    assert!(s.events.is_empty());
    let [(peer, refer)] = &s.sent[..] else {
        panic!("{:?}", s.sent)
    };
    assert_eq!(peer.addr, CARRIER.parse().unwrap(), "sent to the trunk");
    assert!(
        refer.starts_with("REFER sip:caller@192.0.2.10:5060 SIP/2.0\r\n"),
        "{refer}"
    );
    assert_eq!(
        header(refer, "Refer-To"),
        Some(format!("<{TARGET}>").as_str())
    );
    assert_eq!(header(refer, "X-Hushpay-Result"), Some("success"));
    assert_eq!(header(refer, "CSeq"), Some("1 REFER"));
    assert_eq!(
        header(refer, "From"),
        Some(format!("<sip:+441234@198.51.100.1>;tag={tag}").as_str())
    );
    assert!(header(refer, "Contact").is_some(), "where NOTIFYs go");
    // a second transfer while this one runs is refused
    assert!(matches!(
        ep.transfer(t0, call, TARGET, Vec::new()),
        Err(SipError::TransferUnderWay)
    ));

    // 202: nothing yet; a provisional NOTIFY: 200, nothing yet
    let t1 = t0 + Duration::from_millis(30);
    let s = feed(&mut ep, t1, CARRIER, &response_to(refer, 202));
    assert!(s.events.is_empty() && s.sent.is_empty());
    assert_eq!(ep.pending_refers(), 0);
    let s = feed(
        &mut ep,
        t1,
        CARRIER,
        &notify("t1", &tag, 2, "refer", "SIP/2.0 100 Trying\r\n"),
    );
    assert_eq!(s.codes(), vec![200]);
    assert!(s.events.is_empty());
    // the final NOTIFY: the transfer is done
    let s = feed(
        &mut ep,
        t1,
        CARRIER,
        &notify("t1", &tag, 3, "refer;id=1", "SIP/2.0 200 OK\r\n"),
    );
    assert_eq!(s.codes(), vec![200]);
    assert_eq!(
        s.events,
        vec![Event::Transfer {
            call,
            outcome: TransferOutcome::Done
        }]
    );
    // a NOTIFY after that belongs to no transfer
    let s = feed(
        &mut ep,
        t1,
        CARRIER,
        &notify("t1", &tag, 4, "refer", "SIP/2.0 200 OK\r\n"),
    );
    assert_eq!(s.codes(), vec![481]);

    // the BYE carries the result and the dialog's next CSeq
    ep.hang_up_with(t1, call, result).unwrap();
    let s = drain(&mut ep);
    assert_eq!(s.events, vec![Event::Ended(call, EndReason::HungUp)]);
    let bye = &s.sent[0].1;
    assert!(bye.starts_with("BYE "), "{bye}");
    assert_eq!(header(bye, "CSeq"), Some("2 BYE"));
    assert_eq!(header(bye, "X-Hushpay-Result"), Some("success"));
}

#[test]
fn a_refused_or_failed_transfer_is_reported() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    // refused by the trunk
    let (call, _) = up(&mut ep, t0, "t2");
    ep.transfer(t0, call, TARGET, Vec::new()).unwrap();
    let refer = drain(&mut ep).only().to_owned();
    let s = feed(&mut ep, t0, CARRIER, &response_to(&refer, 603));
    assert_eq!(
        s.events,
        vec![Event::Transfer {
            call,
            outcome: TransferOutcome::Refused(603)
        }]
    );
    // accepted, then the target was busy
    let (call, tag) = up(&mut ep, t0, "t3");
    ep.transfer(t0, call, TARGET, Vec::new()).unwrap();
    let refer = drain(&mut ep).only().to_owned();
    feed(&mut ep, t0, CARRIER, &response_to(&refer, 202));
    let s = feed(
        &mut ep,
        t0,
        CARRIER,
        &notify("t3", &tag, 2, "refer", "SIP/2.0 486 Busy Here\r\n"),
    );
    assert_eq!(
        s.events,
        vec![Event::Transfer {
            call,
            outcome: TransferOutcome::Failed(486)
        }]
    );
}

#[test]
fn a_refer_never_answered_is_retransmitted_then_refused_408() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let (call, _) = up(&mut ep, t0, "t4");
    ep.transfer(t0, call, TARGET, Vec::new()).unwrap();
    let refer = drain(&mut ep).only().to_owned();
    ep.handle_timeout(t0 + Duration::from_millis(600));
    let s = drain(&mut ep);
    assert_eq!(s.sent.len(), 1, "timer E");
    assert_eq!(s.sent[0].1, refer);
    ep.handle_timeout(t0 + Duration::from_secs(40));
    let s = drain(&mut ep);
    assert!(s.events.contains(&Event::Transfer {
        call,
        outcome: TransferOutcome::Refused(408)
    }));
    assert_eq!(ep.pending_refers(), 0);
}

#[test]
fn bad_targets_headers_and_notifies_are_refused() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let (call, tag) = up(&mut ep, t0, "t5");
    for bad in ["tel:+1555", "sip:a b@c", "sip:a@c>\r\nVia: x", ""] {
        assert!(
            matches!(
                ep.transfer(t0, call, bad, Vec::new()),
                Err(SipError::BadTarget)
            ),
            "{bad:?}"
        );
    }
    let evil = vec![("X-Ok".to_owned(), "a\r\nVia: evil".to_owned())];
    assert!(matches!(
        ep.transfer(t0, call, TARGET, evil.clone()),
        Err(SipError::BadHeader(_))
    ));
    assert!(matches!(
        ep.hang_up_with(t0, call, evil),
        Err(SipError::BadHeader(_))
    ));
    assert!(matches!(
        ep.transfer(t0, CallId(999), TARGET, Vec::new()),
        Err(SipError::UnknownCall)
    ));
    assert!(drain(&mut ep).sent.is_empty(), "nothing was sent");
    // a NOTIFY with no transfer under way
    let s = feed(
        &mut ep,
        t0,
        CARRIER,
        &notify("t5", &tag, 2, "refer", "SIP/2.0 200 OK\r\n"),
    );
    assert_eq!(s.codes(), vec![481]);
    // under way: another package 489, an unreadable body 400, and no event for either
    ep.transfer(t0, call, TARGET, Vec::new()).unwrap();
    let refer = drain(&mut ep).only().to_owned();
    feed(&mut ep, t0, CARRIER, &response_to(&refer, 202));
    let s = feed(
        &mut ep,
        t0,
        CARRIER,
        &notify("t5", &tag, 3, "presence", "SIP/2.0 200 OK\r\n"),
    );
    assert_eq!(s.codes(), vec![489]);
    let s = feed(
        &mut ep,
        t0,
        CARRIER,
        &notify("t5", &tag, 4, "refer", "hello"),
    );
    assert_eq!(s.codes(), vec![400]);
    assert!(!s.events.iter().any(|e| matches!(e, Event::Transfer { .. })));
    // the same NOTIFY from another trunk (the digest one, which admits any source) is no
    // part of the dialog
    let s = feed(
        &mut ep,
        t0,
        "198.18.0.9:5060",
        &notify("t5", &tag, 5, "refer", "SIP/2.0 200 OK\r\n"),
    );
    assert_eq!(s.codes(), vec![481]);
    assert!(!s.events.iter().any(|e| matches!(e, Event::Transfer { .. })));
    // a transfer of a call not up yet
    let mut r = Req::new("INVITE", "t6");
    r.sdp = Some(OFFER);
    let s = feed(&mut ep, t0, CARRIER, &r.bytes());
    let [Event::IncomingCall(c)] = &s.events[..] else {
        panic!("{:?}", s.events)
    };
    assert!(matches!(
        ep.transfer(t0, c.call, TARGET, Vec::new()),
        Err(SipError::NotUp)
    ));
}
