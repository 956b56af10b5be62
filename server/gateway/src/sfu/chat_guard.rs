//! Card numbers typed into chat: found before a message is relayed or stored.
//!
//! A *digit run* is a sequence of digits (ASCII or any Unicode decimal digit, super/subscript and
//! circled digits) separated only by spaces, dashes, dots, slashes, underscores or invisible
//! characters (zero-width space/joiners, word joiner, BOM, soft hyphen), at most three in a row.
//! A run holds a card number when some 13–19 digit window of it passes Luhn and starts with a
//! known card brand's IIN range (hushpay-card's brand table), which keeps phone numbers, dates
//! and record numbers out.
//!
//! Split messages: the trailing run of a sender's previous message (within
//! [`SPLIT_WINDOW`]) is joined to the leading run of the next one. When the joined run holds a
//! card, the new message is refused and the earlier fragments are named so the relay can
//! retract them from recipients and from the transcript.
//!
//! Sans-IO: time is an input. This is the gateway's seam until `hushpay_card::chat_scan`
//! lands; the verdict type is what the relay consumes either way.

use std::time::{Duration, Instant};

use hushpay_card::{brand, luhn};
use zeroize::Zeroize;

/// How long a sender's trailing digits may be joined with its next message.
pub const SPLIT_WINDOW: Duration = Duration::from_secs(120);

/// What to do with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Relay as is.
    Clean,
    /// A card number: relay a notice instead; `retract` lists earlier message ids that held
    /// parts of it.
    CardNumber { split: bool, retract: Vec<String> },
}

/// Per-sender state: the digits at the end of recent messages.
#[derive(Debug, Default)]
pub struct ChatGuard {
    tail: Vec<u8>,
    tail_ids: Vec<String>,
    tail_at: Option<Instant>,
}

impl Drop for ChatGuard {
    fn drop(&mut self) {
        self.tail.zeroize();
    }
}

impl ChatGuard {
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks message `id` with `text`, sent at `now`.
    pub fn check(&mut self, now: Instant, id: &str, text: &str) -> Verdict {
        let mut runs = digit_runs(text);
        let fresh = self
            .tail_at
            .is_some_and(|t| now.saturating_duration_since(t) <= SPLIT_WINDOW);
        if !fresh {
            self.clear_tail();
        }
        // Does the message start with digits (nothing but separators before)?
        let starts_with_run = runs.first().is_some_and(|r| r.leading);
        let mut verdict = Verdict::Clean;
        for (i, run) in runs.iter().enumerate() {
            if holds_card(&run.digits) {
                verdict = Verdict::CardNumber {
                    split: false,
                    retract: Vec::new(),
                };
                break;
            }
            if i == 0 && starts_with_run && !self.tail.is_empty() {
                let mut joined = self.tail.clone();
                joined.extend_from_slice(&run.digits);
                let found = holds_card(&joined);
                joined.zeroize();
                if found {
                    verdict = Verdict::CardNumber {
                        split: true,
                        retract: self.tail_ids.clone(),
                    };
                    break;
                }
            }
        }
        if verdict != Verdict::Clean {
            self.clear_tail();
        } else {
            self.update_tail(now, id, &runs, starts_with_run);
        }
        for r in &mut runs {
            r.digits.zeroize();
        }
        verdict
    }

    fn update_tail(&mut self, now: Instant, id: &str, runs: &[Run], starts_with_run: bool) {
        match runs.last() {
            Some(last) if last.trailing => {
                let only_digits = runs.len() == 1 && starts_with_run;
                if !only_digits || self.tail.is_empty() {
                    self.clear_tail();
                }
                self.tail.extend_from_slice(&last.digits);
                self.tail_ids.push(id.to_owned());
                if self.tail.len() > 18 {
                    let cut = self.tail.len() - 18;
                    self.tail.drain(..cut);
                }
                self.tail_at = Some(now);
            }
            _ => self.clear_tail(),
        }
    }

    fn clear_tail(&mut self) {
        self.tail.zeroize();
        self.tail.clear();
        self.tail_ids.clear();
        self.tail_at = None;
    }
}

/// A digit run and where it sits in the message.
#[derive(Debug)]
struct Run {
    digits: Vec<u8>,
    /// Only separators before it.
    leading: bool,
    /// Only separators after it.
    trailing: bool,
}

fn digit_runs(text: &str) -> Vec<Run> {
    let mut runs: Vec<Run> = Vec::new();
    let mut current: Vec<u8> = Vec::new();
    let mut gap = 0usize;
    let mut seen_other = false;
    let mut leading = true;
    for c in text.chars() {
        if let Some(d) = digit_value(c) {
            if current.is_empty() {
                leading = !seen_other;
            }
            current.push(d);
            gap = 0;
        } else if is_separator(c) {
            gap += 1;
            if gap > 3 && !current.is_empty() {
                runs.push(Run {
                    digits: std::mem::take(&mut current),
                    leading,
                    trailing: false,
                });
                seen_other = true;
            }
        } else {
            if !current.is_empty() {
                runs.push(Run {
                    digits: std::mem::take(&mut current),
                    leading,
                    trailing: false,
                });
            }
            seen_other = true;
            gap = 0;
        }
    }
    if !current.is_empty() {
        runs.push(Run {
            digits: current,
            leading,
            trailing: true,
        });
    }
    runs
}

