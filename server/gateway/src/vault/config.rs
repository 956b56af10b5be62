//! `[vault]` configuration: where the key-encryption key and the HPKE key pair come from.
//!
//! ```toml
//! [vault]
//! kek_file = "/etc/hushpay/kek"   # 64 hex digits or base64 of 32 bytes
//! # or: HUSHPAY__VAULT__KEK=<hex> in the environment
//! hpke_key_file = "/etc/hushpay/vault-hpke.key"
//! rewrap_interval_secs = 300   # background rewrap of tokens under retired key versions
//! sad_ttl_secs = 300           # a CVC waits at most this long for its authorization
//! ```
//!
//! In development both are generated under `<data_dir>/keys/` on first start (with a
//! warning); production refuses generated keys.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use zeroize::Zeroizing;

use crate::config_error::ConfigError;

/// Default period of the background rewrap.
pub const DEFAULT_REWRAP_INTERVAL_SECS: u64 = 300;

/// `[vault]` as written.
#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVault {
    /// The KEK itself (hex or base64); meant for the environment variable.
    pub kek: Option<String>,
    /// A file holding the KEK.
    pub kek_file: Option<PathBuf>,
    /// A file holding the vault's HPKE X25519 secret key (hex).
    pub hpke_key_file: Option<PathBuf>,
    /// How often the background rewrap looks for tokens under retired key versions.
    pub rewrap_interval_secs: Option<u64>,
    /// How long a CVC may wait in memory for its authorization (PCI DSS 3.3.1).
    pub sad_ttl_secs: Option<u64>,
}

impl std::fmt::Debug for RawVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawVault")
            .field("kek", &self.kek.as_ref().map(|_| "<redacted>"))
            .field("kek_file", &self.kek_file)
            .field("hpke_key_file", &self.hpke_key_file)
            .field("rewrap_interval_secs", &self.rewrap_interval_secs)
            .field("sad_ttl_secs", &self.sad_ttl_secs)
            .finish()
    }
}

/// Where the KEK comes from.
#[derive(Clone)]
pub enum KekSource {
    /// Given inline (environment).
    Inline(Zeroizing<String>),
    /// Read from an operator-managed file.
    File(PathBuf),
    /// Generated in development at this path.
    Generated(PathBuf),
}

impl std::fmt::Debug for KekSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KekSource::Inline(_) => f.write_str("Inline(<redacted>)"),
            KekSource::File(p) => write!(f, "File({})", p.display()),
            KekSource::Generated(p) => write!(f, "Generated({})", p.display()),
        }
    }
}

/// The validated `[vault]` section.
#[derive(Debug, Clone)]
pub struct VaultConfig {
    pub kek: KekSource,
    pub hpke_key_file: PathBuf,
    /// True when the HPKE key file was chosen by the operator.
    pub hpke_key_configured: bool,
    /// Period of the background rewrap ([`crate::vault::rewrap`]).
    pub rewrap_interval: std::time::Duration,
    /// Lifetime of a CVC held for its authorization; expired ones are purged on a timer
    /// ([`crate::vault::sad_purge`]).
    pub sad_ttl: std::time::Duration,
}

impl RawVault {
    /// Checks the section and derives development defaults.
    pub fn validate(self, data_dir: &Path) -> Result<VaultConfig, ConfigError> {
        let kek = match (self.kek, self.kek_file) {
            (Some(_), Some(_)) => {
                return Err(ConfigError::Invalid {
                    key: "vault.kek",
                    reason: "set vault.kek or vault.kek_file, not both".into(),
                });
            }
            (Some(inline), None) => {
                let inline = Zeroizing::new(inline);
                hushpay_vault::Kek::parse(&inline).map_err(|_| ConfigError::Invalid {
                    key: "vault.kek",
                    reason: "must be 64 hex digits or base64 of 32 bytes".into(),
                })?;
                KekSource::Inline(inline)
            }
            (None, Some(file)) => KekSource::File(file),
            (None, None) => KekSource::Generated(data_dir.join("keys").join("dev-vault-kek")),
        };
        let hpke_key_configured = self.hpke_key_file.is_some();
        let rewrap = self
            .rewrap_interval_secs
            .unwrap_or(DEFAULT_REWRAP_INTERVAL_SECS);
        if !(1..=86_400).contains(&rewrap) {
            return Err(ConfigError::Invalid {
                key: "vault.rewrap_interval_secs",
                reason: "1 to 86400 seconds".into(),
            });
        }
        let sad_ttl = self
            .sad_ttl_secs
            .unwrap_or(hushpay_vault::sad::DEFAULT_SAD_TTL.as_secs());
        if !(1..=900).contains(&sad_ttl) {
            return Err(ConfigError::Invalid {
                key: "vault.sad_ttl_secs",
                reason: "1 to 900 seconds (a CVC lives minutes at most)".into(),
            });
        }
        Ok(VaultConfig {
            rewrap_interval: std::time::Duration::from_secs(rewrap),
            sad_ttl: std::time::Duration::from_secs(sad_ttl),
            kek,
            hpke_key_file: self
                .hpke_key_file
                .unwrap_or_else(|| data_dir.join("keys").join("dev-vault-hpke.key")),
            hpke_key_configured,
        })
    }
}

impl VaultConfig {
    /// Why this configuration is not fit for production, if it is not.
    pub fn production_problem(&self) -> Option<String> {
        if matches!(self.kek, KekSource::Generated(_)) {
            return Some("a generated development KEK: set vault.kek_file or vault.kek".into());
        }
        if !self.hpke_key_configured {
            return Some("a generated development HPKE key: set vault.hpke_key_file".into());
        }
        None
    }
}
