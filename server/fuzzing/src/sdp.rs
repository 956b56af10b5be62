//! Target `sdp`: an SDP offer from a phone trunk, through [`hushpay_sip::sdp::negotiate`].
//!
//! Invariants: nothing panics; an accepted offer yields an answer that itself negotiates (as an
//! offer) to the same codec and telephone-event payload type, at the address Hushpay gave, with
//! the direction RFC 3264 answers; the answer carries one media line per media line offered.

use hushpay_sip::sdp;

pub fn run(data: &[u8]) {
    let Ok(n) = sdp::negotiate(data) else {
        return;
    };
    let local = "198.51.100.1:30000"
        .parse()
        .unwrap_or_else(|_| unreachable!());
    let answer = sdp::render_answer(&n, local, 1, 1);
    let back = sdp::negotiate(answer.as_bytes())
        .unwrap_or_else(|e| panic!("our answer does not parse: {e}\n{answer}"));
    assert_eq!(back.codec, n.codec);
    assert_eq!(back.telephone_event, n.telephone_event);
    assert_eq!(back.remote_rtp, local);
    assert_eq!(back.offered, n.offered.answer());
    let offered_lines = String::from_utf8_lossy(data)
        .split(['\r', '\n'])
        .filter(|l| l.starts_with("m="))
        .count();
    let answered_lines = answer.lines().filter(|l| l.starts_with("m=")).count();
    assert_eq!(answered_lines, offered_lines, "{answer}");
}
