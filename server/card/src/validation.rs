//! "As you type" validation of the card number field, for the card iframe.
//!
//! [`CardValidation::of`] takes the raw field value and returns the state the form
//! shows and reports in its `change` event (Stripe Elements / Braintree Hosted Fields
//! names): `empty`, `complete`, `valid`, `potentially_valid`, `brand`, plus the
//! `formatted` value to put back into the field and the `max_length` in digits.
//!
//! `potentially_valid` follows Braintree's `card-validator`: the digits typed so far
//! could still become a valid number of some known brand (see [`crate::brand`]).
//! `valid` implies that [`crate::Pan::parse`] accepts the same input.

use zeroize::Zeroizing;

use crate::brand::{self, Brand};
use crate::luhn;
use crate::pan::{self, InvalidInput};

/// The state of the card number field. `formatted` is the full number as typed (it goes
/// back into the field); treat it like the PAN itself.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CardValidation {
    /// Digits grouped by brand with single spaces, e.g. `"3782 822463 10005"`.
    pub formatted: Zeroizing<String>,
    /// Detected brand, once the IIN determines it.
    pub brand: Option<Brand>,
    /// No digit entered.
    pub empty: bool,
    /// Same as `valid`: the number is finished and correct (Stripe's `complete`).
    pub complete: bool,
    /// Known brand, a length allowed for it, and Luhn-valid.
    pub valid: bool,
    /// The input may still become valid as more digits are typed.
    pub potentially_valid: bool,
    /// The most digits the field should accept for this brand (19 while unknown).
    pub max_length: usize,
    /// Number of digits entered.
    pub digit_count: usize,
}

impl std::fmt::Debug for CardValidation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardValidation")
            .field("formatted", &"***")
            .field("brand", &self.brand)
            .field("empty", &self.empty)
            .field("complete", &self.complete)
            .field("valid", &self.valid)
            .field("potentially_valid", &self.potentially_valid)
            .field("max_length", &self.max_length)
            .field("digit_count", &self.digit_count)
            .finish()
    }
}

impl CardValidation {
    /// Validate the raw field value. Spaces and dashes are ignored; any other
    /// non-digit character makes the input neither valid nor potentially valid.
    pub fn of(input: &str) -> CardValidation {
        let digits = match pan::collect_digits(input, pan::MAX_LEN) {
            Ok(d) => d,
            Err(InvalidInput::Character { .. }) | Err(InvalidInput::TooLong) => {
                return CardValidation::invalid(input);
            }
        };
        let values = pan::values(&digits);
        let len = digits.len();
        let candidates = brand::candidates(&values);
        let brand = brand::detect(&values).filter(|b| candidates.contains(b));
        let luhn_ok = luhn::is_valid(&values);
        let (valid, potentially_valid, max_length) = match (candidates.as_slice(), brand) {
            ([], _) => (false, false, brand.map_or(pan::MAX_LEN, Brand::max_length)),
            // Several brands still possible (or none decided): keep typing.
            (_, None) => (false, true, pan::MAX_LEN),
            (_, Some(b)) => {
                let max = b.max_length();
                let length_ok = b.lengths().contains(&len);
                let valid = length_ok && luhn_ok;
                // Braintree: at an allowed length, potentially valid if valid or more
                // digits can still come; otherwise only while shorter than the maximum.
                (valid, valid || len < max, max)
            }
        };
        CardValidation {
            formatted: format_digits(&digits, brand),
            brand,
            empty: len == 0,
            complete: valid,
            valid,
            potentially_valid: potentially_valid || len == 0,
            max_length,
            digit_count: len,
        }
    }

    fn invalid(input: &str) -> CardValidation {
        // Keep what was typed (minus nothing) so the field does not jump; flag invalid.
        let kept: String = input.chars().take(40).collect();
        CardValidation {
            formatted: Zeroizing::new(kept),
            brand: None,
            empty: false,
            complete: false,
            valid: false,
            potentially_valid: false,
            max_length: pan::MAX_LEN,
            digit_count: input.chars().filter(char::is_ascii_digit).count(),
        }
    }
}

