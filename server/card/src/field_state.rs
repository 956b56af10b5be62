//! "As you type" state of the expiry and security-code fields of the card form, with
//! the same meanings as [`crate::CardValidation`]: `valid` means the finished value is
//! acceptable; `potentially_valid` means some continuation of what was typed would be.

use crate::brand::Brand;
use crate::expiry::{Expiry, MAX_YEARS_AHEAD, YearMonth};

/// State of one form field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldState {
    pub empty: bool,
    /// Same as `valid` (Stripe's `complete`).
    pub complete: bool,
    pub valid: bool,
    pub potentially_valid: bool,
}

impl FieldState {
    fn new(empty: bool, valid: bool, potentially_valid: bool) -> FieldState {
        FieldState {
            empty,
            complete: valid,
            valid,
            potentially_valid: potentially_valid || valid,
        }
    }
}

/// The expiry field: `MM/YY` (or `MM/YYYY`, `MMYY`, `M/YY`), not expired on `today`,
/// at most [`MAX_YEARS_AHEAD`] years ahead.
pub fn expiry_state(input: &str, today: YearMonth) -> FieldState {
    let typed: String = input.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.is_empty() {
        return FieldState::new(true, false, true);
    }
    let valid = Expiry::parse(&typed).is_ok_and(|e| e.check(today).is_ok());
    // Potentially valid: a prefix of some written form of some acceptable expiry
    // (12 months x 21 years x 6 forms: small enough to enumerate).
    let potentially = typed.len() <= 7
        && (today.year..=today.year.saturating_add(MAX_YEARS_AHEAD)).any(|year| {
            (1..=12u8).any(|month| {
                Expiry::new(month, year).is_ok_and(|e| e.check(today).is_ok())
                    && written_forms(month, year)
                        .iter()
                        .any(|f| f.starts_with(&typed))
            })
        });
    FieldState::new(false, valid, potentially)
}

fn written_forms(month: u8, year: u16) -> [String; 6] {
    let yy = year % 100;
    [
        format!("{month:02}/{yy:02}"),
        format!("{month:02}/{year}"),
        format!("{month}/{yy:02}"),
        format!("{month:02}{yy:02}"),
        format!("{month:02}-{yy:02}"),
        format!("{month}/{year}"),
    ]
}

/// The security-code field for a card of `brand` (3 digits, Amex 4; 3 or 4 unknown).
pub fn cvc_state(input: &str, brand: Option<Brand>) -> FieldState {
    let typed = input.trim();
    if typed.is_empty() {
        return FieldState::new(true, false, true);
    }
    if !typed.bytes().all(|b| b.is_ascii_digit()) {
        return FieldState::new(false, false, false);
    }
    let len = typed.len();
    let (valid, max) = match brand {
        Some(b) => (len == b.cvc_length(), b.cvc_length()),
        None => ((3..=4).contains(&len), 4),
    };
    FieldState::new(false, valid, len < max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TODAY: YearMonth = YearMonth {
        year: 2026,
        month: 11,
    };

    fn st(input: &str) -> (bool, bool) {
        let s = expiry_state(input, TODAY);
        (s.valid, s.potentially_valid)
    }

    #[test]
    fn expiry_while_typing() {
        assert!(expiry_state("", TODAY).empty);
        assert_eq!(st(""), (false, true));
        assert_eq!(st("1"), (false, true));
        assert_eq!(st("12"), (false, true));
        assert_eq!(st("12/"), (false, true));
        assert_eq!(st("12/2"), (false, true));
        assert_eq!(st("12/28"), (true, true));
        assert_eq!(st("12 / 28"), (true, true));
        assert_eq!(st("11/26"), (true, true));
        assert_eq!(st("12/2028"), (true, true));
        assert_eq!(st("1228"), (true, true));
        assert_eq!(st("13"), (false, false));
        assert_eq!(st("00"), (false, false));
        assert_eq!(st("10/26"), (false, false), "expired last month");
        assert_eq!(st("12/25"), (false, false));
        assert_eq!(st("12/60"), (false, false), "too far ahead");
        assert_eq!(st("ab"), (false, false));
        // "12/20" is expired as 2020 but could still become 12/2030.
        assert_eq!(st("12/20"), (false, true));
    }

    #[test]
    fn cvc_while_typing() {
        let s = |i: &str, b| {
            let f = cvc_state(i, b);
            (f.valid, f.potentially_valid)
        };
        assert!(cvc_state("", None).empty);
        assert_eq!(s("7", Some(Brand::Visa)), (false, true));
        assert_eq!(s("737", Some(Brand::Visa)), (true, true));
        assert_eq!(s("7373", Some(Brand::Visa)), (false, false));
        assert_eq!(s("737", Some(Brand::Amex)), (false, true));
        assert_eq!(s("7373", Some(Brand::Amex)), (true, true));
        assert_eq!(s("737", None), (true, true));
        assert_eq!(s("7a", None), (false, false));
    }

    proptest! {
        #[test]
        fn valid_expiry_prefixes_are_potentially_valid(month in 1u8..=12, year in 2027u16..2046) {
            let text = format!("{month:02}/{:02}", year % 100);
            for end in 0..=text.len() {
                prop_assert!(expiry_state(&text[..end], TODAY).potentially_valid);
            }
            prop_assert!(expiry_state(&text, TODAY).valid);
        }

        #[test]
        fn never_panics(s in "\\PC{0,12}") {
            let _ = expiry_state(&s, TODAY);
            let _ = cvc_state(&s, None);
        }
    }
}
