//! The "as you type" state of each card-form field, as the iframe script reads it.
//!
//! Every function is pure (today's month is an argument) and returns a small struct that
//! [`crate`] serialises to JSON for the script. Field names follow the card form's `change`
//! event (Stripe Elements / Braintree Hosted Fields): `empty`, `complete`, `valid`,
//! `potentiallyValid`, plus `brand` and the `formatted` value to put back into the input.
//!
//! `formatted` holds what the patient typed: it never leaves the iframe (the script writes
//! it into the input and nowhere else; the parent page receives the other fields only).

use hushpay_card::brand::{self, Brand};
use hushpay_card::{CardValidation, FieldState, PostalCode, YearMonth, cvc_state, expiry_state};
use serde::Serialize;
use zeroize::Zeroizing;

/// Longest raw input any field accepts; anything longer is invalid without further work.
const MAX_INPUT_CHARS: usize = 64;

/// State of one field after an edit.
#[derive(Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FieldView {
    pub empty: bool,
    pub complete: bool,
    pub valid: bool,
    pub potentially_valid: bool,
    /// Card brand id (`visa`, `amex`, ...) once the number's IIN decides it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<&'static str>,
    /// The most characters of content the field takes (digits for number and CVC).
    pub max_length: usize,
    /// The value to write back into the input (grouped number, `MM / YY`, ...).
    #[serde(serialize_with = "serialize_secret")]
    pub formatted: Zeroizing<String>,
}

impl std::fmt::Debug for FieldView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldView")
            .field("empty", &self.empty)
            .field("valid", &self.valid)
            .field("potentially_valid", &self.potentially_valid)
            .field("brand", &self.brand)
            .field("formatted", &"***")
            .finish()
    }
}

fn serialize_secret<S: serde::Serializer>(v: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v)
}

impl FieldView {
    fn from_state(state: FieldState, max_length: usize, formatted: Zeroizing<String>) -> Self {
        FieldView {
            empty: state.empty,
            complete: state.complete,
            valid: state.valid,
            potentially_valid: state.potentially_valid,
            brand: None,
            max_length,
            formatted,
        }
    }

    fn invalid(formatted: Zeroizing<String>) -> Self {
        FieldView {
            empty: false,
            complete: false,
            valid: false,
            potentially_valid: false,
            brand: None,
            max_length: MAX_INPUT_CHARS,
            formatted,
        }
    }
}

/// Brand from its id (`"visa"`), as the script passes it back for the CVC field.
pub fn brand_from_id(id: &str) -> Option<Brand> {
    brand::ALL.iter().copied().find(|b| b.id() == id)
}

/// The card-number field: Luhn, brand by IIN, length for the brand, grouping per brand.
pub fn number(input: &str) -> FieldView {
    if input.chars().count() > MAX_INPUT_CHARS {
        return FieldView::invalid(Zeroizing::new(String::new()));
    }
    let v = CardValidation::of(input);
    FieldView {
        empty: v.empty,
        complete: v.complete,
        valid: v.valid,
        potentially_valid: v.potentially_valid,
        brand: v.brand.map(Brand::id),
        max_length: v.max_length,
        formatted: v.formatted,
    }
}

/// The expiry field, checked against `today` (the script passes the browser's month).
/// `growing` is true when the edit added characters: only then is ` / ` inserted after the
/// month, so that deleting the separator works.
pub fn expiry(input: &str, today: YearMonth, growing: bool) -> FieldView {
    if input.chars().count() > MAX_INPUT_CHARS {
        return FieldView::invalid(Zeroizing::new(String::new()));
    }
    let formatted = format_expiry(input, growing);
    let state = expiry_state(&formatted, today);
    // "MM / YYYY" is the longest accepted form.
    FieldView::from_state(state, 9, formatted)
}

/// `MM / YY` from what was typed: digits only, a leading `2`-`9` becomes `0N`, the
/// separator appears once the month is complete (while typing forward) or the year starts.
fn format_expiry(input: &str, growing: bool) -> Zeroizing<String> {
    let has_other = input
        .chars()
        .any(|c| !(c.is_ascii_digit() || c == '/' || c == ' ' || c == '-'));
    if has_other {
        return Zeroizing::new(input.chars().take(MAX_INPUT_CHARS).collect());
    }
    let mut digits: Zeroizing<String> =
        Zeroizing::new(input.chars().filter(char::is_ascii_digit).take(6).collect());
    let first = digits.chars().next();
    let typed_slash_after_one = input.trim_end().ends_with('/') && digits.len() == 1;
    if matches!(first, Some('2'..='9')) || (typed_slash_after_one && first == Some('1')) {
        digits.insert(0, '0');
    }
    let mut out = Zeroizing::new(String::with_capacity(12));
    if digits.len() < 2 {
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..2]);
        if digits.len() > 2 || growing {
            out.push_str(" / ");
        }
        out.push_str(&digits[2..]);
    }
    out
}

