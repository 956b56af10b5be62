//! Scenario tests of the UAS: every method, both ways of authorising a trunk, refusals, timers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use hushpay_sip::dispatch::RoomTarget;
use hushpay_sip::sdp::Codec;
use hushpay_sip::trunk::DigestAlgorithm;
use hushpay_sip::{EndReason, Event, Limits, Refusal};

fn offered(ep: &mut hushpay_sip::Endpoint, now: Instant, call_id: &str) -> hushpay_sip::CallId {
    let mut r = Req::new("INVITE", call_id);
    r.sdp = Some(OFFER);
    let s = feed(ep, now, CARRIER, &r.bytes());
    assert_eq!(s.codes(), vec![100]);
    match &s.events[..] {
        [Event::IncomingCall(c)] => c.call,
        other => panic!("{other:?}"),
    }
}

fn rtp() -> std::net::SocketAddr {
    "198.51.100.1:30000".parse().unwrap()
}

#[test]
fn options_is_answered_200_to_a_known_source_and_403_to_a_stranger() {
    let mut ep = endpoint();
    let now = Instant::now();
    let s = feed(&mut ep, now, CARRIER, &Req::new("OPTIONS", "o1").bytes());
    let r = s.only();
    assert_eq!(code(r), 200);
    assert!(header(r, "Allow").unwrap().contains("INVITE"));
    assert_eq!(header(r, "Call-ID"), Some("o1"));
    assert_eq!(header(r, "CSeq"), Some("1 OPTIONS"));
    assert!(header(r, "Via").unwrap().contains("branch=z9hG4bK-1"));
}

#[test]
fn an_invite_from_an_unknown_source_gets_403_and_leaves_nothing() {
    let mut ep = Endpoint::new(config_only_allowlist(), [1; 32], Instant::now());
    let now = Instant::now();
    let mut r = Req::new("INVITE", "x1");
    r.sdp = Some(OFFER);
    let s = feed(&mut ep, now, STRANGER, &r.bytes());
    assert_eq!(s.codes(), vec![403]);
    assert_eq!(
        s.events,
        vec![Event::Refused(udp(STRANGER), Refusal::UnknownSource)]
    );
    assert_eq!(ep.call_count(), 0);
    // and an ACK or garbage from it: no reply at all
    assert!(
        feed(&mut ep, now, STRANGER, &Req::new("ACK", "x1").bytes())
            .sent
            .is_empty()
    );
    assert!(
        feed(&mut ep, now, STRANGER, b"\x00\x01garbage")
            .sent
            .is_empty()
    );
}

use hushpay_sip::Endpoint;

fn config_only_allowlist() -> hushpay_sip::SipConfig {
    use hushpay_sip::dispatch::DispatchRule;
    use hushpay_sip::trunk::Trunk;
    let trunks = vec![Trunk {
        name: "carrier".into(),
        tenant: "acme".into(),
        sources: vec!["192.0.2.0/24".parse().unwrap()],
        digest: None,
        max_calls: 4,
    }];
    let rules = vec![DispatchRule {
        tenant: "acme".into(),
        called: None,
        header: None,
        room: RoomTarget::NewPerCall,
    }];
    hushpay_sip::SipConfig::new(trunks, rules, Limits::default(), REALM).unwrap()
}

