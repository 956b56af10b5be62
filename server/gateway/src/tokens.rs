//! Participant access tokens at the gateway: the key set, the signer and the one validator,
//! built from configuration once at start-up (hushpay-auth does the cryptography).

use std::path::Path;
use std::sync::Arc;

use hushpay_auth::keyfile::{self, KeyFileOutcome};
use hushpay_auth::{
    Hs256Secret, KeyOrigin, KeySet, Signer, SignerConfig, SigningKey, Validator, ValidatorConfig,
};
use thiserror::Error;

use crate::config::{Algorithm, Config, Mode};

#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TokensError {
    #[error("signing key {path}: {source}")]
    Key {
        path: String,
        source: hushpay_auth::KeyError,
    },
    #[error("cannot create key directory {path}: {source}")]
    KeyDir {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Config(#[from] hushpay_auth::ConfigError),
}

/// Everything the gateway needs to mint and check participant tokens.
#[derive(Debug)]
pub struct Tokens {
    pub keys: Arc<KeySet>,
    pub signer: Signer,
    pub validator: Validator,
    /// True when a development key was generated during this start.
    pub generated_development_key: bool,
    /// Refuse tokens without an `akid` claim (production mode; see [`crate::token_auth`]).
    pub require_api_key_claim: bool,
    /// API keys revoked on this node, announced to its signalling sessions.
    pub(crate) revocations: tokio::sync::broadcast::Sender<String>,
}

impl Tokens {
    /// Loads (or, in development mode, generates) the signing key and builds signer and
    /// validator. Production refuses development keys and HS256 here too.
    pub fn from_config(config: &Config) -> Result<Self, TokensError> {
        let auth = &config.auth;
        let (keys, generated) = match auth.algorithm {
            Algorithm::HS256 => {
                let secret = auth.hs256_secret.as_deref().unwrap_or_default();
                let secret =
                    Hs256Secret::new(secret.as_bytes()).map_err(|source| TokensError::Key {
                        path: "auth.hs256_secret".into(),
                        source,
                    })?;
                (KeySet::new_hs256_development(secret), false)
            }
            Algorithm::EdDSA => {
                let (key, generated) = signing_key(config, &auth.signing_key_file)?;
                (KeySet::new(key), generated)
            }
        };
        if config.mode == Mode::Production {
            keys.ensure_production_ready()?;
        }
        let keys = Arc::new(keys);
        let signer_config = SignerConfig {
            default_ttl: auth.default_ttl,
            max_ttl: auth.max_ttl,
            ..SignerConfig::new(&auth.issuer, &auth.audience)
        };
        let validator_config = ValidatorConfig {
            leeway_secs: auth.leeway_secs,
            allow_hs256: auth.algorithm == Algorithm::HS256 && config.mode == Mode::Development,
            ..ValidatorConfig::new(&auth.issuer, &auth.audience)
        };
        Ok(Self {
            signer: Signer::new(signer_config, Arc::clone(&keys))?,
            validator: Validator::new(validator_config, Arc::clone(&keys))?,
            keys,
            generated_development_key: generated,
            require_api_key_claim: config.mode == Mode::Production,
            revocations: tokio::sync::broadcast::channel(64).0,
        })
    }
}

fn signing_key(config: &Config, path: &Path) -> Result<(SigningKey, bool), TokensError> {
    let key_err = |source| TokensError::Key {
        path: path.display().to_string(),
        source,
    };
    if config.mode == Mode::Production || config.auth.signing_key_configured {
        // An operator-provided key is never generated for them.
        let pem =
            std::fs::read_to_string(path).map_err(|e| key_err(hushpay_auth::KeyError::Io(e)))?;
        let pem = zeroize::Zeroizing::new(pem);
        let origin = match config.mode {
            Mode::Production => KeyOrigin::Production,
            Mode::Development => KeyOrigin::Development,
        };
        return Ok((
            SigningKey::from_pkcs8_pem(&pem, origin).map_err(key_err)?,
            false,
        ));
    }
    if let Some(dir) = path.parent() {
        create_private_dir(dir).map_err(|source| TokensError::KeyDir {
            path: dir.display().to_string(),
            source,
        })?;
    }
    let (key, outcome) =
        keyfile::load_or_generate(path, KeyOrigin::Development).map_err(key_err)?;
    Ok((key, outcome == KeyFileOutcome::Generated))
}

/// Creates `dir` (and parents) readable by the owner only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}
