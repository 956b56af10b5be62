//! Tokens: `tok_` + 24 base62 characters (about 143 bits). A token always contains letters
//! and an underscore, so it can never be mistaken for (or be) a Luhn-valid card number.
//!
//! The stored plaintext of a token is `pan|MM|YYYY` (ASCII), encrypted under the tenant's data
//! key with associated data binding tenant, token id, key version and the record type
//! `token`. The CVC is never part of it (see [`crate::sad`]).

use hmac::{Hmac, Mac};
use hushpay_card::{Expiry, Pan};
use hushpay_store::{TokenRecord, UnixTime};
use rand::Rng;
use serde::Serialize;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::VaultError;

/// The record type bound into a token's associated data.
pub const TOKEN_RECORD_TYPE: &str = "token";
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const TOKEN_CHARS: usize = 24;

/// A fresh token id.
pub fn new_token_id() -> String {
    let mut rng = rand::rngs::OsRng;
    let mut id = String::with_capacity(4 + TOKEN_CHARS);
    id.push_str("tok_");
    for _ in 0..TOKEN_CHARS {
        id.push(char::from(BASE62[rng.gen_range(0..BASE62.len())]));
    }
    id
}

/// True when `s` has the shape of a token id (used to refuse junk before a lookup).
pub fn is_token_id(s: &str) -> bool {
    s.strip_prefix("tok_").is_some_and(|rest| {
        (8..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// The keyed per-tenant fingerprint of a PAN (base64url of HMAC-SHA256).
pub fn fingerprint(key: &[u8; 32], pan: &Pan) -> Result<String, VaultError> {
    use base64::Engine;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|_| VaultError::Encrypt)?;
    mac.update(pan.expose_digits().as_bytes());
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

/// Encodes the card for encryption.
pub(crate) fn encode_card(pan: &Pan, expiry: &Expiry) -> Zeroizing<Vec<u8>> {
    let s = Zeroizing::new(format!(
        "{}|{:02}|{:04}",
        pan.expose_digits(),
        expiry.month(),
        expiry.year()
    ));
    Zeroizing::new(s.as_bytes().to_vec())
}

/// Decodes a decrypted card.
pub(crate) fn decode_card(plain: &[u8]) -> Result<(Pan, Expiry), VaultError> {
    let text = std::str::from_utf8(plain).map_err(|_| VaultError::Malformed)?;
    let mut parts = text.split('|');
    let (Some(pan), Some(mm), Some(yyyy), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VaultError::Malformed);
    };
    let pan = Pan::parse(pan).map_err(|_| VaultError::Malformed)?;
    let month: u8 = mm.parse().map_err(|_| VaultError::Malformed)?;
    let year: u16 = yyyy.parse().map_err(|_| VaultError::Malformed)?;
    let expiry = Expiry::new(month, year).map_err(|_| VaultError::Malformed)?;
    Ok((pan, expiry))
}

/// What a token looks like from outside the vault: masked metadata only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenMetadata {
    pub id: String,
    pub tenant: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
    pub fingerprint: String,
    pub created_at: UnixTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<UnixTime>,
}

impl From<&TokenRecord> for TokenMetadata {
    fn from(r: &TokenRecord) -> Self {
        TokenMetadata {
            id: r.id.clone(),
            tenant: r.tenant.as_str().to_owned(),
            brand: r.brand.clone(),
            last4: r.last4.clone(),
            exp_month: r.exp_month,
            exp_year: r.exp_year,
            fingerprint: r.fingerprint.clone(),
            created_at: r.created_at,
            expires_at: r.expires_at,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn token_ids_have_the_documented_shape_and_are_never_digit_strings() {
        for _ in 0..1000 {
            let id = new_token_id();
            assert!(is_token_id(&id), "{id}");
            assert_eq!(id.len(), 28);
            assert!(Pan::parse(&id).is_err());
            assert!(!id.bytes().all(|b| b.is_ascii_digit()));
        }
        assert!(!is_token_id("tok_"));
        assert!(!is_token_id("tok_abc$defgh"));
        assert!(!is_token_id("4242424242424242"));
    }

    #[test]
    fn card_encoding_round_trips() {
        let pan = Pan::parse("4242424242424242").unwrap();
        let exp = Expiry::new(7, 2031).unwrap();
        let enc = encode_card(&pan, &exp);
        let (p2, e2) = decode_card(&enc).unwrap();
        assert_eq!(p2, pan);
        assert_eq!(e2, exp);
        assert!(decode_card(b"4242424242424242|07").is_err());
        assert!(decode_card(b"4242424242424241|07|2031").is_err());
    }

    #[test]
    fn fingerprints_are_keyed() {
        let pan = Pan::parse("4242424242424242").unwrap();
        let a = fingerprint(&[1; 32], &pan).unwrap();
        assert_eq!(a, fingerprint(&[1; 32], &pan).unwrap());
        assert_ne!(a, fingerprint(&[2; 32], &pan).unwrap());
        assert!(!a.contains("4242"));
    }
}
