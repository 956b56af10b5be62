//! [`PostalCode`]: a billing postal code for address verification (AVS).
//!
//! Deliberately simple: 1–10 characters of ASCII letters, digits, spaces and dashes,
//! at least one letter or digit (US `12345`, `12345-6789`; UK `SW1A 1AA`; CA `K1A 0B1`).
//! Stored upper-cased and trimmed; printed redacted (it is personal data in a
//! healthcare context).

use std::fmt;

use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Longest postal code accepted.
pub const MAX_LEN: usize = 10;

/// Why a string is not a postal code.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PostalCodeError {
    #[error("postal code is empty")]
    Empty,
    #[error("postal code is longer than {MAX_LEN} characters")]
    TooLong,
    #[error("postal code may contain only letters, digits, spaces and dashes")]
    InvalidCharacter,
}

/// A validated postal code.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct PostalCode {
    value: String,
}

impl PostalCode {
    pub fn parse(input: &str) -> Result<PostalCode, PostalCodeError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(PostalCodeError::Empty);
        }
        if trimmed.chars().count() > MAX_LEN {
            return Err(PostalCodeError::TooLong);
        }
        if !trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ' || b == b'-')
        {
            return Err(PostalCodeError::InvalidCharacter);
        }
        if !trimmed.bytes().any(|b| b.is_ascii_alphanumeric()) {
            return Err(PostalCodeError::InvalidCharacter);
        }
        Ok(PostalCode {
            value: trimmed.to_ascii_uppercase(),
        })
    }

    /// The normalised value (trimmed, upper-case), for the vault and connectors.
    pub fn expose(&self) -> &str {
        &self.value
    }
}

impl fmt::Debug for PostalCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PostalCode(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_common_formats() {
        assert_eq!(PostalCode::parse("94107").unwrap().expose(), "94107");
        assert_eq!(
            PostalCode::parse("12345-6789").unwrap().expose(),
            "12345-6789"
        );
        assert_eq!(
            PostalCode::parse(" sw1a 1aa ").unwrap().expose(),
            "SW1A 1AA"
        );
        assert_eq!(PostalCode::parse("K1A 0B1").unwrap().expose(), "K1A 0B1");
    }

    #[test]
    fn rejects() {
        assert_eq!(PostalCode::parse("   "), Err(PostalCodeError::Empty));
        assert_eq!(
            PostalCode::parse("12345678901"),
            Err(PostalCodeError::TooLong)
        );
        assert_eq!(
            PostalCode::parse("94107;drop"),
            Err(PostalCodeError::InvalidCharacter)
        );
        assert_eq!(
            PostalCode::parse("<script>"),
            Err(PostalCodeError::InvalidCharacter)
        );
        assert_eq!(
            PostalCode::parse("--"),
            Err(PostalCodeError::InvalidCharacter)
        );
        assert_eq!(
            PostalCode::parse("９４１０７"),
            Err(PostalCodeError::InvalidCharacter)
        );
        assert_eq!(
            format!("{:?}", PostalCode::parse("94107").unwrap()),
            "PostalCode(***)"
        );
    }

    proptest! {
        #[test]
        fn never_panics(s in "\\PC{0,16}") {
            if let Ok(p) = PostalCode::parse(&s) {
                prop_assert!(p.expose().len() <= MAX_LEN);
            }
        }
    }
}
