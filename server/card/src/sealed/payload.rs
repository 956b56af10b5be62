//! [`CardPayload`] and its plaintext form inside the HPKE ciphertext.
//!
//! Plaintext format, version 1 (UTF-8 JSON, no unknown fields):
//!
//! ```json
//! {"v":1,"pan":"4111111111111111","exp_month":12,"exp_year":2030,"cvc":"123","postal_code":"94107"}
//! ```
//!
//! `cvc` and `postal_code` are omitted when absent. On opening, every field goes through
//! the same parsers as typed input, so a payload sealed by a hostile client cannot smuggle
//! an invalid card into the vault.

use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::{Cvc, CvcError, Expiry, ExpiryError, Pan, PanError, PostalCode, PostalCodeError};

/// Plaintext format version.
pub const PAYLOAD_VERSION: u8 = 1;

/// Upper bound of a serialised payload; the buffer is allocated once at this size so
/// that serialisation never reallocates (a reallocation would leave a copy behind).
pub(super) const MAX_PLAINTEXT: usize = 512;

/// The card data sealed by the iframe (or a tenant backend) for the vault.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CardPayload {
    pub pan: Pan,
    pub expiry: Expiry,
    pub cvc: Option<Cvc>,
    pub postal_code: Option<PostalCode>,
}

/// The decrypted plaintext is not a valid payload. Carries no card data.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PayloadError {
    #[error("payload is not valid JSON of the expected shape")]
    Json,
    #[error("payload version {0} is not supported")]
    Version(u8),
    #[error("payload card number: {0}")]
    Pan(#[from] PanError),
    #[error("payload expiry: {0}")]
    Expiry(#[from] ExpiryError),
    #[error("payload security code: {0}")]
    Cvc(#[from] CvcError),
    #[error("payload postal code: {0}")]
    PostalCode(#[from] PostalCodeError),
}

#[derive(Serialize)]
struct WireOut<'a> {
    v: u8,
    pan: &'a str,
    exp_month: u8,
    exp_year: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    cvc: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    postal_code: Option<&'a str>,
}

#[derive(Deserialize, Zeroize, ZeroizeOnDrop)]
#[serde(deny_unknown_fields)]
struct WireIn {
    v: u8,
    pan: String,
    exp_month: u8,
    exp_year: u16,
    #[serde(default)]
    cvc: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
}

impl CardPayload {
    /// Serialise into a zeroizing buffer allocated once.
    pub(super) fn to_plaintext(&self) -> Result<Zeroizing<Vec<u8>>, PayloadError> {
        let wire = WireOut {
            v: PAYLOAD_VERSION,
            pan: self.pan.expose_digits(),
            exp_month: self.expiry.month(),
            exp_year: self.expiry.year(),
            cvc: self.cvc.as_ref().map(Cvc::expose_digits),
            postal_code: self.postal_code.as_ref().map(PostalCode::expose),
        };
        let mut buf = Zeroizing::new(Vec::with_capacity(MAX_PLAINTEXT));
        serde_json::to_writer(&mut *buf, &wire).map_err(|_| PayloadError::Json)?;
        Ok(buf)
    }

    /// Parse and re-validate a decrypted plaintext: what [`super::open`] does after
    /// decrypting. Public so the fuzz target can reach it with bytes no one sealed.
    pub fn from_plaintext(plaintext: &[u8]) -> Result<CardPayload, PayloadError> {
        // serde_json's messages can quote input values: never pass them on.
        let wire: WireIn = serde_json::from_slice(plaintext).map_err(|_| PayloadError::Json)?;
        if wire.v != PAYLOAD_VERSION {
            return Err(PayloadError::Version(wire.v));
        }
        let pan = Pan::parse(&wire.pan)?;
        let expiry = Expiry::new(wire.exp_month, wire.exp_year)?;
        let cvc = wire
            .cvc
            .as_deref()
            .map(|c| Cvc::parse(c, pan.brand()))
            .transpose()?;
        let postal_code = wire
            .postal_code
            .as_deref()
            .map(PostalCode::parse)
            .transpose()?;
        Ok(CardPayload {
            pan,
            expiry,
            cvc,
            postal_code,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payload() -> CardPayload {
        CardPayload {
            pan: Pan::parse("378282246310005").unwrap(),
            expiry: Expiry::new(12, 2030).unwrap(),
            cvc: Some(Cvc::parse("1234", Some(crate::Brand::Amex)).unwrap()),
            postal_code: Some(PostalCode::parse("94107").unwrap()),
        }
    }

    #[test]
    fn plaintext_roundtrip() {
        let p = payload();
        let text = p.to_plaintext().unwrap();
        assert!(text.len() < MAX_PLAINTEXT);
        assert_eq!(CardPayload::from_plaintext(&text).unwrap(), p);
        let minimal = CardPayload {
            cvc: None,
            postal_code: None,
            ..p
        };
        let text = minimal.to_plaintext().unwrap();
        assert_eq!(
            std::str::from_utf8(&text).unwrap(),
            r#"{"v":1,"pan":"378282246310005","exp_month":12,"exp_year":2030}"#
        );
        assert_eq!(CardPayload::from_plaintext(&text).unwrap(), minimal);
    }

    #[test]
    fn debug_is_redacted() {
        let shown = format!("{:?}", payload());
        assert!(
            !shown.contains("378282246310005") && !shown.contains("1234"),
            "{shown}"
        );
    }

    #[test]
    fn hostile_plaintexts_give_typed_errors() {
        let cases: &[(&str, PayloadError)] = &[
            ("", PayloadError::Json),
            ("[]", PayloadError::Json),
            (
                r#"{"v":2,"pan":"4111111111111111","exp_month":1,"exp_year":2030}"#,
                PayloadError::Version(2),
            ),
            (
                r#"{"v":1,"pan":"4111111111111112","exp_month":1,"exp_year":2030}"#,
                PayloadError::Pan(PanError::Luhn),
            ),
            (
                r#"{"v":1,"pan":"4111111111111111","exp_month":13,"exp_year":2030}"#,
                PayloadError::Expiry(ExpiryError::Month),
            ),
            (
                r#"{"v":1,"pan":"4111111111111111","exp_month":1,"exp_year":2030,"cvc":"1234"}"#,
                PayloadError::Cvc(CvcError::Length { expected: 3 }),
            ),
            (
                r#"{"v":1,"pan":"4111111111111111","exp_month":1,"exp_year":2030,"postal_code":"<x>"}"#,
                PayloadError::PostalCode(PostalCodeError::InvalidCharacter),
            ),
            (
                r#"{"v":1,"pan":"4111111111111111","exp_month":1,"exp_year":2030,"extra":1}"#,
                PayloadError::Json,
            ),
            (
                r#"{"v":1,"pan":4111111111111111,"exp_month":1,"exp_year":2030}"#,
                PayloadError::Json,
            ),
        ];
        for (text, expected) in cases {
            let err = CardPayload::from_plaintext(text.as_bytes()).unwrap_err();
            assert_eq!(&err, expected, "{text}");
            assert!(!format!("{err} {err:?}").contains("4111"));
        }
    }
}
