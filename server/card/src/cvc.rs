//! [`Cvc`]: a card verification code (CVV2/CVC2/CID), sensitive authentication data.
//!
//! PCI DSS 3.3.1.2: never stored after authorization. A `Cvc` prints as `Cvc(***)`,
//! zeroizes on drop and has no `Serialize` impl.

use std::fmt;

use subtle::ConstantTimeEq;
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::brand::Brand;

/// Why a string is not a valid CVC. Carries no digits.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CvcError {
    #[error("security code must contain digits only")]
    NotDigits,
    #[error("security code must have {expected} digits")]
    Length { expected: usize },
    #[error("security code must have 3 or 4 digits")]
    LengthUnknownBrand,
}

/// A validated CVC: 3 digits (4 for Amex); 3 or 4 when the brand is unknown.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Cvc {
    /// ASCII digits, at most 4; allocated once at full size.
    digits: Vec<u8>,
}

impl Cvc {
    /// Parse a CVC for a card of `brand` (surrounding whitespace is ignored).
    pub fn parse(input: &str, brand: Option<Brand>) -> Result<Cvc, CvcError> {
        let trimmed = input.trim();
        if !trimmed.bytes().all(|b| b.is_ascii_digit()) || trimmed.is_empty() {
            return Err(if trimmed.is_empty() {
                match brand {
                    Some(b) => CvcError::Length {
                        expected: b.cvc_length(),
                    },
                    None => CvcError::LengthUnknownBrand,
                }
            } else {
                CvcError::NotDigits
            });
        }
        let len = trimmed.len();
        match brand {
            Some(b) if len != b.cvc_length() => {
                return Err(CvcError::Length {
                    expected: b.cvc_length(),
                });
            }
            None if !(3..=4).contains(&len) => return Err(CvcError::LengthUnknownBrand),
            _ => {}
        }
        Ok(Cvc {
            digits: trimmed.as_bytes().to_vec(),
        })
    }

    /// Number of digits (3 or 4).
    pub fn len(&self) -> usize {
        self.digits.len()
    }

    /// Always false for a parsed `Cvc`.
    pub fn is_empty(&self) -> bool {
        self.digits.is_empty()
    }

    /// The digits. Only the vault's SAD store and processor connectors may call this.
    pub fn expose_digits(&self) -> &str {
        std::str::from_utf8(&self.digits).unwrap_or("")
    }
}

impl PartialEq for Cvc {
    fn eq(&self, other: &Cvc) -> bool {
        self.digits.ct_eq(&other.digits).into()
    }
}

impl Eq for Cvc {}

impl fmt::Debug for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvc(***)")
    }
}

impl fmt::Display for Cvc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn length_by_brand() {
        assert_eq!(
            Cvc::parse("123", Some(Brand::Visa))
                .unwrap()
                .expose_digits(),
            "123"
        );
        assert_eq!(Cvc::parse("1234", Some(Brand::Amex)).unwrap().len(), 4);
        assert_eq!(
            Cvc::parse("123", Some(Brand::Amex)),
            Err(CvcError::Length { expected: 4 })
        );
        assert_eq!(
            Cvc::parse("1234", Some(Brand::Mastercard)),
            Err(CvcError::Length { expected: 3 })
        );
        assert!(Cvc::parse("123", None).is_ok());
        assert!(Cvc::parse("1234", None).is_ok());
        assert_eq!(Cvc::parse("12", None), Err(CvcError::LengthUnknownBrand));
        assert_eq!(Cvc::parse("", None), Err(CvcError::LengthUnknownBrand));
        assert_eq!(
            Cvc::parse("12a", Some(Brand::Visa)),
            Err(CvcError::NotDigits)
        );
        assert_eq!(
            Cvc::parse("１２３", Some(Brand::Visa)),
            Err(CvcError::NotDigits)
        );
        assert_eq!(
            Cvc::parse(" 737 ", Some(Brand::Visa))
                .unwrap()
                .expose_digits(),
            "737"
        );
    }

    #[test]
    fn redacted() {
        let cvc = Cvc::parse("737", None).unwrap();
        assert_eq!(format!("{cvc:?}"), "Cvc(***)");
        assert_eq!(format!("{cvc}"), "***");
        assert_eq!(cvc, Cvc::parse("737", Some(Brand::Visa)).unwrap());
        assert_ne!(cvc, Cvc::parse("738", None).unwrap());
        let mut z = cvc.clone();
        z.zeroize();
        assert!(z.is_empty());
    }

    proptest! {
        #[test]
        fn never_panics_and_never_leaks(s in "\\PC{0,12}") {
            match Cvc::parse(&s, None) {
                Ok(c) => prop_assert_eq!(format!("{c:?}"), "Cvc(***)"),
                Err(e) => { let _ = e.to_string(); }
            }
        }
    }
}