/// Group ASCII digits with spaces at the brand's gaps (`4111 1111 1111 1111`,
/// `3782 822463 10005`, `4111 1111 1111 1111 111`).
pub(crate) fn format_digits(ascii: &[u8], brand: Option<Brand>) -> Zeroizing<String> {
    let gaps = brand.map_or(brand::default_gaps(), |b| b.gaps(ascii.len()));
    let mut out = Zeroizing::new(String::with_capacity(ascii.len() + gaps.len() + 1));
    for (i, &b) in ascii.iter().enumerate() {
        if i > 0 && gaps.contains(&i) {
            out.push(' ');
        }
        out.push(char::from(b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn state(input: &str) -> (Option<Brand>, bool, bool, bool, usize) {
        let v = CardValidation::of(input);
        (v.brand, v.empty, v.valid, v.potentially_valid, v.max_length)
    }

    #[test]
    fn empty_field() {
        let v = CardValidation::of("");
        assert!(v.empty && v.potentially_valid && !v.valid && !v.complete);
        assert_eq!(v.brand, None);
        assert_eq!(v.max_length, 19);
        assert_eq!(&*v.formatted, "");
    }

    #[test]
    fn typing_a_visa() {
        assert_eq!(state("4"), (Some(Brand::Visa), false, false, true, 19));
        assert_eq!(
            state("4111 1111 1111"),
            (Some(Brand::Visa), false, false, true, 19)
        );
        let v = CardValidation::of("4111111111111111");
        assert!(v.valid && v.complete && v.potentially_valid);
        assert_eq!(&*v.formatted, "4111 1111 1111 1111");
        // 16 digits but wrong checksum: Visa can still grow to 19.
        let v = CardValidation::of("4111111111111112");
        assert!(!v.valid && v.potentially_valid);
        // 19 digits, wrong checksum: done.
        let v = CardValidation::of("4111111111111111112");
        assert!(!v.valid && !v.potentially_valid);
        assert_eq!(&*v.formatted, "4111 1111 1111 1111 112");
    }

    #[test]
    fn typing_an_amex() {
        assert_eq!(state("3"), (None, false, false, true, 19));
        assert_eq!(state("37"), (Some(Brand::Amex), false, false, true, 15));
        let v = CardValidation::of("378282246310005");
        assert!(v.valid);
        assert_eq!(&*v.formatted, "3782 822463 10005");
        let v = CardValidation::of("378282246310006");
        assert!(!v.valid && !v.potentially_valid);
        // Past the maximum length of the brand.
        let v = CardValidation::of("3782822463100050");
        assert!(!v.valid && !v.potentially_valid);
    }

    #[test]
    fn diners_fourteen_digit_grouping() {
        let v = CardValidation::of("30569309025904");
        assert_eq!(v.brand, Some(Brand::DinersClub));
        assert!(v.valid);
        assert_eq!(&*v.formatted, "3056 930902 5904");
    }

    #[test]
    fn unknown_and_garbage() {
        assert_eq!(state("1"), (None, false, false, false, 19));
        assert_eq!(state("9999"), (None, false, false, false, 19));
        let v = CardValidation::of("4111a");
        assert!(!v.valid && !v.potentially_valid && !v.empty);
        let v = CardValidation::of("41111111111111111111111");
        assert!(!v.valid && !v.potentially_valid);
    }

    #[test]
    fn ambiguous_prefix_until_decided() {
        assert_eq!(state("62"), (None, false, false, true, 19));
        assert_eq!(
            state("622126"),
            (Some(Brand::Discover), false, false, true, 19)
        );
        assert_eq!(
            state("2221"),
            (Some(Brand::Mastercard), false, false, true, 16)
        );
    }

    #[test]
    fn debug_is_redacted() {
        let v = CardValidation::of("4111111111111111");
        assert!(!format!("{v:?}").contains("4111"));
    }

    proptest! {
        /// `valid` implies the `Pan` parser agrees.
        #[test]
        fn valid_implies_pan(s in "[0-9 -]{0,24}") {
            let v = CardValidation::of(&s);
            if v.valid {
                prop_assert!(crate::Pan::parse(&s).is_ok());
            }
            prop_assert_eq!(v.complete, v.valid);
            prop_assert!(!v.valid || v.potentially_valid);
        }

        /// A valid number of a known brand was potentially valid at every prefix.
        #[test]
        fn prefixes_of_valid_numbers_are_potentially_valid(payload in prop::collection::vec(0u8..10, 11..18)) {
            let mut digits = payload.clone();
            digits.push(crate::luhn::check_digit(&payload).unwrap());
            let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            if CardValidation::of(&s).valid {
                for end in 0..=s.len() {
                    prop_assert!(CardValidation::of(&s[..end]).potentially_valid, "prefix {}", end);
                }
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,40}") {
            let _ = CardValidation::of(&s);
        }
    }
}
