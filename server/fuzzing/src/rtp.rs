//! Target `rtp`: one RTP packet off the wire (RFC 3550 header, CSRCs, extension, padding) and,
//! when it parses, its payload as an RFC 4733 telephone event.
//!
//! Invariants: parsing never panics; the header and payload slices lie inside the input, in
//! order, and cover at most the whole packet; a rewritten packet (new sequence number and
//! payload) parses back to the same header fields, with the new payload and the padding bit
//! cleared; a parsed telephone event builds back to the bytes it came from (reserved bit and a
//! volume over 63 aside).

use hushpay_media::rfc4733::{EVENT_LEN, TelephoneEvent};
use hushpay_media::rtp::RtpPacket;

pub fn run(data: &[u8]) {
    let Ok(p) = RtpPacket::parse(data) else {
        // Also try the bytes as a bare telephone-event payload: the same parser sees payloads of
        // every length the network sends.
        event(data);
        return;
    };
    assert!(p.header.len() >= 12, "a header is at least 12 bytes");
    assert!(p.header.len() + p.payload.len() <= data.len());
    assert_eq!(
        &data[..p.header.len()],
        p.header,
        "header is the packet's start"
    );
    let payload_at = p.header.len();
    assert_eq!(&data[payload_at..payload_at + p.payload.len()], p.payload);

    let new_payload: Vec<u8> = p.payload.iter().rev().copied().collect();
    let seq = p.sequence.wrapping_add(1);
    let rewritten = p.rewrite(seq, &new_payload);
    let q = match RtpPacket::parse(&rewritten) {
        Ok(q) => q,
        Err(e) => panic!("a rewritten packet must parse again: {e}"),
    };
    assert_eq!(q.sequence, seq);
    assert_eq!(q.payload, &new_payload[..]);
    assert_eq!(
        (q.marker, q.payload_type, q.timestamp, q.ssrc),
        (p.marker, p.payload_type, p.timestamp, p.ssrc)
    );
    assert_eq!(q.header.len(), p.header.len());
    assert_eq!(rewritten[0] & 0x20, 0, "padding bit cleared");
    event(p.payload);
}

fn event(payload: &[u8]) {
    let Ok(ev) = TelephoneEvent::parse(payload) else {
        return;
    };
    assert!(payload.len() >= EVENT_LEN && payload.len().is_multiple_of(EVENT_LEN));
    let built = ev.build();
    assert_eq!(built[0], payload[0]);
    assert_eq!(built[1] & 0x80, payload[1] & 0x80, "end bit");
    assert_eq!(built[1] & 0x3f, payload[1] & 0x3f, "volume");
    assert_eq!(built[2..], payload[2..4], "duration");
    assert_eq!(TelephoneEvent::parse(&built), Ok(ev));
}
