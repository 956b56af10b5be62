//! Typed errors. Every variant has a stable machine code ([`AuthError::code`]); no message
//! ever contains the token, a claim value taken from it, or key material.

use thiserror::Error;

/// Why a token was refused by [`crate::Validator::validate`].
///
/// The gateway maps [`AuthError::WrongTenant`] and [`AuthError::WrongRoom`] to HTTP 403
/// (the caller proved who they are, but not for this tenant or room) and everything else to
/// 401; [`AuthError::http_status`] does exactly that.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The token is longer than the validator's size cap.
    #[error("token is too large ({len} bytes, at most {max})")]
    TokenTooLarge { len: usize, max: usize },
    /// Not a compact JWS: wrong segment count, bad base64url, a header or payload that is not
    /// a JSON object.
    #[error("token is malformed: {0}")]
    Malformed(&'static str),
    /// The header or payload JSON nests deeper than the limit.
    #[error("token JSON nests too deeply (limit {max})")]
    NestingTooDeep { max: usize },
    /// `alg` missing, not a string, or not on the allowlist (this covers `none` in any casing,
    /// HS256 while HS256 is disabled, and an `alg` that does not match the key named by `kid`).
    #[error("signing algorithm is not allowed")]
    AlgorithmNotAllowed,
    /// The header has no `kid`.
    #[error("token header has no key id")]
    KeyIdMissing,
    /// The `kid` names no key in the key set.
    #[error("token key id is unknown")]
    KeyIdUnknown,
    /// The header carries a parameter we never accept (`jku`, `x5u`, `jwk`, `x5c`, `crit`, ...)
    /// or a `typ` other than `JWT`.
    #[error("token header parameter `{0}` is not accepted")]
    HeaderForbidden(&'static str),
    /// The signature does not verify with the key named by `kid`.
    #[error("token signature is invalid")]
    SignatureInvalid,
    /// A required claim is absent.
    #[error("required claim `{0}` is missing")]
    ClaimMissing(&'static str),
    /// A claim has the wrong JSON type or an invalid value (e.g. `exp` as a string or float,
    /// a role outside the enum, an identity with forbidden characters).
    #[error("claim `{0}` is invalid")]
    ClaimInvalid(&'static str),
    /// `exp` (plus leeway) has passed.
    #[error("token has expired")]
    Expired,
    /// `nbf` or `iat` is in the future (beyond leeway).
    #[error("token is not yet valid")]
    NotYetValid,
    /// `aud` is not ours.
    #[error("token audience is not accepted")]
    WrongAudience,
    /// `iss` is not ours.
    #[error("token issuer is not accepted")]
    WrongIssuer,
    /// A valid token, but for another tenant than the one this request is for (HTTP 403).
    #[error("token belongs to another tenant")]
    WrongTenant,
    /// A valid token, but for another room than the one this request is for (HTTP 403).
    #[error("token belongs to another room")]
    WrongRoom,
    /// Any other refusal by the JWT library (kept generic on purpose).
    #[error("token is invalid")]
    Invalid,
}

impl AuthError {
    /// Stable machine code, for JSON error bodies and metrics labels.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::TokenTooLarge { .. } => "token_too_large",
            AuthError::Malformed(_) => "token_malformed",
            AuthError::NestingTooDeep { .. } => "token_too_deep",
            AuthError::AlgorithmNotAllowed => "algorithm_not_allowed",
            AuthError::KeyIdMissing => "kid_missing",
            AuthError::KeyIdUnknown => "kid_unknown",
            AuthError::HeaderForbidden(_) => "header_forbidden",
            AuthError::SignatureInvalid => "signature_invalid",
            AuthError::ClaimMissing(_) => "claim_missing",
            AuthError::ClaimInvalid(_) => "claim_invalid",
            AuthError::Expired => "token_expired",
            AuthError::NotYetValid => "token_not_yet_valid",
            AuthError::WrongAudience => "wrong_audience",
            AuthError::WrongIssuer => "wrong_issuer",
            AuthError::WrongTenant => "wrong_tenant",
            AuthError::WrongRoom => "wrong_room",
            AuthError::Invalid => "token_invalid",
        }
    }

    /// The HTTP status the gateway should answer with: 403 for a valid token used on the wrong
    /// tenant or room, 401 for everything else.
    pub fn http_status(&self) -> u16 {
        match self {
            AuthError::WrongTenant | AuthError::WrongRoom => 403,
            _ => 401,
        }
    }
}

/// An identity, room or tenant name that is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum IdentifierError {
    #[error("{field} is empty")]
    Empty { field: &'static str },
    #[error("{field} is longer than {max} bytes")]
    TooLong { field: &'static str, max: usize },
    #[error("{field} contains a character outside [A-Za-z0-9._:@-]")]
    BadCharacter { field: &'static str },
}

impl IdentifierError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            IdentifierError::Empty { .. } => "identifier_empty",
            IdentifierError::TooLong { .. } => "identifier_too_long",
            IdentifierError::BadCharacter { .. } => "identifier_bad_character",
        }
    }
}

/// Why a token could not be minted. All of these are the caller's fault (HTTP 400) except
/// [`MintError::Signing`] (500).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum MintError {
    #[error(transparent)]
    Identifier(#[from] IdentifierError),
    #[error("requested lifetime {requested_secs} s exceeds the maximum of {max_secs} s")]
    TtlTooLong { requested_secs: u64, max_secs: u64 },
    #[error("requested lifetime must be at least one second")]
    TtlZero,
    #[error("the API key id must be 1 to 64 characters of A-Z, a-z, 0-9 and '_'")]
    ApiKeyId,
    #[error("signing failed")]
    Signing,
}

impl MintError {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            MintError::Identifier(e) => e.code(),
            MintError::TtlTooLong { .. } => "ttl_too_long",
            MintError::TtlZero => "ttl_zero",
            MintError::ApiKeyId => "api_key_id_invalid",
            MintError::Signing => "signing_failed",
        }
    }
}

/// Key loading, generation and key-set errors.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("key is not a valid Ed25519 PKCS#8 PEM")]
    InvalidPem,
    #[error("could not encode key as PEM")]
    Encode,
    #[error("HS256 secret must be at least {min} bytes")]
    SecretTooShort { min: usize },
    #[error("key id `{0}` is already in the key set")]
    DuplicateKid(String),
    #[error("key file I/O failed: {0}")]
    Io(#[from] std::io::Error),
}

/// A validator or signer configuration that is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("leeway of {0} s is above the maximum of 5 s")]
    LeewayTooLarge(u64),
    #[error("HS256 is configured but allow_hs256 is false")]
    Hs256NotAllowed,
    #[error("{0} must not be empty")]
    Empty(&'static str),
    #[error("default lifetime must be at least 1 s and at most the maximum lifetime")]
    DefaultTtlAboveMax,
    #[error("development keys are refused in production")]
    DevelopmentKey,
    #[error("token size cap must be between 512 and 16384 bytes")]
    SizeCap,
}
