//! The one token validator every endpoint uses.

use std::sync::Arc;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{DecodingKey, Validation};

use crate::claims::Claims;
use crate::error::{AuthError, ConfigError};
use crate::keys::{KeySet, VerifyKey};
use crate::precheck;

/// Largest leeway a validator accepts, in seconds.
pub const MAX_LEEWAY_SECS: u64 = 5;
/// Default size cap for a token, in bytes.
pub const DEFAULT_MAX_TOKEN_LEN: usize = 4096;

/// Default cap on `exp - iat` accepted by a validator: one day.
pub const DEFAULT_MAX_LIFETIME_SECS: u64 = 86_400;

/// Validator settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatorConfig {
    /// The only accepted `iss`.
    pub issuer: String,
    /// The only accepted `aud`.
    pub audience: String,
    /// Clock-skew allowance for `exp`, `nbf` and `iat`; at most [`MAX_LEEWAY_SECS`].
    pub leeway_secs: u64,
    /// Accept HS256 tokens (development only). EdDSA is always on the allowlist.
    pub allow_hs256: bool,
    /// Tokens longer than this are refused before any decoding (512..=16384).
    pub max_token_len: usize,
    /// A token whose `exp - iat` exceeds this is refused (`claim_invalid`), whoever minted
    /// it: access tokens live minutes, not years. Default one day.
    pub max_lifetime_secs: u64,
}

impl ValidatorConfig {
    /// Issuer and audience, 5 s leeway, 4 KiB cap, HS256 refused.
    pub fn new(issuer: impl Into<String>, audience: impl Into<String>) -> Self {
        ValidatorConfig {
            issuer: issuer.into(),
            audience: audience.into(),
            leeway_secs: MAX_LEEWAY_SECS,
            allow_hs256: false,
            max_token_len: DEFAULT_MAX_TOKEN_LEN,
            max_lifetime_secs: DEFAULT_MAX_LIFETIME_SECS,
        }
    }
}

/// What the endpoint expects of the token besides validity. `tenant: None` skips the tenant
/// binding: use it only where the endpoint learns the tenant from the token itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expectation<'a> {
    pub tenant: Option<&'a str>,
    pub room: Option<&'a str>,
}

impl<'a> Expectation<'a> {
    /// The token must belong to `tenant` (else [`AuthError::WrongTenant`]).
    pub fn tenant(tenant: &'a str) -> Self {
        Expectation {
            tenant: Some(tenant),
            room: None,
        }
    }

    /// Any tenant (the caller reads it from the returned claims).
    pub fn any_tenant() -> Self {
        Expectation::default()
    }

    /// The token must also be for `room` (else [`AuthError::WrongRoom`]).
    pub fn with_room(mut self, room: &'a str) -> Self {
        self.room = Some(room);
        self
    }
}

/// Validates access tokens. Cheap to clone (the key set is shared).
#[derive(Debug, Clone)]
pub struct Validator {
    config: ValidatorConfig,
    keys: Arc<KeySet>,
}

impl Validator {
    /// Refuses a leeway above [`MAX_LEEWAY_SECS`], an empty issuer or audience, and a size cap
    /// outside 512..=16384.
    pub fn new(config: ValidatorConfig, keys: Arc<KeySet>) -> Result<Self, ConfigError> {
        if config.leeway_secs > MAX_LEEWAY_SECS {
            return Err(ConfigError::LeewayTooLarge(config.leeway_secs));
        }
        if config.issuer.is_empty() {
            return Err(ConfigError::Empty("issuer"));
        }
        if config.audience.is_empty() {
            return Err(ConfigError::Empty("audience"));
        }
        if !(512..=16384).contains(&config.max_token_len) {
            return Err(ConfigError::SizeCap);
        }
        Ok(Validator { config, keys })
    }

    pub fn config(&self) -> &ValidatorConfig {
        &self.config
    }

