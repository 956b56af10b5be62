//! Webhook signing ([Standard Webhooks](https://www.standardwebhooks.com/)) and the destination
//! check.
//!
//! Headers sent with every delivery:
//! * `webhook-id`: the event id, stable across retries (receivers deduplicate on it);
//! * `webhook-timestamp`: Unix seconds of this attempt;
//! * `webhook-signature`: `v1,` + base64 of HMAC-SHA256 over `id.timestamp.body`, keyed with
//!   the bytes of the endpoint secret (`whsec_` + base64).
//!
//! Receivers verify with [`verify`] (or any Standard Webhooks library) and refuse timestamps
//! outside a tolerance (replay protection).
//!
//! The destination check ([`check_url`], [`is_public_addr`], [`check_addrs`]) lives in
//! [`target`]: pure functions, no I/O.

pub mod target;

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

pub use target::{
    CheckedUrl, MAX_URL_LEN, TargetHost, WebhookUrlError, check_addrs, check_url, check_url_with,
    is_public_addr,
};

/// Default replay window for [`verify`].
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// An endpoint secret, `whsec_` + base64 of 24..=64 bytes.
#[derive(Clone)]
pub struct WebhookSecret(Zeroizing<Vec<u8>>);

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// Webhook errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    #[error("webhook secret must be `whsec_` followed by base64 of 24 to 64 bytes")]
    BadSecret,
    #[error("webhook signature does not match")]
    BadSignature,
    #[error("webhook timestamp is missing, malformed or outside the tolerance")]
    BadTimestamp,
}

impl WebhookSecret {
    /// A fresh random secret (32 bytes).
    pub fn generate() -> WebhookSecret {
        let mut b = Zeroizing::new(vec![0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut b);
        WebhookSecret(b)
    }

    /// Parses `whsec_...`.
    pub fn parse(text: &str) -> Result<WebhookSecret, WebhookError> {
        let b64 = text.strip_prefix("whsec_").ok_or(WebhookError::BadSecret)?;
        let bytes = Zeroizing::new(STANDARD.decode(b64).map_err(|_| WebhookError::BadSecret)?);
        if !(24..=64).contains(&bytes.len()) {
            return Err(WebhookError::BadSecret);
        }
        Ok(WebhookSecret(bytes))
    }

    /// The `whsec_...` text form (shown once to the tenant at registration).
    pub fn expose(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("whsec_{}", STANDARD.encode(self.0.as_slice())))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> Result<Vec<u8>, WebhookError> {
        let mut mac =
            <Hmac<Sha256> as Mac>::new_from_slice(&self.0).map_err(|_| WebhookError::BadSecret)?;
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        Ok(mac.finalize().into_bytes().to_vec())
    }
}

/// The `webhook-signature` header value for a delivery.
pub fn sign(
    secret: &WebhookSecret,
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> Result<String, WebhookError> {
    Ok(format!(
        "v1,{}",
        STANDARD.encode(secret.mac(id, timestamp, body)?)
    ))
}

/// Verifies a delivery as a receiver would: `signature_header` may hold several
/// space-separated signatures; one valid `v1` signature and a timestamp within `tolerance`
/// seconds of `now` are required.
pub fn verify(
    secret: &WebhookSecret,
    id: &str,
    timestamp_header: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance: i64,
) -> Result<(), WebhookError> {
    let ts: i64 = timestamp_header
        .trim()
        .parse()
        .map_err(|_| WebhookError::BadTimestamp)?;
    if (now - ts).abs() > tolerance {
        return Err(WebhookError::BadTimestamp);
    }
    let expected = secret.mac(id, ts, body)?;
    for sig in signature_header.split_whitespace() {
        if let Some(b64) = sig.strip_prefix("v1,")
            && let Ok(got) = STANDARD.decode(b64)
            && bool::from(got.ct_eq(&expected))
        {
            return Ok(());
        }
    }
    Err(WebhookError::BadSignature)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn standard_webhooks_reference_vector() {
        // From the Standard Webhooks specification's test vectors.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let sig = sign(
            &secret,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn verify_accepts_good_and_refuses_tampered_stale_and_foreign() {
        let s = WebhookSecret::generate();
        let body = br#"{"type":"payment.succeeded"}"#;
        let sig = sign(&s, "evt_1", 1000, body).unwrap();
        let header = format!("v1,bogus {sig}");
        assert!(verify(&s, "evt_1", "1000", &header, body, 1010, 300).is_ok());
        assert_eq!(
            verify(&s, "evt_1", "1000", &sig, b"{}", 1010, 300),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(&s, "evt_2", "1000", &sig, body, 1010, 300),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify(&s, "evt_1", "1000", &sig, body, 2000, 300),
            Err(WebhookError::BadTimestamp)
        );
        assert_eq!(
            verify(&s, "evt_1", "x", &sig, body, 1000, 300),
            Err(WebhookError::BadTimestamp)
        );
        let other = WebhookSecret::generate();
        assert!(verify(&other, "evt_1", "1000", &sig, body, 1000, 300).is_err());
        assert!(!format!("{s:?}").contains(&s.expose()[6..]));
        assert_eq!(
            WebhookSecret::parse(&s.expose()).unwrap().expose(),
            s.expose()
        );
        assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err());
        assert!(WebhookSecret::parse("secret").is_err());
    }
}
