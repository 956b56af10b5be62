//! Target `signal`: one WebSocket text frame on `GET /v1/rtc`, through the gateway's
//! `sfu::signal::parse` (the function the session loop calls for every frame).
//!
//! Invariants: no panic; a refusal carries one of the documented stable codes; its message never
//! echoes a submitted value: no run of three digits (a card number, a CVC) and no string value
//! of the frame (longer than 3 characters and not a plain lower-case word) appears in it before
//! `, expected` (from there on it names the schema, which the frame may repeat).

use hushpay::sfu::signal::{codes, parse};
use serde_json::Value;

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
    let echoed = dynamic.split(", expected").next().unwrap_or(dynamic);
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let mut strings = Vec::new();
        collect_strings(&value, &mut strings);
        for s in strings {
            let word = s
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_' || c == ' ');
            if s.chars().count() > 3 && !word {
                assert!(
                    !echoed.contains(s.as_str()),
                    "the refusal echoes a submitted string: {message}"
                );
            }
        }
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

fn collect_strings<'a>(value: &'a Value, out: &mut Vec<&'a String>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|v| collect_strings(v, out)),
        Value::Object(members) => members.iter().for_each(|(k, v)| {
            out.push(k);
            collect_strings(v, out);
        }),
        _ => {}
    }
}