/// True if a 13–19 digit window of `digits` passes Luhn and has a known brand prefix.
pub fn holds_card(digits: &[u8]) -> bool {
    if digits.len() < 13 {
        return false;
    }
    for len in 13..=19.min(digits.len()) {
        for start in 0..=(digits.len() - len) {
            let w = &digits[start..start + len];
            if luhn::is_valid(w) && brand::detect(w).is_some() {
                return true;
            }
        }
    }
    false
}

fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '-' | '.' | '_' | '/' | ',' | '\u{00A0}' | '\u{00AD}' | '\u{180E}' | '\u{2010}'
            ..='\u{2015}'
                | '\u{2212}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
                | '\u{FE58}'
                | '\u{FE63}'
                | '\u{FF0D}'
                | '\u{FF0E}'
                | '\u{3000}'
                | '\u{2000}'..='\u{200A}'
                | '\u{202F}'
                | '\u{205F}'
                | '\t'
    )
}

/// Zeros of the Unicode decimal-digit (Nd) blocks, each followed by 1..9.
const ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66,
    0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16B50, 0x1D7CE,
    0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0, 0x2080,
];

fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    let u = c as u32;
    match u {
        0x2070 => return Some(0),
        0x00B9 => return Some(1),
        0x00B2 => return Some(2),
        0x00B3 => return Some(3),
        0x2074..=0x2079 => return Some((u - 0x2070) as u8),
        0x24EA | 0x24FF | 0x1F100 => return Some(0),
        0x2460..=0x2468 => return Some((u - 0x2460 + 1) as u8),
        0x2776..=0x277E => return Some((u - 0x2776 + 1) as u8),
        0x2780..=0x2788 => return Some((u - 0x2780 + 1) as u8),
        0x278A..=0x2792 => return Some((u - 0x278A + 1) as u8),
        0x1F101..=0x1F10A => return Some((u - 0x1F101) as u8),
        _ => {}
    }
    ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&u))
        .map(|&z| (u - z) as u8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn check(texts: &[&str]) -> Vec<Verdict> {
        let mut g = ChatGuard::new();
        let t0 = Instant::now();
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| g.check(t0 + Duration::from_secs(i as u64), &format!("m{i}"), t))
            .collect()
    }

    fn is_card(v: &Verdict) -> bool {
        matches!(v, Verdict::CardNumber { .. })
    }

    #[test]
    fn finds_card_numbers_in_many_disguises() {
        for text in [
            "my card is 4111111111111111 thanks",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111.1111.1111.1111",
            "４１１１ １１１１ １１１１ １１１１",
            "4\u{200B}1\u{200B}1\u{200B}1111111111111",
            "٤١١١١١١١١١١١١١١١",
            "5555 5555 5555 4444 exp 12/29",
            "378282246310005",
            "6011 1111 1111 1117",
            "4111\u{2013}1111\u{2013}1111\u{2013}1111",
        ] {
            assert!(is_card(&check(&[text])[0]), "{text:?}");
        }
    }

    #[test]
    fn finds_card_numbers_split_across_messages() {
        let v = check(&["4111 1111", "1111 1111"]);
        assert_eq!(v[0], Verdict::Clean);
        assert_eq!(
            v[1],
            Verdict::CardNumber {
                split: true,
                retract: vec!["m0".into()]
            }
        );
        let v = check(&["4111", "1111", "1111", "1111"]);
        assert_eq!(
            v[3],
            Verdict::CardNumber {
                split: true,
                retract: vec!["m0".into(), "m1".into(), "m2".into()]
            }
        );
        let v = check(&["card: 4111 1111 1111", "1111 please"]);
        assert!(is_card(&v[1]));
    }

    #[test]
    fn leaves_phone_numbers_dates_and_record_numbers_alone() {
        for text in [
            "call me on +1 (555) 123-4567",
            "+44 20 7946 0958",
            "appointment 2024-01-15 at 10.30",
            "born 15.01.1980",
            "MRN 000123456789",
            "4111 1111 1111 1112",
            "order 12345",
            "",
        ] {
            assert_eq!(check(&[text])[0], Verdict::Clean, "{text:?}");
        }
        // Unrelated messages with words between them are not joined.
        assert_eq!(
            check(&["room 4111", "hello 1111 1111 1111"])[1],
            Verdict::Clean
        );
    }

    #[test]
    fn split_window_expires() {
        let mut g = ChatGuard::new();
        let t0 = Instant::now();
        assert_eq!(g.check(t0, "a", "4111 1111"), Verdict::Clean);
        assert_eq!(
            g.check(t0 + SPLIT_WINDOW + Duration::from_secs(1), "b", "1111 1111"),
            Verdict::Clean
        );
    }
}
