//! Arbitrary bytes, and valid requests with bytes changed, never panic the endpoint.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use proptest::prelude::*;

fn valid_messages() -> Vec<Vec<u8>> {
    let mut inv = Req::new("INVITE", "p1");
    inv.sdp = Some(OFFER);
    let mut bye = Req::new("BYE", "p1");
    bye.to_tag = Some("t");
    vec![
        inv.bytes(),
        bye.bytes(),
        Req::new("OPTIONS", "p2").bytes(),
        Req::new("CANCEL", "p1").bytes(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut ep = endpoint();
        let t = Instant::now();
        for from in [CARRIER, DIGEST_PEER, STRANGER] {
            feed(&mut ep, t, from, &data);
        }
        ep.handle_timeout(t + Duration::from_secs(40));
        drain(&mut ep);
    }

    #[test]
    fn mutated_requests(which in 0usize..4, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut msg = valid_messages()[which].clone();
        for (i, b) in edits {
            let i = i.index(msg.len());
            msg[i] = b;
        }
        let mut ep = endpoint();
        let t = Instant::now();
        let s = feed(&mut ep, t, CARRIER, &msg);
        for c in s.events.iter().filter_map(|e| match e { hushpay_sip::Event::IncomingCall(c) => Some(c.call), _ => None }) {
            let _ = ep.answer(t, c, "198.51.100.1:30000".parse().unwrap());
        }
        feed(&mut ep, t, CARRIER, &msg);
        ep.handle_timeout(t + Duration::from_secs(40));
        drain(&mut ep);
    }
}
