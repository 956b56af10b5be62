//! `[turn]`: the TURN servers participants may relay through, and the credentials the gateway
//! mints for them with the secret it shares with those servers.
//!
//! ```toml
//! [turn]
//! urls = ["turn:turn.example.org:3478?transport=udp", "turn:turn.example.org:3478?transport=tcp",
//!         "turns:turn.example.org:5349?transport=tcp"]
//! shared_secret_file = "/etc/hushpay/turn-secret"   # first line, >= 32 characters; the
//!                                                   # same as coturn's static-auth-secret
//! # shared_secret = "..."                           # inline, development only
//! ttl_secs = 600
//! ```
//!
//! Credentials follow the TURN REST API (draft-uberti-behave-turn-rest-00) that coturn checks
//! with `use-auth-secret`: username `<expiry unix seconds>:<participant id>`, password
//! `base64(HMAC-SHA1(secret, username))`. The participant id (never the identity, which may
//! name a patient) is what coturn logs. The secret and minted passwords never appear in `Debug`
//! output or logs.

use std::path::PathBuf;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha1::Sha1;
use zeroize::Zeroizing;

use crate::config_error::ConfigError;
/// One entry of `RTCConfiguration.iceServers` (the wire type lives in `hushpay-protocol`).
pub use hushpay_protocol::ice::IceServer;

/// Shortest shared secret accepted (bytes).
pub const MIN_SECRET_LEN: usize = 32;
/// Default lifetime of minted credentials.
pub const DEFAULT_TTL_SECS: u64 = 600;
/// Longest lifetime accepted (the draft's recommendation, one day).
const MAX_TTL_SECS: u64 = 86_400;

/// `[turn]` as written.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTurn {
    /// `turn:`/`turns:` (or `stun:`) URLs handed to participants.
    pub urls: Option<Vec<String>>,
    /// A file whose first line is the secret shared with the TURN servers.
    pub shared_secret_file: Option<PathBuf>,
    /// The secret inline (development only).
    pub shared_secret: Option<String>,
    /// Lifetime of minted credentials (default 600 s).
    pub ttl_secs: Option<u64>,
}

impl std::fmt::Debug for RawTurn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawTurn")
            .field("urls", &self.urls)
            .field("shared_secret_file", &self.shared_secret_file)
            .field(
                "shared_secret",
                &self.shared_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("ttl_secs", &self.ttl_secs)
            .finish()
    }
}

/// The validated `[turn]` section: `None` in [`TurnConfig::servers`] when no TURN is set up.
#[derive(Clone, Default)]
pub struct TurnConfig {
    servers: Option<TurnServers>,
}

#[derive(Clone)]
struct TurnServers {
    urls: Vec<String>,
    secret: Zeroizing<Vec<u8>>,
    /// True when the secret was given inline (refused in production).
    inline: bool,
    ttl: Duration,
}

impl std::fmt::Debug for TurnConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.servers {
            None => f.write_str("TurnConfig(off)"),
            Some(s) => f
                .debug_struct("TurnConfig")
                .field("urls", &s.urls)
                .field("secret", &"<redacted>")
                .field("inline", &s.inline)
                .field("ttl", &s.ttl)
                .finish(),
        }
    }
}

impl RawTurn {
    /// Checks the section: URLs need a secret of at least [`MIN_SECRET_LEN`] bytes, read now.
    pub fn validate(self) -> Result<TurnConfig, ConfigError> {
        let invalid = |key: &'static str, reason: String| ConfigError::Invalid { key, reason };
        let urls = self.urls.unwrap_or_default();
        let has_secret = self.shared_secret.is_some() || self.shared_secret_file.is_some();
        if urls.is_empty() {
            if has_secret || self.ttl_secs.is_some() {
                return Err(invalid("turn.urls", "set the TURN server URLs".into()));
            }
            return Ok(TurnConfig::default());
        }
        for url in &urls {
            check_url(url).map_err(|reason| invalid("turn.urls", reason))?;
        }
        let ttl = self.ttl_secs.unwrap_or(DEFAULT_TTL_SECS);
        if !(1..=MAX_TTL_SECS).contains(&ttl) {
            return Err(invalid(
                "turn.ttl_secs",
                format!("1 to {MAX_TTL_SECS} seconds"),
            ));
        }
        let (secret, inline) = match (self.shared_secret, self.shared_secret_file) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "turn.shared_secret",
                    "set turn.shared_secret or turn.shared_secret_file, not both".into(),
                ));
            }
            (Some(inline), None) => (Zeroizing::new(inline.trim().to_owned()), true),
            (None, Some(path)) => (read_secret(&path)?, false),
            (None, None) => {
                return Err(invalid(
                    "turn.shared_secret_file",
                    "TURN URLs need the secret shared with the TURN server".into(),
                ));
            }
        };
        if secret.len() < MIN_SECRET_LEN || !secret.bytes().all(|b| b.is_ascii_graphic()) {
            let key = if inline {
                "turn.shared_secret"
            } else {
                "turn.shared_secret_file"
            };
            return Err(invalid(
                key,
                format!("the secret must be at least {MIN_SECRET_LEN} printable characters"),
            ));
        }
        Ok(TurnConfig {
            servers: Some(TurnServers {
                urls,
                secret: Zeroizing::new(secret.as_bytes().to_vec()),
                inline,
                ttl: Duration::from_secs(ttl),
            }),
        })
    }
}

