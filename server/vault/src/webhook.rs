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
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

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
    #[error(
        "webhook URL must be https:// (or http:// when private targets are allowed) with a host"
    )]
    BadUrl,
    #[error("webhook target is a loopback, private, link-local or otherwise internal address")]
    InternalTarget,
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

/// True for addresses a webhook must not reach unless explicitly allowed: loopback,
/// private (RFC 1918, ULA), link-local, unspecified, CGNAT, broadcast, documentation,
/// multicast, and IPv4-mapped forms of these.
pub fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_internal_v4(v4);
            }
            let seg0 = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (seg0 & 0xfe00) == 0xfc00 // unique local
                || (seg0 & 0xffc0) == 0xfe80 // link-local
                || v6 == Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 1)
        }
    }
}

fn is_internal_v4(v4: Ipv4Addr) -> bool {
    let o = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_documentation()
        || v4.is_multicast()
        || o[0] == 0
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // 100.64.0.0/10
}

/// The host part of an `http(s)://host[:port]/...` URL, checked for scheme. IPv6 literals are
/// returned without brackets.
pub fn url_host(url: &str, allow_http: bool) -> Result<&str, WebhookError> {
    let rest = if let Some(r) = url.strip_prefix("https://") {
        r
    } else if allow_http && let Some(r) = url.strip_prefix("http://") {
        r
    } else {
        return Err(WebhookError::BadUrl);
    };
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(WebhookError::BadUrl);
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return Err(WebhookError::BadUrl);
    }
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        return Err(WebhookError::BadUrl);
    }
    Ok(host)
}

/// Checks a webhook URL at registration: scheme, and (for IP literals and `localhost`) the
/// address class. Hostnames must be checked again against their resolved addresses at
/// delivery time ([`is_internal`]), which defeats DNS rebinding to internal addresses.
pub fn check_target(url: &str, allow_private: bool) -> Result<(), WebhookError> {
    let host = url_host(url, allow_private)?;
    if allow_private {
        return Ok(());
    }
    let lower = host.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") || lower.ends_with(".local") {
        return Err(WebhookError::InternalTarget);
    }
    if let Ok(ip) = host.parse::<IpAddr>()
        && is_internal(ip)
    {
        return Err(WebhookError::InternalTarget);
    }
    Ok(())
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

    #[test]
    fn internal_targets_are_refused_unless_allowed() {
        for url in [
            "https://127.0.0.1/hook",
            "https://10.1.2.3/",
            "https://172.16.0.1",
            "https://192.168.1.1:8443/x",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://0.0.0.0/",
            "https://100.64.0.1/",
            "https://localhost/",
            "https://printer.local/",
        ] {
            assert_eq!(
                check_target(url, false),
                Err(WebhookError::InternalTarget),
                "{url}"
            );
            assert!(check_target(url, true).is_ok(), "{url}");
        }
        assert!(check_target("https://hooks.example.com/x", false).is_ok());
        assert!(check_target("https://8.8.8.8/x", false).is_ok());
        for bad in [
            "http://hooks.example.com/",
            "ftp://x/",
            "https://",
            "https://user@evil/",
            "https://a b/",
            "",
        ] {
            assert_eq!(check_target(bad, false), Err(WebhookError::BadUrl), "{bad}");
        }
        assert!(check_target("http://127.0.0.1:9000/hook", true).is_ok());
    }
}