#[test]
fn an_allowlisted_call_is_answered_with_pcmu_acked_and_hung_up() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let mut r = Req::new("INVITE", "c1");
    r.sdp = Some(OFFER);
    let s = feed(&mut ep, t0, CARRIER, &r.bytes());
    assert_eq!(s.codes(), vec![100]);
    let Event::IncomingCall(inc) = &s.events[0] else {
        panic!()
    };
    assert_eq!(inc.tenant, "acme");
    assert_eq!(inc.trunk, "carrier");
    assert_eq!(inc.room, RoomTarget::Room("room-pay".into()));
    assert_eq!(inc.codec, Codec::Pcmu);
    assert_eq!(inc.telephone_event, Some(101));
    assert_eq!(inc.remote_rtp, "192.0.2.10:40000".parse().unwrap());

    ep.answer(t0, inc.call, rtp()).unwrap();
    let s = drain(&mut ep);
    let ok = s.only();
    assert_eq!(code(ok), 200);
    assert_eq!(header(ok, "Content-Type"), Some("application/sdp"));
    assert!(header(ok, "Contact").unwrap().contains("198.51.100.1:5060"));
    assert!(ok.contains("m=audio 30000 RTP/AVP 0 101\r\n"), "{ok}");
    assert!(ok.contains("c=IN IP4 198.51.100.1\r\n"));
    let tag = to_tag(ok);
    assert!(ep.answer(t0, inc.call, rtp()).is_err(), "answered twice");

    let mut ack = Req::new("ACK", "c1");
    ack.to_tag = Some(&tag);
    ack.branch = "z9hG4bK-ack";
    let s = feed(&mut ep, t0, CARRIER, &ack.bytes());
    assert!(s.sent.is_empty());
    assert_eq!(s.events, vec![Event::Confirmed(inc.call)]);

    let mut bye = Req::new("BYE", "c1");
    bye.to_tag = Some(&tag);
    bye.cseq = 2;
    bye.branch = "z9hG4bK-bye";
    let s = feed(&mut ep, t0, CARRIER, &bye.bytes());
    assert_eq!(s.codes(), vec![200]);
    assert_eq!(s.events, vec![Event::Ended(inc.call, EndReason::RemoteBye)]);
    assert_eq!(ep.call_count(), 0);
    // a retransmitted BYE gets the same 200, not a 481
    let again = feed(
        &mut ep,
        t0 + Duration::from_millis(500),
        CARRIER,
        &bye.bytes(),
    );
    assert_eq!(again.codes(), vec![200]);
    assert!(again.events.is_empty());
}

#[test]
fn the_200_is_retransmitted_on_rfc3261_timers_until_ack_or_given_up() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let call = offered(&mut ep, t0, "c2");
    ep.answer(t0, call, rtp()).unwrap();
    drain(&mut ep);
    let mut t = t0;
    let mut gaps = Vec::new();
    let mut last = t0;
    let mut ended = None;
    while t < t0 + Duration::from_secs(40) {
        t += Duration::from_millis(50);
        ep.handle_timeout(t);
        let s = drain(&mut ep);
        for (_, m) in &s.sent {
            assert_eq!(code(m), 200);
            gaps.push((t - last).as_millis() / 50 * 50);
            last = t;
        }
        if let Some(e) = s.events.first() {
            ended = Some((t - t0, e.clone()));
            break;
        }
    }
    assert_eq!(&gaps[..5], &[500, 1000, 2000, 4000, 4000], "{gaps:?}");
    let (at, e) = ended.unwrap();
    assert_eq!(e, Event::Ended(call, EndReason::AckTimeout));
    assert!(
        at >= Duration::from_secs(32) && at < Duration::from_millis(32_100),
        "{at:?}"
    );
    assert_eq!(ep.call_count(), 0);
}

#[test]
fn a_retransmitted_invite_gets_the_last_response_again() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let mut r = Req::new("INVITE", "c3");
    r.sdp = Some(OFFER);
    feed(&mut ep, t0, CARRIER, &r.bytes());
    let s = feed(&mut ep, t0, CARRIER, &r.bytes());
    assert_eq!(s.codes(), vec![100]);
    assert!(s.events.is_empty(), "no second call");
    assert_eq!(ep.call_count(), 1);
}

#[test]
fn cancel_gets_200_and_the_invite_487() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let call = offered(&mut ep, t0, "c4");
    let s = feed(&mut ep, t0, CARRIER, &Req::new("CANCEL", "c4").bytes());
    assert_eq!(s.codes(), vec![200, 487]);
    assert_eq!(header(&s.sent[0].1, "CSeq"), Some("1 CANCEL"));
    assert_eq!(header(&s.sent[1].1, "CSeq"), Some("1 INVITE"));
    assert_eq!(s.events, vec![Event::Ended(call, EndReason::Cancelled)]);
    assert!(ep.answer(t0, call, rtp()).is_err());
    let tag = to_tag(&s.sent[1].1);
    let mut ack = Req::new("ACK", "c4");
    ack.to_tag = Some(&tag);
    feed(&mut ep, t0, CARRIER, &ack.bytes());
    assert_eq!(ep.call_count(), 0);
    // a CANCEL for nothing: 481
    let s = feed(&mut ep, t0, CARRIER, &Req::new("CANCEL", "nothing").bytes());
    assert_eq!(s.codes(), vec![481]);
}

fn up(ep: &mut Endpoint, t0: Instant, call_id: &str) -> (hushpay_sip::CallId, String) {
    let call = offered(ep, t0, call_id);
    ep.answer(t0, call, rtp()).unwrap();
    let tag = to_tag(drain(ep).only());
    let mut ack = Req::new("ACK", call_id);
    ack.to_tag = Some(&tag);
    feed(ep, t0, CARRIER, &ack.bytes());
    (call, tag)
}