fn read_secret(path: &std::path::Path) -> Result<Zeroizing<String>, ConfigError> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| ConfigError::Invalid {
            key: "turn.shared_secret_file",
            reason: format!("cannot read {}: {e}", path.display()),
        })?,
    );
    Ok(Zeroizing::new(
        text.lines().next().unwrap_or("").trim().to_owned(),
    ))
}

/// A `stun:`, `turn:` or `turns:` URL (RFC 7064/7065) with a host, no spaces or credentials.
fn check_url(url: &str) -> Result<(), String> {
    let rest = ["turn:", "turns:", "stun:"]
        .iter()
        .find_map(|s| url.strip_prefix(s))
        .ok_or_else(|| format!("`{url}` is not a turn:, turns: or stun: URL"))?;
    let host = rest.split('?').next().unwrap_or("");
    if host.is_empty() || host.contains('@') || host.starts_with("//") {
        return Err(format!(
            "`{url}` needs a host (turn:HOST[:PORT][?transport=udp|tcp])"
        ));
    }
    if url.len() > 256 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("`{url}` is not a URL"));
    }
    if let Some(query) = rest.split_once('?').map(|(_, q)| q)
        && !matches!(query, "transport=udp" | "transport=tcp")
    {
        return Err(format!(
            "`{url}`: the only query is transport=udp or transport=tcp"
        ));
    }
    Ok(())
}

impl TurnConfig {
    /// True when participants get TURN servers.
    pub fn enabled(&self) -> bool {
        self.servers.is_some()
    }

    /// The TURN/STUN URLs handed to participants (empty when no TURN is set up).
    pub fn urls(&self) -> &[String] {
        self.servers.as_ref().map_or(&[], |s| s.urls.as_slice())
    }

    /// How long minted credentials last.
    pub fn ttl(&self) -> Option<Duration> {
        self.servers.as_ref().map(|s| s.ttl)
    }

    /// What production mode refuses here: an inline secret.
    pub fn production_problem(&self) -> Option<String> {
        self.servers.as_ref().filter(|s| s.inline).map(|_| {
            "an inline TURN secret (turn.shared_secret): set turn.shared_secret_file".into()
        })
    }

    /// The `iceServers` for participant `participant_id` at `now_unix` (seconds): empty when
    /// no TURN is set up.
    pub fn ice_servers(&self, participant_id: &str, now_unix: u64) -> Vec<IceServer> {
        let Some(s) = &self.servers else {
            return Vec::new();
        };
        let expiry = now_unix.saturating_add(s.ttl.as_secs());
        let username = format!("{expiry}:{participant_id}");
        let credential = rest_credential(&s.secret, &username);
        vec![IceServer {
            urls: s.urls.clone(),
            username,
            credential,
        }]
    }
}

