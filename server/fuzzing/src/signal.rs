//! Target `signal`: one WebSocket text frame on `GET /v1/rtc`, through
//! `hushpay_protocol::signal::parse` (the function the gateway's session loop calls for every
//! frame).
//!
//! Invariants: no panic; a refusal carries one of the documented stable codes; its message never
//! echoes a submitted value: no run of three digits (a card number, a CVC), and in a schema
//! mismatch every quoted or backticked span before the last `, expected` (where serde puts what
//! it saw; from there on it names the schema) is the redaction placeholder, or a field name of
//! the schema after `missing field`/`duplicate field`.

use hushpay_protocol::signal::{codes, parse};

pub fn run(data: &[u8]) {
    // WebSocket text frames are UTF-8 (the server refuses others before parsing).
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Err((code, message)) = parse(text) else {
        return;
    };
    assert!(
        [
            codes::BAD_MESSAGE,
            codes::UNKNOWN_TYPE,
            codes::NOT_IMPLEMENTED
        ]
        .contains(&code),
        "undocumented code {code}"
    );
    assert!(
        !has_digit_run(&message, 3),
        "the refusal echoes digits: {message}"
    );
    // Only a schema mismatch builds its message from what serde saw; the other refusals are
    // constants (which a frame may happen to contain, e.g. a key named "type`"). From
    // `, expected` on, the message names the schema (`sdpMid`, ...), not the frame.
    let Some(dynamic) = message.strip_prefix("frame does not match the schema: ") else {
        return;
    };
    let echoed = dynamic
        .rfind(", expected")
        .map_or(dynamic, |i| &dynamic[..i]);
    // What serde quotes or backticks there is what it saw: only the placeholder may stand in
    // a span, or a field name of the schema after `missing field`/`duplicate field`.
    let mut rest = echoed;
    while let Some(open) = rest.find(['"', '`']) {
        let delim = &rest[open..=open];
        let after = &rest[open + 1..];
        let Some(close) = after.find(delim) else {
            assert!(
                after.is_empty(),
                "an unterminated span carries input: {message}"
            );
            break;
        };
        let span = &after[..close];
        let named =
            rest[..open].ends_with("missing field ") || rest[..open].ends_with("duplicate field ");
        let schema_name = named && span.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        assert!(
            span == "…" || schema_name,
            "the refusal echoes a submitted value: {message}"
        );
        rest = &after[close + 1..];
    }
}

fn has_digit_run(text: &str, len: usize) -> bool {
    let mut run = 0;
    for c in text.chars() {
        run = if c.is_ascii_digit() { run + 1 } else { 0 };
        if run >= len {
            return true;
        }
    }
    false
}
