//! Card numbers typed into chat: find them and replace them before relay and storage.
//!
//! What counts as a card number: a Luhn-valid run of 13–19 decimal digits of any
//! script (Unicode `Nd`: ASCII, full-width, Arabic-Indic, Devanagari, mathematical, ...),
//! possibly grouped with up to three separators between digits (whitespace, dashes,
//! dots, slashes, underscores, commas and their full-width forms), with invisible
//! characters anywhere (zero-width space/joiners, word joiner, BOM, soft hyphen, bidi
//! controls, variation selectors, combining marks such as the keycap U+20E3). Within a
//! longer run, a card number must start and end at a group boundary (see
//! [`runs`]), so `"+1 555 123 4567 4111 1111 1111 1111"` is caught but a
//! 25-digit reference written without spaces is not split.
//!
//! Not caught (documented limits): digits spelled in words, letters standing in for
//! digits (`O` for `0`), non-`Nd` numerals (superscripts, circled digits), a card
//! number glued without a separator to other digits, or one broken by letters.
//! A CVC or expiry in the *same* message as the card number stays (the number itself is
//! removed); a CVC sent as the sender's next message is removed by [`ChatScanner`].
//! False positives: long grouped numbers that happen to hold a Luhn-valid 13–19 digit
//! span at group boundaries (order and tracking numbers, two phone numbers joined by a
//! separator, some international mobile numbers): 1.5 % of the benign corpus.
//!
//! [`redact`] handles one text; [`ChatScanner`] follows a conversation and catches a
//! number split over consecutive messages of one sender.

mod chars;
pub mod runs;
mod scanner;

use std::ops::Range;

pub use chars::digit_value;
pub use scanner::{ChatScanner, MAX_SENDERS, MAX_TAIL_DIGITS, Verdict};

/// What replaces a card number in a message.
pub const NOTICE: &str = "[card number removed]";

/// Byte ranges of the card numbers in `text` (from the first to the last digit
/// character, invisible characters between them included).
pub fn find(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    for run in runs::runs(text) {
        for w in runs::card_windows(&run.digits, &run.group_start, 0) {
            if let (Some(first), Some(last)) = (run.spans.get(w.start), run.spans.get(w.end - 1)) {
                out.push(first.start..last.end);
            }
        }
    }
    out
}

/// `text` with every card number replaced by [`NOTICE`], and the number replaced.
pub fn redact(text: &str) -> (String, usize) {
    let spans = find(text);
    let count = spans.len();
    (replace_spans(text, &spans), count)
}

/// Replace sorted, non-overlapping byte ranges of `text` by [`NOTICE`].
pub(crate) fn replace_spans(text: &str, spans: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at || span.end > text.len() {
            continue;
        }
        out.push_str(text.get(at..span.start).unwrap_or(""));
        out.push_str(NOTICE);
        at = span.end;
    }
    out.push_str(text.get(at..).unwrap_or(""));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_and_grouped() {
        for text in [
            "4111111111111111",
            "my card is 4111 1111 1111 1111 thanks",
            "4111-1111-1111-1111",
            "4111.1111.1111.1111",
            "4111/1111/1111/1111",
            "4111 - 1111 - 1111 - 1111",
            "3782 822463 10005",
            "card:5555555555554444, exp 12/28",
        ] {
            let (out, n) = redact(text);
            assert_eq!(n, 1, "{text}");
            assert!(out.contains(NOTICE));
            assert!(
                !out.contains("1111 1111") && !out.contains("4444") && !out.contains("10005"),
                "{out}"
            );
        }
    }

    #[test]
    fn unicode_digits_and_invisibles() {
        for text in [
            "４１１１ １１１１ １１１１ １１１１",
            "٤١١١١١١١١١١١١١١١",
            "४१११ ११११ ११११ ११११",
            "𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏",
            "4\u{200B}1\u{200C}1\u{200D}1\u{2060}1\u{FEFF}1\u{00AD}111111111 1",
            "4️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣",
            "4111\u{00A0}1111\u{2007}1111\u{3000}1111",
            "4111\u{2014}1111\u{2013}1111\u{FF0D}1111",
            "٤١١١ 1111 ११११ ๑๑๑๑",
        ] {
            let (out, n) = redact(text);
            assert_eq!((n, out.as_str()), (1, NOTICE), "{text:?}");
        }
    }

    #[test]
    fn keeps_surrounding_text_and_other_numbers() {
        let (out, n) = redact("call 555-123-4567, card 4111 1111 1111 1111 exp 12/28");
        assert_eq!(n, 1);
        assert_eq!(out, format!("call 555-123-4567, card {NOTICE} exp 12/28"));
        // Card followed by expiry with only separators between: the expiry groups stay.
        let (out, _) = redact("4111 1111 1111 1111 12/28");
        assert_eq!(out, format!("{NOTICE} 12/28"));
        let (out, n) = redact("two: 4111111111111111 and 5555 5555 5555 4444.");
        assert_eq!((n, out), (2, format!("two: {NOTICE} and {NOTICE}.")));
    }

    #[test]
    fn benign_numbers_pass() {
        for text in [
            "4111111111111112",
            "call me on +1 (555) 123-4567",
            "DOB 01/02/1980, MRN 00123456",
            "order 12345678901234567890",
            "amount $1,234.56",
            "411111111111",
        ] {
            assert_eq!(redact(text), (text.to_owned(), 0), "{text}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_and_output_has_no_card(text in "\\PC{0,80}") {
            let (out, n) = redact(&text);
            if n == 0 {
                prop_assert_eq!(&out, &text);
            }
            prop_assert_eq!(redact(&out).1, 0);
        }

        /// Any public test card with arbitrary separators/invisibles is found.
        #[test]
        fn obfuscated_cards_are_found(
            card in prop::sample::select(vec!["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117", "30569309025904", "3530111333300000"]),
            seps in prop::collection::vec(prop::sample::select(vec!["", " ", "-", ".", "\u{200B}", "\u{00AD}", " - ", "\u{FEFF}"]), 19),
            prefix in "[a-z :]{0,10}",
        ) {
            let mut text = prefix.clone();
            for (i, c) in card.chars().enumerate() {
                text.push(c);
                text.push_str(seps[i]);
            }
            text.push_str(" ok");
            let (out, n) = redact(&text);
            prop_assert_eq!(n, 1, "{:?}", text);
            prop_assert!(out.starts_with(&prefix));
        }
    }
}
