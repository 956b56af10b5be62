//! [`Pan`]: a primary account number that passed validation.
//!
//! A `Pan` can only be built by [`Pan::parse`]. It prints masked (`Pan(visa ****1111)`),
//! compares in constant time, zeroizes its digits on drop and has no `Serialize` impl.
//! The full digits are reachable only through [`Pan::expose_digits`], which is meant for
//! the vault and processor connectors.

use std::fmt;

use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::brand::{self, Brand};

/// Shortest and longest PAN accepted (ISO/IEC 7812: up to 19 digits; Maestro has 12).
pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 19;

/// Why a string is not a valid PAN. Carries no digits of the input.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PanError {
    #[error("card number is empty")]
    Empty,
    #[error("card number contains an invalid character at position {position}")]
    InvalidCharacter { position: usize },
    #[error("card number has {len} digits; at least {MIN_LEN} are required")]
    TooShort { len: usize },
    #[error("card number has more than {MAX_LEN} digits")]
    TooLong,
    #[error("card number fails the Luhn check")]
    Luhn,
    #[error("a {brand} card number cannot have {len} digits")]
    LengthForBrand { brand: Brand, len: usize },
}

/// A validated card number: 12–19 ASCII digits, Luhn-valid, and of a length allowed for
/// its brand when the brand is known. Unknown brands are accepted (the IIN table cannot
/// list every scheme); acquirers decide what they take.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Pan {
    /// ASCII digits; capacity fixed at `MAX_LEN` so pushes never reallocate (a
    /// reallocation would leave an unzeroized copy behind).
    digits: Vec<u8>,
    #[zeroize(skip)]
    brand: Option<Brand>,
}

/// Collect ASCII digits from `input`, skipping spaces and dashes, into a zeroizing buffer
/// of capacity `max + 1` (so that "too long" is detected without reallocating).
pub(crate) fn collect_digits(input: &str, max: usize) -> Result<Zeroizing<Vec<u8>>, InvalidInput> {
    let mut out = Zeroizing::new(Vec::with_capacity(max + 1));
    for (position, c) in input.chars().enumerate() {
        match c {
            '0'..='9' => {
                if out.len() > max {
                    return Err(InvalidInput::TooLong);
                }
                // ASCII digit: the cast keeps its byte value.
                out.push(c as u8);
            }
            ' ' | '-' => {}
            _ => return Err(InvalidInput::Character { position }),
        }
    }
    if out.len() > max {
        return Err(InvalidInput::TooLong);
    }
    Ok(out)
}

/// Errors of [`collect_digits`].
#[derive(Debug)]
pub(crate) enum InvalidInput {
    Character { position: usize },
    TooLong,
}

/// Digit values (0..=9) from ASCII digits.
pub(crate) fn values(ascii: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(ascii.iter().map(|b| b.wrapping_sub(b'0')).collect())
}

impl Pan {
    /// Parse a card number typed or pasted by a person: ASCII digits, optionally grouped
    /// with spaces or dashes (`"4111 1111-1111 1111"`).
    pub fn parse(input: &str) -> Result<Pan, PanError> {
        let digits = collect_digits(input, MAX_LEN).map_err(|e| match e {
            InvalidInput::Character { position } => PanError::InvalidCharacter { position },
            InvalidInput::TooLong => PanError::TooLong,
        })?;
        let len = digits.len();
        if len == 0 {
            return Err(PanError::Empty);
        }
        if len < MIN_LEN {
            return Err(PanError::TooShort { len });
        }
        if !crate::luhn::is_valid_ascii(&digits) {
            return Err(PanError::Luhn);
        }
        let brand = brand::detect(&values(&digits));
        if let Some(brand) = brand
            && !brand.lengths().contains(&len)
        {
            return Err(PanError::LengthForBrand { brand, len });
        }
        let mut stored = Vec::with_capacity(MAX_LEN);
        stored.extend_from_slice(&digits);
        Ok(Pan {
            digits: stored,
            brand,
        })
    }

    /// The brand detected from the IIN, if the number is in a known range.
    pub fn brand(&self) -> Option<Brand> {
        self.brand
    }

    /// Number of digits.
    pub fn len(&self) -> usize {
        self.digits.len()
    }

    /// Always false: a `Pan` has at least [`MIN_LEN`] digits.
    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }

    /// The last four digits (safe to display, PCI DSS 3.4.1).
    pub fn last4(&self) -> &str {
        let start = self.digits.len().saturating_sub(4);
        ascii_str(&self.digits[start..])
    }

    /// The first six digits (the BIN/IIN), safe to display with the last four.
    pub fn bin(&self) -> &str {
        ascii_str(&self.digits[..6.min(self.digits.len())])
    }

    /// The full number as ASCII digits, without separators.
    ///
    /// Only the vault (sealing, tokenization) and processor connectors may call this.
    /// Never log, format or persist the result.
    pub fn expose_digits(&self) -> &str {
        ascii_str(&self.digits)
    }

    /// The number grouped for display by its brand (e.g. `4111 1111 1111 1111`). Same
    /// care as [`Pan::expose_digits`]: the result is the full number.
    pub fn expose_formatted(&self) -> Zeroizing<String> {
        crate::validation::format_digits(&self.digits, self.brand)
    }
}

