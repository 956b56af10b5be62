//! # hushpay-auth — access tokens for Hushpay
//!
//! Mints and validates the participant JWTs of Hushpay (LiveKit-style grants plus payment
//! grants), and publishes the verification keys as a JWKS. A pure library: no sockets, no
//! async runtime, and no clock inside validation or minting — the current unix time is a
//! parameter (`validate_now` / `mint_now` read the system clock at the edge). Only
//! [`keyfile`] touches the file system.
//!
//! ## What it promises (SECURITY.md invariant 8)
//!
//! * **One validator** ([`Validator::validate`]) for every endpoint. Before the JWT library
//!   sees a token: a size cap (4 KiB by default), exactly three segments, strict unpadded
//!   base64url, JSON nesting depth at most 4, no duplicate member names, and the header checked
//!   by hand — `alg` exactly `EdDSA` (or `HS256` only when `allow_hs256`), so `none` in any
//!   casing is refused; only `alg`, `kid`, `typ` allowed (`jku`, `x5u`, `jwk`, `x5c`, `crit`
//!   and anything else refused); `typ`, if present, exactly `JWT`; `kid` required and known;
//!   the key named by `kid` must be of the header's algorithm (no HS/EdDSA confusion).
//! * `exp`, `nbf`, `iat` are required non-negative JSON integers (strings and floats refused,
//!   checked here, not only by jsonwebtoken); `iss`, `aud`, `sub`, `tenant`, `room`, `role`,
//!   `grants`, `jti` are required and typed; `akid` (the minting API key's id) is optional and,
//!   when present, 1 to 64 bytes of `[A-Za-z0-9_]`. `aud` must be a single string equal to ours: an
//!   array is refused even when it contains our audience (we never mint one, and one value
//!   keeps a token from being valid at several services).
//! * Signature, `aud` and `iss` are verified by jsonwebtoken (>= 10.3, GHSA-h395-gr6q-cpjc);
//!   `iss`, `aud` and the times are checked again here against the caller's `now`. A token is
//!   expired when `now >= exp + leeway`, not yet valid when `nbf` or `iat` > `now + leeway`;
//!   leeway is at most 5 s (a larger one is a configuration error).
//! * Tenant binding: a token for tenant A where tenant B is expected is
//!   [`AuthError::WrongTenant`] (HTTP 403); every other refusal is HTTP 401
//!   ([`AuthError::http_status`]). Every error has a stable [`AuthError::code`]; no message
//!   echoes the token or key material.
//! * Keys: Ed25519 with a `kid` (base64url of the first 96 bits of SHA-256 of the public key),
//!   PKCS#8 PEM in and out, a [`KeySet`] that signs with the active key and verifies with every
//!   published one (rotation), a JWKS in RFC 8037 form without secrets. HS256 is for
//!   development only: signer and validator refuse it unless `allow_hs256` is set, and
//!   [`KeySet::ensure_production_ready`] refuses HS256 and development keys.
//! * Minting: default lifetime 10 minutes, a configurable maximum, identifiers of 1 to 128
//!   bytes of `[A-Za-z0-9._:@-]`, 128-bit random `jti`, role default grants
//!   ([`Role::default_grants`]).
//!
//! ## Tests
//!
//! `tests/jwt_corpus/` holds the JWT attack corpus, one case a file (`name`, `description`,
//! literal `token`, `expected` = `accept`|`reject`, `error` code, `expect_tenant`,
//! `allow_hs256`), validated at the fixed `now` of `_context.json`, which also holds the
//! TEST-ONLY keys, `iss` and `aud`. `cargo run -p hushpay-auth --example gen_jwt_corpus`
//! rewrites the files from those keys, byte for byte; the test reads the committed tokens
//! and fails if a case is missing or gets another verdict or code.

mod claims;
mod error;
mod jwks;
pub mod keyfile;
mod keys;
mod mint;
mod precheck;
mod validate;

pub use claims::{
    Claims, Grants, Identity, MAX_API_KEY_ID_LEN, MAX_IDENTIFIER_LEN, Role, RoomName, TenantId,
    valid_api_key_id,
};
pub use error::{AuthError, ConfigError, IdentifierError, KeyError, MintError};
pub use keys::{
    ActiveKey, Hs256Secret, KeyOrigin, KeySet, MIN_HS256_SECRET_LEN, PublicKey, SigningKey,
};
pub use mint::{DEFAULT_MAX_TTL, DEFAULT_TTL, MintRequest, MintedToken, Signer, SignerConfig};
pub use validate::{
    DEFAULT_MAX_LIFETIME_SECS, DEFAULT_MAX_TOKEN_LEN, Expectation, MAX_LEEWAY_SECS, Validator,
    ValidatorConfig,
};

/// Seconds since the Unix epoch from the system clock (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
