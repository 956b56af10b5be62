//! Digit runs in text and the card-number windows inside them.
//!
//! A *run* is a sequence of digits in which consecutive digits are separated by at most
//! [`MAX_SEPARATORS`] separator characters (ignorable characters are skipped and do not
//! count). A run is made of *groups*: digits written together, with a separator (or a
//! message boundary) before each new group. A *window* is a span of whole groups with
//! 13–19 digits; a Luhn-valid window is a card number. Windows never split a group:
//! `"order 12345678901234567890"` is one 20-digit group, not a card.

use std::ops::Range;

use zeroize::Zeroizing;

use super::chars::{Class, classify};
use crate::luhn;

/// Most separator characters allowed between two digits of one number (`" - "`).
pub const MAX_SEPARATORS: usize = 3;
/// Shortest and longest card number the scanner looks for.
pub const MIN_DIGITS: usize = 13;
pub const MAX_DIGITS: usize = 19;

/// A digit run found in one text.
#[derive(Default)]
pub struct Run {
    /// Digit values.
    pub digits: Zeroizing<Vec<u8>>,
    /// `group_start[i]`: a new group begins at digit `i`.
    pub group_start: Vec<bool>,
    /// Byte range of each digit's character in the text.
    pub spans: Vec<Range<usize>>,
    /// Only separators or ignorable characters stand before the run in the text.
    pub at_text_start: bool,
    /// Only separators or ignorable characters stand after the run in the text.
    pub at_text_end: bool,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("len", &self.digits.len())
            .finish()
    }
}

/// Split `text` into digit runs.
pub fn runs(text: &str) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut current: Option<Run> = None;
    let mut pending_separators = 0usize;
    let mut anything_before = false;
    for (i, c) in text.char_indices() {
        match classify(c) {
            Class::Digit(d) => {
                let continues = current.is_some() && pending_separators <= MAX_SEPARATORS;
                if !continues {
                    if let Some(run) = current.take() {
                        out.push(run);
                    }
                    current = Some(Run {
                        at_text_start: !anything_before,
                        ..Run::default()
                    });
                }
                if let Some(run) = current.as_mut() {
                    let new_group = run.digits.is_empty() || pending_separators > 0;
                    run.digits.push(d);
                    run.group_start.push(new_group);
                    run.spans.push(i..i + c.len_utf8());
                }
                anything_before = true;
                pending_separators = 0;
            }
            Class::Separator => {
                pending_separators += 1;
                if pending_separators > MAX_SEPARATORS
                    && let Some(run) = current.take()
                {
                    out.push(run);
                }
            }
            Class::Ignorable => {
                // Invisible marks right after a digit (keycap `4\u{FE0F}\u{20E3}`) belong to it.
                if pending_separators == 0
                    && let Some(span) = current.as_mut().and_then(|r| r.spans.last_mut())
                    && span.end == i
                {
                    span.end = i + c.len_utf8();
                }
            }
            Class::Break => {
                if let Some(run) = current.take() {
                    out.push(run);
                }
                anything_before = true;
                pending_separators = 0;
            }
        }
    }
    if let Some(mut run) = current.take() {
        run.at_text_end = true;
        out.push(run);
    }
    out
}

/// Card-number windows (digit index ranges) in a run of `digits` whose groups begin at
/// `group_start`, scanning left to right and taking the longest valid window at each
/// group boundary. Only windows ending after digit `min_end` are reported (used to skip
/// windows made only of digits from earlier messages).
pub fn card_windows(digits: &[u8], group_start: &[bool], min_end: usize) -> Vec<Range<usize>> {
    let n = digits.len();
    let starts: Vec<usize> = (0..n)
        .filter(|&i| group_start.get(i).copied().unwrap_or(false))
        .collect();
    let is_end = |e: usize| e == n || group_start.get(e).copied().unwrap_or(false);
    let mut hits = Vec::new();
    let mut consumed = 0usize;
    for &s in &starts {
        // No card number starts with 0 (ISO/IEC 7812 major industry identifier 0 is
        // not a card), and a leading zero would not change the Luhn sum.
        if s < consumed || digits.get(s) == Some(&0) {
            continue;
        }
        let longest = (s + MAX_DIGITS).min(n);
        let found = (s + MIN_DIGITS..=longest)
            .rev()
            .find(|&e| e > min_end && is_end(e) && luhn::is_valid(&digits[s..e]));
        if let Some(e) = found {
            hits.push(s..e);
            consumed = e;
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_of(run: &Run) -> String {
        run.digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    #[test]
    fn splits_runs() {
        let r = runs("call 555-123-4567 or +44 20 7946 0958 ok");
        assert_eq!(r.len(), 2);
        assert_eq!(digits_of(&r[0]), "5551234567");
        assert_eq!(r[0].group_start.iter().filter(|&&g| g).count(), 3);
        assert_eq!(digits_of(&r[1]), "442079460958");
        assert!(!r[0].at_text_start && !r[1].at_text_end);
        let r = runs("  4111 1111\u{200B}1111 ");
        assert_eq!(r.len(), 1);
        assert!(r[0].at_text_start && r[0].at_text_end);
        assert_eq!(
            r[0].group_start,
            [
                true, false, false, false, true, false, false, false, false, false, false, false
            ]
        );
    }

    #[test]
    fn too_many_separators_end_a_run() {
        assert_eq!(runs("1 - 2").len(), 1);
        assert_eq!(runs("1 -- 2").len(), 2);
        assert_eq!(runs("1\u{200B}\u{200B}\u{200B}\u{200B}2").len(), 1);
    }

    #[test]
    fn spans_cover_the_digit_characters() {
        let text = "x４１";
        let r = runs(text);
        assert_eq!(&text[r[0].spans[0].clone()], "４");
        assert_eq!(&text[r[0].spans[1].clone()], "１");
    }

    #[test]
    fn windows_at_group_boundaries() {
        let d: Vec<u8> = "5551234111111111111111".bytes().map(|b| b - b'0').collect();
        let mut g = vec![false; d.len()];
        g[0] = true;
        g[3] = true;
        g[6] = true;
        assert_eq!(card_windows(&d, &g, 0), vec![6..22]);
        // Without a boundary before the card it is not split out of the group.
        g[6] = false;
        assert!(card_windows(&d, &g, 0).is_empty());
        // min_end excludes windows that end too early.
        g[6] = true;
        assert!(card_windows(&d, &g, 22).is_empty());
    }
}