#[test]
fn a_reinvite_for_hold_is_answered_recvonly_then_resumed() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let (call, tag) = up(&mut ep, t0, "c5");
    let hold = OFFER.replace("a=sendrecv", "a=sendonly");
    let mut re = Req::new("INVITE", "c5");
    re.to_tag = Some(&tag);
    re.cseq = 2;
    re.branch = "z9hG4bK-re1";
    re.sdp = Some(&hold);
    let s = feed(&mut ep, t0, CARRIER, &re.bytes());
    let ok = s.only();
    assert_eq!(code(ok), 200);
    assert!(ok.contains("a=recvonly\r\n"), "{ok}");
    assert!(
        ok.contains("o=hushpay ") && ok.contains(" 2 IN IP4"),
        "version bumped: {ok}"
    );
    assert_eq!(
        s.events,
        vec![Event::MediaChanged {
            call,
            remote_rtp: "192.0.2.10:40000".parse().unwrap(),
            hold: true
        }]
    );
    let mut ack = Req::new("ACK", "c5");
    ack.to_tag = Some(&tag);
    ack.cseq = 2;
    feed(&mut ep, t0, CARRIER, &ack.bytes());

    let inactive = OFFER.replace("a=sendrecv", "a=inactive");
    re.cseq = 3;
    re.branch = "z9hG4bK-re2";
    re.sdp = Some(&inactive);
    let s = feed(&mut ep, t0, CARRIER, &re.bytes());
    assert!(s.only().contains("a=inactive\r\n"));
    let mut ack = Req::new("ACK", "c5");
    ack.to_tag = Some(&tag);
    ack.cseq = 3;
    feed(&mut ep, t0, CARRIER, &ack.bytes());

    re.cseq = 4;
    re.branch = "z9hG4bK-re3";
    re.sdp = Some(OFFER);
    let s = feed(&mut ep, t0, CARRIER, &re.bytes());
    assert!(s.only().contains("a=sendrecv\r\n"));
    assert!(matches!(
        s.events[..],
        [Event::MediaChanged { hold: false, .. }]
    ));
    // a re-INVITE in a dialog that is not ours: 481
    re.to_tag = Some("not-our-tag");
    re.cseq = 5;
    re.branch = "z9hG4bK-re4";
    assert_eq!(feed(&mut ep, t0, CARRIER, &re.bytes()).codes(), vec![481]);
}

fn digest_invite(call_id: &str, cseq: u32, branch: &str, auth: &str) -> Vec<u8> {
    let mut r = Req::new("INVITE", call_id);
    r.cseq = cseq;
    r.branch = branch;
    r.sdp = Some(OFFER);
    r.extra = auth;
    r.bytes()
}

fn param<'a>(challenge: &'a str, name: &str) -> &'a str {
    let start = challenge.find(&format!("{name}=")).unwrap() + name.len() + 1;
    let rest = &challenge[start..];
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let end = rest.find(['"', ',']).unwrap_or(rest.len());
    &rest[..end]
}

fn authorization(alg: DigestAlgorithm, nonce: &str, password: &str, uri: &str) -> String {
    let resp = hushpay_sip::digest::expected_response(
        alg,
        "pbx-user",
        REALM,
        password,
        "INVITE",
        uri,
        nonce,
        Some(("c0ffee", 1, "auth")),
    );
    format!(
        "Authorization: Digest username=\"pbx-user\", realm=\"{REALM}\", nonce=\"{nonce}\", uri=\"{uri}\", response=\"{resp}\", algorithm={}, qop=auth, nc=00000001, cnonce=\"c0ffee\"\r\n",
        alg.token()
    )
}

