//! Target `chat_scan`: chat text as patients and agents type it, through
//! [`hushpay_card::chat_scan::redact`] and a [`ChatScanner`] following a conversation.
//!
//! Input: messages separated by a NUL byte; the first byte of each message picks its sender
//! (one of three), the rest is the text (UTF-8, invalid bytes replaced).
//!
//! Invariants: no panic; the text `redact` returns holds no card number, and equals the input
//! when none was found; what the scanner relays for a message holds no card number; and for
//! each sender, what stays in the transcript (relayed texts, retracted messages removed), read
//! as one text with a space at each message boundary, holds no card number either: a number
//! split over consecutive messages of one sender never gets through whole.

use std::collections::HashSet;

use hushpay_card::chat_scan::{self, ChatScanner};

const SENDERS: u8 = 3;

pub fn run(data: &[u8]) {
    let mut scanner: ChatScanner<usize> = ChatScanner::new();
    // Per sender: (message id, relayed text) still in the transcript.
    let mut kept: Vec<Vec<(usize, String)>> = vec![Vec::new(); usize::from(SENDERS)];
    for (id, raw) in data.split(|&b| b == 0).enumerate() {
        let Some((&who, text)) = raw.split_first() else {
            continue;
        };
        let text = String::from_utf8_lossy(text);
        one_text(&text);
        let sender = usize::from(who % SENDERS);
        let verdict = scanner.inspect(&sender_name(sender), id, &text);
        assert!(
            chat_scan::find(&verdict.text).is_empty(),
            "the scanner relays a card number"
        );
        let retracted: HashSet<usize> = verdict.retract.iter().copied().collect();
        for messages in &mut kept {
            messages.retain(|(m, _)| !retracted.contains(m));
        }
        kept[sender].push((id, verdict.text));
    }
    for messages in &kept {
        let transcript: Vec<&str> = messages.iter().map(|(_, t)| t.as_str()).collect();
        assert!(
            chat_scan::find(&transcript.join(" ")).is_empty(),
            "a card number split over messages of one sender stays in the transcript"
        );
    }
}

fn one_text(text: &str) {
    let spans = chat_scan::find(text);
    for w in spans.windows(2) {
        assert!(w[0].end <= w[1].start, "spans sorted and disjoint");
    }
    for s in &spans {
        assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
    }
    let (out, n) = chat_scan::redact(text);
    assert_eq!(n, spans.len());
    if n == 0 {
        assert_eq!(out, text);
    }
    assert!(
        chat_scan::find(&out).is_empty(),
        "redacted text still holds a card number"
    );
}

fn sender_name(sender: usize) -> String {
    format!("participant-{sender}")
}
