//! The validated configuration of the SIP ingress: trunks, dispatch rules, limits, realm.
//!
//! Built once at start-up ([`SipConfig::new`] validates); the gateway parses its `[sip]` TOML
//! section into the raw pieces and calls it.

use crate::SipError;
use crate::dispatch::DispatchRule;
use crate::trunk::Trunk;

/// Limits on what a peer may make the endpoint hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest message accepted, in bytes (UDP datagram or framed TCP message).
    pub max_message_bytes: usize,
    /// Most header lines in one message.
    pub max_headers: usize,
    /// Most calls alive at once, over all trunks (each trunk has its own limit too).
    pub max_calls: usize,
    /// Most digest nonces outstanding (the oldest is forgotten beyond).
    pub max_nonces: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 16 * 1024,
            max_headers: 64,
            max_calls: 256,
            max_nonces: 4096,
        }
    }
}

/// The SIP ingress configuration, validated.
#[derive(Debug, Clone)]
pub struct SipConfig {
    pub(crate) trunks: Vec<Trunk>,
    pub(crate) rules: Vec<DispatchRule>,
    pub(crate) limits: Limits,
    pub(crate) realm: String,
    pub(crate) server_name: String,
}

impl SipConfig {
    /// Validates trunks (unique names, each authorised somehow) and rules (each names the tenant
    /// of at least one trunk; a rule no trunk can reach is a configuration mistake).
    pub fn new(
        trunks: Vec<Trunk>,
        rules: Vec<DispatchRule>,
        limits: Limits,
        realm: impl Into<String>,
    ) -> Result<Self, SipError> {
        let realm = realm.into();
        if realm.is_empty() || realm.contains(['"', '\\', '\r', '\n']) {
            return Err(SipError::Config(
                "realm must be non-empty plain text".into(),
            ));
        }
        for (i, t) in trunks.iter().enumerate() {
            if trunks[..i].iter().any(|o| o.name == t.name) {
                return Err(SipError::Config(format!("trunk {} defined twice", t.name)));
            }
            t.validate()?;
        }
        for r in &rules {
            if !trunks.iter().any(|t| t.tenant == r.tenant) {
                return Err(SipError::Config(format!(
                    "dispatch rule for tenant {} but no trunk of that tenant",
                    r.tenant
                )));
            }
        }
        if limits.max_message_bytes < 1024 || limits.max_headers < 8 || limits.max_nonces == 0 {
            return Err(SipError::Config("limits too small to carry a call".into()));
        }
        Ok(SipConfig {
            trunks,
            rules,
            limits,
            realm,
            server_name: "hushpay".into(),
        })
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn trunks(&self) -> &[Trunk] {
        &self.trunks
    }
}