/// The security-code field for a card of `brand` (3 digits, Amex 4; 3 or 4 unknown).
pub fn cvc(input: &str, brand: Option<Brand>) -> FieldView {
    if input.chars().count() > MAX_INPUT_CHARS {
        return FieldView::invalid(Zeroizing::new(String::new()));
    }
    let max = brand.map_or(4, Brand::cvc_length);
    FieldView::from_state(
        cvc_state(input, brand),
        max,
        Zeroizing::new(input.trim().into()),
    )
}

/// The postal-code field: letters, digits, spaces and dashes, at most 10 characters.
pub fn postal_code(input: &str) -> FieldView {
    let trimmed = input.trim();
    let formatted = Zeroizing::new(trimmed.chars().take(MAX_INPUT_CHARS).collect::<String>());
    if trimmed.is_empty() {
        let state = FieldView::from_state(empty_state(), hushpay_card::postal::MAX_LEN, formatted);
        return state;
    }
    let valid = PostalCode::parse(trimmed).is_ok();
    let allowed = trimmed.chars().count() <= hushpay_card::postal::MAX_LEN
        && trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-');
    FieldView {
        empty: false,
        complete: valid,
        valid,
        potentially_valid: valid || allowed,
        brand: None,
        max_length: hushpay_card::postal::MAX_LEN,
        formatted,
    }
}

fn empty_state() -> FieldState {
    // The CVC rules give the canonical empty state (empty, potentially valid).
    cvc_state("", None)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TODAY: YearMonth = YearMonth {
        year: 2026,
        month: 11,
    };

    #[test]
    fn number_states_and_grouping() {
        let v = number("4111111111111111");
        assert!(v.valid && v.complete && v.potentially_valid && !v.empty);
        assert_eq!(v.brand, Some("visa"));
        assert_eq!(&*v.formatted, "4111 1111 1111 1111");
        let amex = number("3782 8224 6310 005");
        assert_eq!(amex.brand, Some("amex"));
        assert_eq!(&*amex.formatted, "3782 822463 10005");
        assert_eq!(amex.max_length, 15);
        let mc2 = number("2221000000000009");
        assert_eq!(mc2.brand, Some("mastercard"));
        assert!(mc2.valid);
        let partial = number("5555 55");
        assert!(!partial.valid && partial.potentially_valid);
        assert!(!number("4111111111111112222").potentially_valid);
        assert!(!number("hello").potentially_valid);
        assert!(number("").empty);
        assert!(!number(&"4".repeat(500)).valid);
    }

    #[test]
    fn every_brand_is_detected_and_cvc_length_follows() {
        for (pan, id, cvc_len) in [
            ("4242424242424242", "visa", 3),
            ("5555555555554444", "mastercard", 3),
            ("2223003122003222", "mastercard", 3),
            ("378282246310005", "amex", 4),
            ("6011111111111117", "discover", 3),
            ("36227206271667", "diners", 3),
            ("3566002020360505", "jcb", 3),
            ("6200000000000005", "unionpay", 3),
            ("6759649826438453", "maestro", 3),
        ] {
            let v = number(pan);
            assert!(v.valid, "{id}");
            assert_eq!(v.brand, Some(id));
            let brand = brand_from_id(id);
            assert!(cvc(&"7".repeat(cvc_len), brand).valid, "{id}");
            assert!(
                !cvc(&"7".repeat(cvc_len + 1), brand).potentially_valid,
                "{id}"
            );
        }
        assert_eq!(brand_from_id("nope"), None);
    }

    #[test]
    fn expiry_is_formatted_and_checked_against_today() {
        let f = |s: &str, g| expiry(s, TODAY, g);
        assert_eq!(&*f("1", true).formatted, "1");
        assert_eq!(&*f("4", true).formatted, "04 / ");
        assert_eq!(&*f("12", true).formatted, "12 / ");
        assert_eq!(&*f("12", false).formatted, "12");
        assert_eq!(&*f("1/", true).formatted, "01 / ");
        assert_eq!(&*f("1228", true).formatted, "12 / 28");
        assert_eq!(&*f("12 / 2030", true).formatted, "12 / 2030");
        assert!(f("12 / 28", true).valid);
        assert!(f("11 / 26", true).valid, "the current month is not expired");
        let past = f("10 / 26", true);
        assert!(!past.valid && !past.potentially_valid, "expired last month");
        assert!(f("1", true).potentially_valid);
        assert!(!f("13", true).potentially_valid);
        assert!(!f("ab", true).potentially_valid);
        let next_year = expiry(
            "01 / 27",
            YearMonth {
                year: 2027,
                month: 2,
            },
            true,
        );
        assert!(!next_year.valid, "today is an input");
    }

    #[test]
    fn postal_codes() {
        assert!(postal_code("").empty);
        assert!(postal_code("").potentially_valid);
        assert!(postal_code("94107").valid);
        assert!(postal_code("SW1A 1AA").valid);
        assert!(!postal_code("<script>").potentially_valid);
        assert!(!postal_code("12345678901").potentially_valid);
    }

    #[test]
    fn debug_hides_the_value() {
        let v = number("4111111111111111");
        assert!(!format!("{v:?}").contains("4111"));
    }
}