#[test]
fn a_digest_trunk_is_challenged_then_admitted_with_sha256_and_md5() {
    for alg in [DigestAlgorithm::Sha256, DigestAlgorithm::Md5] {
        let mut ep = endpoint();
        let t0 = Instant::now();
        let s = feed(
            &mut ep,
            t0,
            DIGEST_PEER,
            &digest_invite("d1", 1, "z9hG4bK-d1", ""),
        );
        let r401 = s.only();
        assert_eq!(code(r401), 401);
        assert_eq!(
            s.events,
            vec![Event::Refused(udp(DIGEST_PEER), Refusal::Challenged)]
        );
        let challenges: Vec<&str> = r401
            .split("\r\n")
            .filter(|l| l.starts_with("WWW-Authenticate:"))
            .collect();
        assert_eq!(challenges.len(), 2, "SHA-256 then MD5: {r401}");
        assert!(
            challenges[0].contains("algorithm=SHA-256") && challenges[1].contains("algorithm=MD5")
        );
        let ch = challenges
            .iter()
            .find(|c| c.contains(&format!("algorithm={}", alg.token())))
            .unwrap();
        assert_eq!(param(ch, "realm"), REALM);
        let nonce = param(ch, "nonce");
        let uri = "sip:+441234@198.51.100.1";

        let wrong = authorization(alg, nonce, "not-the-password", uri);
        let s = feed(
            &mut ep,
            t0,
            DIGEST_PEER,
            &digest_invite("d1", 2, "z9hG4bK-d2", &wrong),
        );
        assert_eq!(s.codes(), vec![403]);
        assert_eq!(
            s.events,
            vec![Event::Refused(udp(DIGEST_PEER), Refusal::AuthFailed)]
        );

        let right = authorization(alg, nonce, "pbx-pass", uri);
        let s = feed(
            &mut ep,
            t0,
            DIGEST_PEER,
            &digest_invite("d1", 3, "z9hG4bK-d3", &right),
        );
        assert_eq!(s.codes(), vec![100], "{alg:?}");
        let Event::IncomingCall(inc) = &s.events[0] else {
            panic!()
        };
        assert_eq!((inc.trunk.as_str(), inc.tenant.as_str()), ("pbx", "beta"));

        // the same Authorization replayed for another call: the nonce is spent, stale
        let s = feed(
            &mut ep,
            t0,
            DIGEST_PEER,
            &digest_invite("d9", 1, "z9hG4bK-d9", &right),
        );
        assert_eq!(s.codes(), vec![401]);
        assert!(s.only().contains("stale=true"));
        assert_eq!(ep.call_count(), 1);
        // the same credentials on an expired nonce: challenged again, stale
        let late = t0 + hushpay_sip::digest::NONCE_LIFETIME + Duration::from_secs(1);
        ep.handle_timeout(late);
        drain(&mut ep);
        let s = feed(
            &mut ep,
            late,
            DIGEST_PEER,
            &digest_invite("d2", 1, "z9hG4bK-d4", &right),
        );
        assert_eq!(s.codes(), vec![401]);
        assert!(s.only().contains("stale=true"));
        // credentials for another URI are refused
        let other_uri = authorization(alg, nonce, "pbx-pass", "sip:other@198.51.100.1");
        let s = feed(
            &mut ep,
            t0,
            DIGEST_PEER,
            &digest_invite("d3", 1, "z9hG4bK-d5", &other_uri),
        );
        assert_eq!(s.codes(), vec![403]);
    }
}

#[test]
fn refusals_by_route_codec_limits_hops_and_method() {
    let mut ep = Endpoint::new(config_with(Limits::default(), 1), [3; 32], Instant::now());
    let t0 = Instant::now();
    let mut r = Req::new("INVITE", "n1");
    r.user = "999";
    r.sdp = Some(OFFER);
    assert_eq!(feed(&mut ep, t0, CARRIER, &r.bytes()).codes(), vec![404]);
    // a header rule routes the same number
    r.call_id = "n1b";
    r.branch = "z9hG4bK-n1b";
    r.extra = "X-Queue: billing\r\n";
    let s = feed(&mut ep, t0, CARRIER, &r.bytes());
    assert_eq!(s.codes(), vec![100]);
    assert!(matches!(&s.events[0], Event::IncomingCall(c) if c.room == RoomTarget::NewPerCall));
    // the trunk allows one call: the next gets 503
    let mut r2 = Req::new("INVITE", "n2");
    r2.branch = "z9hG4bK-n2";
    r2.sdp = Some(OFFER);
    let s = feed(&mut ep, t0, CARRIER, &r2.bytes());
    assert_eq!(s.codes(), vec![503]);
    assert_eq!(
        s.events,
        vec![Event::Refused(udp(CARRIER), Refusal::CallLimit)]
    );

    let mut ep = endpoint();
    let g729 = OFFER.replace("RTP/AVP 0 8 101", "RTP/AVP 18").replace(
        "a=rtpmap:101 telephone-event/8000\r\n",
        "a=rtpmap:18 G729/8000\r\n",
    );
    let mut r = Req::new("INVITE", "n3");
    r.sdp = Some(&g729);
    assert_eq!(feed(&mut ep, t0, CARRIER, &r.bytes()).codes(), vec![488]);
    let r = Req::new("INVITE", "n4");
    assert_eq!(
        feed(&mut ep, t0, CARRIER, &r.bytes()).codes(),
        vec![488],
        "offer-less INVITE"
    );
    let mut r = Req::new("INVITE", "n5");
    r.sdp = Some(OFFER);
    let hops = String::from_utf8(r.bytes())
        .unwrap()
        .replace("Max-Forwards: 70", "Max-Forwards: 0");
    assert_eq!(
        feed(&mut ep, t0, CARRIER, hops.as_bytes()).codes(),
        vec![483]
    );
    let s = feed(&mut ep, t0, CARRIER, &Req::new("REGISTER", "n6").bytes());
    assert_eq!(s.codes(), vec![405]);
    assert!(header(s.only(), "Allow").is_some());
    let mut bye = Req::new("BYE", "n7");
    bye.to_tag = Some("x");
    assert_eq!(feed(&mut ep, t0, CARRIER, &bye.bytes()).codes(), vec![481]);
    assert_eq!(ep.call_count(), 0);
}