/// `digits` holds ASCII digits only (checked at construction), so this never fails;
/// an empty string is returned if that invariant were ever broken.
fn ascii_str(digits: &[u8]) -> &str {
    std::str::from_utf8(digits).unwrap_or("")
}

impl PartialEq for Pan {
    /// Constant-time comparison of the digits.
    fn eq(&self, other: &Pan) -> bool {
        self.digits.ct_eq(&other.digits).into()
    }
}

impl Eq for Pan {}

fn brand_id(brand: Option<Brand>) -> &'static str {
    brand.map_or("unknown", Brand::id)
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({} ****{})", brand_id(self.brand), self.last4())
    }
}

impl fmt::Display for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ****{}", brand_id(self.brand), self.last4())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_public_test_cards() {
        let visa = Pan::parse("4111 1111 1111 1111").unwrap();
        assert_eq!(visa.brand(), Some(Brand::Visa));
        assert_eq!(visa.last4(), "1111");
        assert_eq!(visa.bin(), "411111");
        assert_eq!(visa.len(), 16);
        assert_eq!(visa.expose_digits(), "4111111111111111");
        let amex = Pan::parse("3782-822463-10005").unwrap();
        assert_eq!(amex.brand(), Some(Brand::Amex));
        assert_eq!(amex.last4(), "0005");
        assert_eq!(&*amex.expose_formatted(), "3782 822463 10005");
        let mc = Pan::parse("5555555555554444").unwrap();
        assert_eq!(mc.brand(), Some(Brand::Mastercard));
        assert_eq!(
            Pan::parse("4222222222222").unwrap().brand(),
            Some(Brand::Visa)
        );
    }

    #[test]
    fn unknown_brand_is_accepted() {
        // 12-digit, Luhn-valid, no known IIN (Mir's 2200 range is not in the table).
        let pan = Pan::parse("2200000000000004").unwrap();
        assert_eq!(pan.brand(), None);
        assert_eq!(format!("{pan:?}"), "Pan(unknown ****0004)");
    }

    #[test]
    fn rejections() {
        assert_eq!(Pan::parse(""), Err(PanError::Empty));
        assert_eq!(Pan::parse(" - "), Err(PanError::Empty));
        assert_eq!(
            Pan::parse("4111x111"),
            Err(PanError::InvalidCharacter { position: 4 })
        );
        assert_eq!(
            Pan::parse("41111111111"),
            Err(PanError::TooShort { len: 11 })
        );
        assert_eq!(Pan::parse("41111111111111111111"), Err(PanError::TooLong));
        assert_eq!(Pan::parse("4111111111111112"), Err(PanError::Luhn));
        assert_eq!(Pan::parse("41111111111111110"), Err(PanError::Luhn),);
        // Luhn-valid 17-digit Mastercard-range number: wrong length for the brand.
        let mut payload: Vec<u8> = "5555555555554444".bytes().map(|b| b - b'0').collect();
        payload.push(crate::luhn::check_digit(&payload).unwrap());
        let s: String = payload.iter().map(|d| char::from(b'0' + d)).collect();
        assert_eq!(
            Pan::parse(&s),
            Err(PanError::LengthForBrand {
                brand: Brand::Mastercard,
                len: 17
            })
        );
        // Full-width digits are not accepted here (the chat scanner handles them).
        assert!(matches!(
            Pan::parse("４１１１111111111111"),
            Err(PanError::InvalidCharacter { position: 0 })
        ));
    }

    #[test]
    fn redacted_formatting() {
        let pan = Pan::parse("4111111111111111").unwrap();
        assert_eq!(format!("{pan:?}"), "Pan(visa ****1111)");
        assert_eq!(format!("{pan}"), "visa ****1111");
        assert_eq!(format!("{:?}", Some(&pan)), "Some(Pan(visa ****1111))");
        assert!(!format!("{pan:#?}").contains("4111111111111111"));
    }

    #[test]
    fn errors_carry_no_digits() {
        for input in [
            "4111111111111112",
            "41111111111x",
            "411111111111111111111",
            "5555555555554444 9",
        ] {
            let err = Pan::parse(input).unwrap_err();
            let text = format!("{err} {err:?}");
            assert!(!text.contains("4111"), "{text}");
            assert!(!text.contains("5555"), "{text}");
        }
    }

    #[test]
    fn equality_and_zeroize() {
        let a = Pan::parse("4111111111111111").unwrap();
        let b = Pan::parse("4111 1111 1111 1111").unwrap();
        let c = Pan::parse("5555555555554444").unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut z = a.clone();
        z.zeroize();
        assert!(z.is_empty());
        assert_eq!(z.last4(), "");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = Pan::parse(&s);
        }

        #[test]
        fn valid_numbers_roundtrip(payload in prop::collection::vec(0u8..10, 11..18)) {
            let mut digits = payload.clone();
            digits.push(crate::luhn::check_digit(&payload).unwrap());
            let s: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            match Pan::parse(&s) {
                Ok(pan) => {
                    prop_assert_eq!(pan.expose_digits(), s.as_str());
                    prop_assert_eq!(pan.last4(), &s[s.len() - 4..]);
                    let shown = format!("{pan:?}");
                    prop_assert!(!shown.contains(&s));
                }
                Err(PanError::LengthForBrand { .. }) => {}
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
            }
        }
    }
}
