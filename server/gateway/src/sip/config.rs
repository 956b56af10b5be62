//! `[sip]` configuration: SIP trunk ingress, off unless `listen` is set.
//!
//! ```toml
//! [sip]
//! listen = "0.0.0.0:5060"        # UDP and TCP on this port; absent: no SIP ingress
//! tls_listen = "0.0.0.0:5061"    # SIP over TLS too (optional; both files required)
//! tls_cert_file = "/etc/hushpay/sip-cert.pem"   # PEM chain, leaf first
//! tls_key_file = "/etc/hushpay/sip-key.pem"     # PEM private key
//! advertise = "198.51.100.1"     # our address in Contact and SDP (default: the listen IP,
//!                                # which must then be a specific address)
//! rtp_bind = "0.0.0.0"           # where the per-call RTP sockets bind (default: listen IP)
//! realm = "hushpay"              # digest realm
//! max_calls = 256                # calls alive at once, all trunks
//! max_message_bytes = 16384
//!
//! [[sip.trunks]]
//! name = "carrier"
//! tenant = "acme"
//! sources = ["192.0.2.0/24"]     # allowlist (CIDRs); empty: any source, digest required
//! max_calls = 32
//! [sip.trunks.digest]            # optional: challenge this trunk (401), MD5 and/or SHA-256
//! username = "carrier"
//! password = "..."
//! algorithms = ["SHA-256", "MD5"]
//!
//! [[sip.dispatch]]
//! tenant = "acme"
//! called = "+441234567"          # the Request-URI's user part, exactly (optional)
//! header = { name = "X-Queue", value = "billing" }   # optional
//! room = "rm_..."                # absent: a new room per call
//!
//! [[sip.dispatch]]                 # a third-party IVR hands callers over for payments:
//! tenant = "acme"                  # INVITE sip:<payment id>@... (the payment's `sip_uri`)
//! payments = true                  # answered only for an open `channel: "sip"` payment
//! ```

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use hushpay_sip::dispatch::{DispatchRule, RoomTarget};
use hushpay_sip::trunk::{DigestAlgorithm, DigestCredentials, Trunk};
use hushpay_sip::{Limits, SipConfig};
use serde::Deserialize;