/// `base64(HMAC-SHA1(secret, username))`: the TURN REST API password coturn recomputes.
pub fn rest_credential(secret: &[u8], username: &str) -> String {
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn raw(urls: &[&str], secret: Option<&str>) -> RawTurn {
        RawTurn {
            urls: Some(urls.iter().map(|u| u.to_string()).collect()),
            shared_secret: secret.map(str::to_owned),
            ..RawTurn::default()
        }
    }

    #[test]
    fn credential_matches_a_known_vector() {
        // Computed independently: printf %s '1700000600:par_abc' |
        //   openssl dgst -sha1 -hmac 0123456789abcdef0123456789abcdef -binary | base64
        assert_eq!(
            rest_credential(SECRET.as_bytes(), "1700000600:par_abc"),
            "ANj9vLeVBvA53Azouja2A4oI+fs="
        );
        // RFC 2202 test case 2 (HMAC-SHA1, key "Jefe"), base64 of effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
        assert_eq!(
            rest_credential(b"Jefe", "what do ya want for nothing?"),
            "7/zfauXrL6LSdBbV8YTfnCWafHk="
        );
    }

    #[test]
    fn minted_servers_carry_expiry_and_participant_id() {
        let c = raw(&["turn:198.18.0.1:3478?transport=tcp"], Some(SECRET))
            .validate()
            .unwrap();
        let s = c.ice_servers("par_abc", 1_700_000_000);
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].urls, ["turn:198.18.0.1:3478?transport=tcp"]);
        assert_eq!(s[0].username, "1700000600:par_abc");
        assert_eq!(s[0].credential, "ANj9vLeVBvA53Azouja2A4oI+fs=");
        let json = serde_json::to_value(&s[0]).unwrap();
        assert_eq!(json["credential"], "ANj9vLeVBvA53Azouja2A4oI+fs=");
        assert!(TurnConfig::default().ice_servers("p", 1).is_empty());
    }

    #[test]
    fn secrets_and_credentials_are_redacted_in_debug() {
        let r = raw(&["turn:h:3478"], Some(SECRET));
        assert!(!format!("{r:?}").contains(SECRET));
        let c = r.validate().unwrap();
        assert!(!format!("{c:?}").contains(SECRET));
        let s = c.ice_servers("par_abc", 1_700_000_000);
        assert!(!format!("{s:?}").contains(&s[0].credential));
    }

    #[test]
    fn refuses_bad_sections() {
        let e = |r: RawTurn| r.validate().unwrap_err().to_string();
        assert!(e(raw(&["turn:h:3478"], None)).contains("turn.shared_secret_file"));
        assert!(e(raw(&["turn:h:3478"], Some("short"))).contains("at least 32"));
        assert!(e(raw(&["http://h"], Some(SECRET))).contains("turn.urls"));
        assert!(e(raw(&["turn:"], Some(SECRET))).contains("needs a host"));
        assert!(e(raw(&["turn:h?transport=sctp"], Some(SECRET))).contains("transport"));
        assert!(e(raw(&[], Some(SECRET))).contains("turn.urls"));
        let mut both = raw(&["turn:h"], Some(SECRET));
        both.shared_secret_file = Some("/x".into());
        assert!(e(both).contains("not both"));
        let mut zero = raw(&["turn:h"], Some(SECRET));
        zero.ttl_secs = Some(0);
        assert!(e(zero).contains("turn.ttl_secs"));
        assert!(!RawTurn::default().validate().unwrap().enabled());
    }

    #[test]
    fn reads_the_secret_file_and_flags_inline_secrets_for_production() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("turn-secret");
        std::fs::write(&path, format!("{SECRET}\nignored\n")).unwrap();
        let from_file = RawTurn {
            urls: Some(vec!["turns:h:5349?transport=tcp".into()]),
            shared_secret_file: Some(path.clone()),
            ..RawTurn::default()
        }
        .validate()
        .unwrap();
        assert_eq!(from_file.production_problem(), None);
        assert_eq!(
            from_file.ice_servers("p", 0)[0].credential,
            rest_credential(SECRET.as_bytes(), "600:p")
        );
        std::fs::write(&path, "too short\n").unwrap();
        let short = RawTurn {
            urls: Some(vec!["turn:h".into()]),
            shared_secret_file: Some(path),
            ..RawTurn::default()
        };
        assert!(
            short
                .validate()
                .unwrap_err()
                .to_string()
                .contains("turn.shared_secret_file")
        );
        let missing = RawTurn {
            urls: Some(vec!["turn:h".into()]),
            shared_secret_file: Some(dir.path().join("absent")),
            ..RawTurn::default()
        };
        assert!(
            missing
                .validate()
                .unwrap_err()
                .to_string()
                .contains("cannot read")
        );
        let inline = raw(&["turn:h"], Some(SECRET)).validate().unwrap();
        assert!(inline.production_problem().is_some());
    }
}
