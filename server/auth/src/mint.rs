//! Minting access tokens: [`MintRequest`] in, signed compact JWT out.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand_core::{OsRng, RngCore};

use crate::claims::{Claims, Grants, Identity, Role, RoomName, TenantId};
use crate::error::{ConfigError, MintError};
use crate::keys::{ActiveKey, KeySet};

/// Lifetime of a token when the request names none: 10 minutes.
pub const DEFAULT_TTL: Duration = Duration::from_secs(600);
/// Default upper bound on a requested lifetime: 60 minutes.
pub const DEFAULT_MAX_TTL: Duration = Duration::from_secs(3600);

/// What the caller (a tenant's backend) asks for. Identifiers are validated by
/// [`Signer::mint`]; `grants: None` means the role's defaults ([`Role::default_grants`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintRequest {
    pub tenant: String,
    pub identity: String,
    pub room: String,
    pub role: Role,
    pub grants: Option<Grants>,
    /// `None` means [`SignerConfig::default_ttl`].
    pub ttl: Option<Duration>,
    /// The minting tenant API key's id, written as the `akid` claim. `None` only for tokens the
    /// gateway mints for itself (development tools), which production refuses.
    pub api_key_id: Option<String>,
}

/// Signer settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignerConfig {
    pub issuer: String,
    pub audience: String,
    pub default_ttl: Duration,
    pub max_ttl: Duration,
    /// Must be `true` for a key set whose active key is an HS256 secret (development only).
    pub allow_hs256: bool,
}

impl SignerConfig {
    /// Issuer and audience with the default lifetimes and HS256 refused.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        SignerConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            default_ttl: DEFAULT_TTL,
            max_ttl: DEFAULT_MAX_TTL,
            allow_hs256: false,
        }
    }
}

/// A freshly minted token and the claims in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MintedToken {
    pub token: String,
    pub claims: Claims,
}

/// Mints tokens with the key set's active key.
#[derive(Debug, Clone)]
pub struct Signer {
    config: SignerConfig,
    keys: Arc<KeySet>,
}

impl Signer {
    /// Refuses empty issuer/audience, `default_ttl > max_ttl`, and an HS256 active key
    /// unless `allow_hs256`.
    pub fn new(config: SignerConfig, keys: Arc<KeySet>) -> Result<Self, ConfigError> {
        if config.issuer.is_empty() {
            return Err(ConfigError::Empty("issuer"));
        }
        if config.audience.is_empty() {
            return Err(ConfigError::Empty("audience"));
        }
        if config.default_ttl > config.max_ttl || config.default_ttl.as_secs() == 0 {
            return Err(ConfigError::DefaultTtlAboveMax);
        }
        if matches!(keys.active(), ActiveKey::Hs256(_)) && !config.allow_hs256 {
            return Err(ConfigError::Hs256NotAllowed);
        }
        Ok(Signer { config, keys })
    }

    /// Mints a token valid from `now_unix` for the requested (or default) lifetime.
    pub fn mint(&self, req: MintRequest, now_unix: u64) -> Result<MintedToken, MintError> {
        let tenant = TenantId::parse(req.tenant)?;
        let sub = Identity::parse(req.identity)?;
        let room = RoomName::parse(req.room)?;
        let ttl = req.ttl.unwrap_or(self.config.default_ttl);
        if ttl > self.config.max_ttl {
            return Err(MintError::TtlTooLong {
                requested_secs: ttl.as_secs(),
                max_secs: self.config.max_ttl.as_secs(),
            });
        }
        if ttl.as_secs() == 0 {
            return Err(MintError::TtlZero);
        }
        if req
            .api_key_id
            .as_deref()
            .is_some_and(|id| !crate::claims::valid_api_key_id(id))
        {
            return Err(MintError::ApiKeyId);
        }
        let claims = Claims {
            iss: self.config.issuer.clone(),
            aud: self.config.audience.clone(),
            sub,
            tenant,
            room,
            role: req.role,
            grants: req.grants.unwrap_or_else(|| req.role.default_grants()),
            exp: now_unix.saturating_add(ttl.as_secs()),
            nbf: now_unix,
            iat: now_unix,
            jti: new_jti(),
            akid: req.api_key_id,
        };
        let token = self.keys.sign(&claims).map_err(|_| MintError::Signing)?;
        Ok(MintedToken { token, claims })
    }

    /// [`Signer::mint`] at the system clock's current time.
    pub fn mint_now(&self, req: MintRequest) -> Result<MintedToken, MintError> {
        self.mint(req, crate::unix_now())
    }
}

/// 128 random bits from the OS, base64url.
fn new_jti() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