use crate::config::ConfigError;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSip {
    pub listen: Option<SocketAddr>,
    pub advertise: Option<IpAddr>,
    pub rtp_bind: Option<IpAddr>,
    pub realm: Option<String>,
    pub max_calls: Option<usize>,
    pub max_message_bytes: Option<usize>,
    pub tls_listen: Option<SocketAddr>,
    pub tls_cert_file: Option<PathBuf>,
    pub tls_key_file: Option<PathBuf>,
    #[serde(default)]
    pub trunks: Vec<RawTrunk>,
    #[serde(default)]
    pub dispatch: Vec<RawRule>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrunk {
    pub name: String,
    pub tenant: String,
    #[serde(default)]
    pub sources: Vec<String>,
    pub max_calls: Option<usize>,
    pub digest: Option<RawDigest>,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDigest {
    pub username: String,
    pub password: String,
    pub algorithms: Option<Vec<String>>,
}

impl std::fmt::Debug for RawDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawDigest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub tenant: String,
    pub called: Option<String>,
    pub header: Option<RawHeaderMatch>,
    pub room: Option<String>,
    /// The called user names a hand-off payment (`room` must then be absent).
    #[serde(default)]
    pub payments: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHeaderMatch {
    pub name: String,
    pub value: String,
}

/// The validated `[sip]` section.
#[derive(Debug, Clone)]
pub struct SipSettings {
    pub listen: SocketAddr,
    pub advertise: IpAddr,
    pub rtp_bind: IpAddr,
    pub endpoint: SipConfig,
    /// SIP over TLS, when configured.
    pub tls: Option<SipTls>,
}

/// `[sip] tls_*`: where SIP over TLS listens and its certificate (read at start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipTls {
    pub listen: SocketAddr,
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

impl RawSip {
    /// `None` when `listen` is absent (SIP ingress off).
    pub fn validate(self) -> Result<Option<SipSettings>, ConfigError> {
        let Some(listen) = self.listen else {
            if !self.trunks.is_empty() || !self.dispatch.is_empty() {
                return Err(invalid(
                    "sip.listen",
                    "trunks are configured but no listen address",
                ));
            }
            return Ok(None);
        };
        let advertise = match self.advertise {
            Some(a) if !a.is_unspecified() => a,
            Some(_) => return Err(invalid("sip.advertise", "must be a specific address")),
            None if !listen.ip().is_unspecified() => listen.ip(),
            None => {
                return Err(invalid(
                    "sip.advertise",
                    "required when sip.listen is a wildcard address (it goes in Contact and SDP)",
                ));
            }
        };
        if self.trunks.is_empty() {
            return Err(invalid(
                "sip.trunks",
                "SIP ingress needs at least one trunk",
            ));
        }
        let trunks = self
            .trunks
            .into_iter()
            .map(trunk)
            .collect::<Result<Vec<_>, _>>()?;
        if self.dispatch.iter().any(|r| r.payments && r.room.is_some()) {
            return Err(invalid(
                "sip.dispatch",
                "a rule sends calls to hand-off payments (`payments = true`) or to a `room`, not both",
            ));
        }
        let rules = self
            .dispatch
            .into_iter()
            .map(|r| DispatchRule {
                tenant: r.tenant,
                called: r.called,
                header: r.header.map(|h| (h.name, h.value)),
                room: match (r.payments, r.room) {
                    (true, _) => RoomTarget::Payment,
                    (false, Some(room)) => RoomTarget::Room(room),
                    (false, None) => RoomTarget::NewPerCall,
                },
            })
            .collect();
        let mut limits = Limits::default();
        if let Some(n) = self.max_calls {
            limits.max_calls = n;
        }
        if let Some(n) = self.max_message_bytes {
            if !(1024..=65_535).contains(&n) {
                return Err(invalid("sip.max_message_bytes", "between 1024 and 65535"));
            }
            limits.max_message_bytes = n;
        }
        let tls = match (self.tls_listen, self.tls_cert_file, self.tls_key_file) {
            (Some(listen), Some(cert_file), Some(key_file)) => Some(SipTls {
                listen,
                cert_file,
                key_file,
            }),
            (None, None, None) => None,
            _ => {
                return Err(invalid(
                    "sip.tls_listen",
                    "SIP over TLS needs tls_listen, tls_cert_file and tls_key_file together",
                ));
            }
        };
        let realm = self.realm.unwrap_or_else(|| "hushpay".into());
        let endpoint = SipConfig::new(trunks, rules, limits, realm)
            .map_err(|e| invalid("sip", e.to_string()))?;
        Ok(Some(SipSettings {
            listen,
            advertise,
            rtp_bind: self.rtp_bind.unwrap_or(listen.ip()),
            endpoint,
            tls,
        }))
    }
}

fn trunk(raw: RawTrunk) -> Result<Trunk, ConfigError> {
    let sources = raw
        .sources
        .iter()
        .map(|s| s.parse())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e: hushpay_sip::SipError| invalid("sip.trunks.sources", e.to_string()))?;
    let digest = match raw.digest {
        None => None,
        Some(d) => Some(DigestCredentials {
            username: d.username,
            password: d.password,
            algorithms: d
                .algorithms
                .unwrap_or_else(|| vec!["SHA-256".into(), "MD5".into()])
                .iter()
                .map(|a| a.parse::<DigestAlgorithm>())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid("sip.trunks.digest.algorithms", e.to_string()))?,
        }),
    };
    Ok(Trunk {
        name: raw.name,
        tenant: raw.tenant,
        sources,
        digest,
        max_calls: raw.max_calls.unwrap_or(32),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn parse(text: &str) -> Result<Option<SipSettings>, ConfigError> {
        #[derive(Deserialize)]
        struct W {
            #[serde(default)]
            sip: RawSip,
        }
        toml::from_str::<W>(text).unwrap().sip.validate()
    }

    #[test]
    fn off_by_default_and_validated_when_on() {
        assert!(parse("").unwrap().is_none());
        assert!(parse("[[sip.trunks]]\nname='a'\ntenant='t'\nsources=['10.0.0.0/8']").is_err());
        let s = parse(
            "[sip]\nlisten='127.0.0.1:5060'\n[[sip.trunks]]\nname='a'\ntenant='t'\nsources=['10.0.0.0/8']\n[[sip.dispatch]]\ntenant='t'\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.advertise, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert!(parse("[sip]\nlisten='0.0.0.0:5060'\n[[sip.trunks]]\nname='a'\ntenant='t'\nsources=['10.0.0.0/8']").is_err());
        assert!(
            parse("[sip]\nlisten='127.0.0.1:5060'\n[[sip.trunks]]\nname='a'\ntenant='t'").is_err(),
            "no way to authorise"
        );
        assert!(parse("[sip]\nlisten='127.0.0.1:5060'\n[[sip.trunks]]\nname='a'\ntenant='t'\nsources=['10.0.0.0/99']").is_err());
        assert!(parse("[sip]\nlisten='127.0.0.1:5060'\n[[sip.trunks]]\nname='a'\ntenant='t'\n[sip.trunks.digest]\nusername='u'\npassword='p'\nalgorithms=['SHA-1']").is_err());
        assert!(parse("[sip]\nlisten='127.0.0.1:5060'\n[[sip.trunks]]\nname='a'\ntenant='t'\nsources=['10.0.0.0/8']\n[[sip.dispatch]]\ntenant='other'\n").is_err());
    }
}