#[test]
fn malformed_requests_get_400_where_possible_and_nothing_otherwise() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let bad_cseq = String::from_utf8(Req::new("OPTIONS", "m1").bytes())
        .unwrap()
        .replace("CSeq: 1 OPTIONS", "CSeq: one");
    let s = feed(&mut ep, t0, CARRIER, bad_cseq.as_bytes());
    assert_eq!(s.codes(), vec![400]);
    assert_eq!(
        s.events,
        vec![Event::Refused(udp(CARRIER), Refusal::Malformed)]
    );
    let no_via = String::from_utf8(Req::new("OPTIONS", "m2").bytes())
        .unwrap()
        .replace("Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-1\r\n", "");
    let s = feed(&mut ep, t0, CARRIER, no_via.as_bytes());
    assert!(s.sent.is_empty(), "no Via, nowhere to answer");
    for junk in [
        &b""[..],
        b"\r\n",
        b"INVITE\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        &[0xffu8; 64][..],
    ] {
        assert!(feed(&mut ep, t0, CARRIER, junk).sent.is_empty());
    }
    let huge = vec![b'A'; Limits::default().max_message_bytes + 1];
    let s = feed(&mut ep, t0, CARRIER, &huge);
    assert!(s.sent.is_empty());
    assert_eq!(
        s.events,
        vec![Event::Refused(udp(CARRIER), Refusal::Malformed)]
    );
}

#[test]
fn an_offered_call_never_answered_is_refused_480() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let call = offered(&mut ep, t0, "u1");
    let t = t0 + Duration::from_secs(33);
    ep.handle_timeout(t);
    let s = drain(&mut ep);
    assert_eq!(s.codes(), vec![480]);
    assert_eq!(s.events, vec![Event::Ended(call, EndReason::NotAnswered)]);
}

/// SIPp writes its Authorization without spaces after commas and with `qop=auth` unquoted.
#[test]
fn a_sipp_style_authorization_header_is_understood() {
    let mut ep = endpoint();
    let t0 = Instant::now();
    let s = feed(
        &mut ep,
        t0,
        DIGEST_PEER,
        &digest_invite("s1", 1, "z9hG4bK-s1", ""),
    );
    let r401 = s.only();
    let ch = r401
        .split("\r\n")
        .find(|l| l.contains("algorithm=MD5"))
        .unwrap();
    let nonce = param(ch, "nonce");
    let uri = "sip:+441234@198.51.100.1";
    let resp = hushpay_sip::digest::expected_response(
        DigestAlgorithm::Md5,
        "pbx-user",
        REALM,
        "pbx-pass",
        "INVITE",
        uri,
        nonce,
        Some(("6b8b4567", 1, "auth")),
    );
    let auth = format!(
        "Authorization: Digest username=\"pbx-user\",realm=\"{REALM}\",cnonce=\"6b8b4567\",nc=00000001,qop=auth,uri=\"{uri}\",nonce=\"{nonce}\",response=\"{resp}\",algorithm=MD5\r\n"
    );
    let s = feed(
        &mut ep,
        t0,
        DIGEST_PEER,
        &digest_invite("s1", 2, "z9hG4bK-s2", &auth),
    );
    assert_eq!(s.codes(), vec![100], "{:?}", s.sent);
}