    /// Validates `token` at `now_unix` (seconds). Order: size cap, segments, header by hand
    /// (allowlist, forbidden parameters, `kid`), payload depth and claim types by hand,
    /// signature plus `aud`/`iss` by jsonwebtoken, then time, issuer, audience, tenant and
    /// room checked here again without the library.
    pub fn validate(
        &self,
        token: &str,
        now_unix: u64,
        expected: Expectation<'_>,
    ) -> Result<Claims, AuthError> {
        let max = self.config.max_token_len;
        if token.len() > max {
            return Err(AuthError::TokenTooLarge {
                len: token.len(),
                max,
            });
        }
        let [header_b64, payload_b64, signature_b64] = precheck::split(token)?;
        let header = precheck::decode_object(header_b64, "header is not base64url JSON")?;
        let checked = precheck::check_header(&header, self.config.allow_hs256)?;
        let key = self
            .keys
            .lookup(checked.kid)
            .ok_or(AuthError::KeyIdUnknown)?;
        if key.algorithm() != checked.alg {
            return Err(AuthError::AlgorithmNotAllowed);
        }
        let payload = precheck::decode_object(payload_b64, "payload is not base64url JSON")?;
        let signature = precheck::decode_segment(signature_b64, "signature is not base64url")?;
        let signature_len = match key {
            VerifyKey::Ed25519(_) => 64,
            VerifyKey::Hs256(_) => 32,
        };
        if signature.len() != signature_len {
            return Err(AuthError::SignatureInvalid);
        }
        let claims = precheck::typed_claims(&payload)?;
        self.verify_with_library(token, key)?;
        self.check_claims(&claims, now_unix)?;
        check_expectation(&claims, expected)?;
        Ok(claims)
    }

    /// [`Validator::validate`] at the system clock's current time.
    pub fn validate_now(
        &self,
        token: &str,
        expected: Expectation<'_>,
    ) -> Result<Claims, AuthError> {
        self.validate(token, crate::unix_now(), expected)
    }

    /// Signature, `exp`/`aud`/`iss` presence, `aud` and `iss` values. The library's own
    /// clock checks are off: time is our parameter, checked in [`Self::check_claims`].
    fn verify_with_library(&self, token: &str, key: VerifyKey<'_>) -> Result<(), AuthError> {
        let mut validation = Validation::new(key.algorithm());
        validation.set_required_spec_claims(&["exp", "aud", "iss"]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_issuer(&[&self.config.issuer]);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        let hs_key: DecodingKey;
        let decoding = match key {
            VerifyKey::Ed25519(public) => public.decoding_key(),
            VerifyKey::Hs256(secret) => {
                hs_key = secret.decoding_key();
                &hs_key
            }
        };
        jsonwebtoken::decode::<serde_json::Value>(token, decoding, &validation)
            .map(|_| ())
            .map_err(|e| map_library_error(e.kind()))
    }

    fn check_claims(&self, claims: &Claims, now: u64) -> Result<(), AuthError> {
        let leeway = self.config.leeway_secs;
        if claims.iss != self.config.issuer {
            return Err(AuthError::WrongIssuer);
        }
        if claims.aud != self.config.audience {
            return Err(AuthError::WrongAudience);
        }
        if claims.exp > claims.iat.saturating_add(self.config.max_lifetime_secs) {
            return Err(AuthError::ClaimInvalid("exp"));
        }
        if now >= claims.exp.saturating_add(leeway) {
            return Err(AuthError::Expired);
        }
        if claims.nbf > now.saturating_add(leeway) || claims.iat > now.saturating_add(leeway) {
            return Err(AuthError::NotYetValid);
        }
        Ok(())
    }
}

fn check_expectation(claims: &Claims, expected: Expectation<'_>) -> Result<(), AuthError> {
    if let Some(tenant) = expected.tenant
        && claims.tenant.as_str() != tenant
    {
        return Err(AuthError::WrongTenant);
    }
    if let Some(room) = expected.room
        && claims.room.as_str() != room
    {
        return Err(AuthError::WrongRoom);
    }
    Ok(())
}

fn map_library_error(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::SignatureInvalid,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => AuthError::AlgorithmNotAllowed,
        ErrorKind::MissingRequiredClaim(name) => AuthError::ClaimMissing(match name.as_str() {
            "exp" => "exp",
            "aud" => "aud",
            "iss" => "iss",
            _ => "claim",
        }),
        ErrorKind::InvalidClaimFormat(_) => AuthError::ClaimInvalid("claim"),
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        _ => AuthError::Invalid,
    }
}
