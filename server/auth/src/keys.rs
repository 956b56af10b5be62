//! Signing keys: Ed25519 (production and development) and HS256 secrets (development only),
//! each with a `kid`, and the [`KeySet`] that signs with the active key and verifies with any
//! published one.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use rand_core::OsRng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{ConfigError, KeyError};

/// Shortest HS256 secret accepted (256 bits).
pub const MIN_HS256_SECRET_LEN: usize = 32;

/// Where a key came from. Production deployments refuse [`KeyOrigin::Development`] keys
/// ([`KeySet::ensure_production_ready`]). The origin is not stored in the PEM: the caller
/// states it when loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyOrigin {
    Production,
    Development,
}

/// `kid` of an Ed25519 key: base64url of the first 12 bytes of SHA-256(raw public key).
fn ed25519_kid(public: &ed25519_dalek::VerifyingKey) -> String {
    let digest = Sha256::digest(public.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..12])
}

/// An Ed25519 private key with its `kid`. `Debug` shows only the `kid`.
#[derive(Clone)]
pub struct SigningKey {
    kid: String,
    inner: ed25519_dalek::SigningKey,
    origin: KeyOrigin,
}

impl SigningKey {
    /// A fresh key from the OS random generator.
    pub fn generate(origin: KeyOrigin) -> Self {
        Self::from_dalek(ed25519_dalek::SigningKey::generate(&mut OsRng), origin)
    }

    /// From a 32-byte seed (tests and the corpus generator).
    pub fn from_seed(seed: &[u8; 32], origin: KeyOrigin) -> Self {
        Self::from_dalek(ed25519_dalek::SigningKey::from_bytes(seed), origin)
    }

    fn from_dalek(inner: ed25519_dalek::SigningKey, origin: KeyOrigin) -> Self {
        SigningKey {
            kid: ed25519_kid(&inner.verifying_key()),
            inner,
            origin,
        }
    }

    /// Parses a PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`).
    pub fn from_pkcs8_pem(pem: &str, origin: KeyOrigin) -> Result<Self, KeyError> {
        let inner =
            ed25519_dalek::SigningKey::from_pkcs8_pem(pem).map_err(|_| KeyError::InvalidPem)?;
        Ok(Self::from_dalek(inner, origin))
    }

    /// PKCS#8 PEM, zeroized on drop.
    pub fn to_pkcs8_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.inner
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|_| KeyError::Encode)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn is_development(&self) -> bool {
        self.origin == KeyOrigin::Development
    }

    /// The public half, with the same `kid` and origin.
    pub fn public_key(&self) -> PublicKey {
        PublicKey::from_dalek(self.inner.verifying_key(), self.origin)
    }

    pub(crate) fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.inner.sign(message).to_bytes()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// An Ed25519 public key with its `kid`, as published in the JWKS.
#[derive(Clone)]
pub struct PublicKey {
    kid: String,
    inner: ed25519_dalek::VerifyingKey,
    origin: KeyOrigin,
    decoding: DecodingKey,
}

impl PublicKey {
    fn from_dalek(inner: ed25519_dalek::VerifyingKey, origin: KeyOrigin) -> Self {
        // jsonwebtoken's rust_crypto EdDSA verifier takes the raw 32-byte public key.
        let decoding = DecodingKey::from_ed_der(&inner.to_bytes());
        PublicKey {
            kid: ed25519_kid(&inner),
            inner,
            origin,
            decoding,
        }
    }

    /// Parses an SPKI PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_public_pem(pem: &str, origin: KeyOrigin) -> Result<Self, KeyError> {
        let inner = ed25519_dalek::VerifyingKey::from_public_key_pem(pem)
            .map_err(|_| KeyError::InvalidPem)?;
        Ok(Self::from_dalek(inner, origin))
    }

    pub fn to_public_pem(&self) -> Result<String, KeyError> {
        self.inner
            .to_public_key_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map_err(|_| KeyError::Encode)
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn is_development(&self) -> bool {
        self.origin == KeyOrigin::Development
    }

    /// The raw 32-byte public key.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.inner.to_bytes()
    }

    /// The RFC 8037 JWK of this key (public part only).
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.inner.as_bytes()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        })
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("kid", &self.kid)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

/// An HS256 shared secret: development mode only (it is never published and every key set
/// holding one reports [`KeySet::has_development_keys`]). Zeroized on drop; `Debug` shows
/// only the `kid`.
#[derive(Clone)]
pub struct Hs256Secret {
    kid: String,
    secret: Zeroizing<Vec<u8>>,
}

impl Hs256Secret {
    /// Takes at least [`MIN_HS256_SECRET_LEN`] bytes. The `kid` is `hs256-` plus 8 base64url
    /// characters of a domain-separated SHA-256 of the secret.
    pub fn new(secret: &[u8]) -> Result<Self, KeyError> {
        if secret.len() < MIN_HS256_SECRET_LEN {
            return Err(KeyError::SecretTooShort {
                min: MIN_HS256_SECRET_LEN,
            });
        }
        let mut hasher = Sha256::new();
        hasher.update(b"hushpay-hs256-kid\0");
        hasher.update(secret);
        let digest = hasher.finalize();
        let kid = format!("hs256-{}", URL_SAFE_NO_PAD.encode(&digest[..6]));
        Ok(Hs256Secret {
            kid,
            secret: Zeroizing::new(secret.to_vec()),
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub(crate) fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_secret(&self.secret)
    }

    fn encoding_key(&self) -> EncodingKey {
        EncodingKey::from_secret(&self.secret)
    }
}

impl fmt::Debug for Hs256Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hs256Secret")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

/// The key new tokens are signed with.
#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per key set, built once at start-up; boxing buys nothing"
)]
#[non_exhaustive]
pub enum ActiveKey {
    Ed25519(SigningKey),
    /// Development only.
    Hs256(Hs256Secret),
}

/// A key the validator may verify with, found by `kid`.
#[derive(Debug, Clone, Copy)]
pub(crate) enum VerifyKey<'a> {
    Ed25519(&'a PublicKey),
    Hs256(&'a Hs256Secret),
}

impl VerifyKey<'_> {
    pub(crate) fn algorithm(&self) -> Algorithm {
        match self {
            VerifyKey::Ed25519(_) => Algorithm::EdDSA,
            VerifyKey::Hs256(_) => Algorithm::HS256,
        }
    }
}

/// The signing key plus the public keys still accepted (rotation: after [`KeySet::rotate`]
/// the previous key keeps verifying until [`KeySet::retire`]).
#[derive(Debug, Clone)]
pub struct KeySet {
    active: ActiveKey,
    active_public: Option<PublicKey>,
    published: Vec<PublicKey>,
    hs256_verifier: Option<Hs256Secret>,
}

impl KeySet {
    /// A key set that signs with `active` (EdDSA).
    pub fn new(active: SigningKey) -> Self {
        let public = active.public_key();
        KeySet {
            active: ActiveKey::Ed25519(active),
            active_public: Some(public),
            published: Vec::new(),
            hs256_verifier: None,
        }
    }

    /// A development key set that signs with an HS256 secret.
    pub fn new_hs256_development(secret: Hs256Secret) -> Self {
        KeySet {
            active: ActiveKey::Hs256(secret),
            active_public: None,
            published: Vec::new(),
            hs256_verifier: None,
        }
    }

    /// Also accept tokens signed by `key` (e.g. the previous key after a restart).
    pub fn with_published(mut self, key: PublicKey) -> Result<Self, KeyError> {
        self.ensure_new_kid(key.kid())?;
        self.published.push(key);
        Ok(self)
    }

    /// Also accept HS256 tokens signed with `secret` (development only; the validator still
    /// refuses them unless `allow_hs256`).
    pub fn with_hs256_verifier(mut self, secret: Hs256Secret) -> Result<Self, KeyError> {
        self.ensure_new_kid(secret.kid())?;
        self.hs256_verifier = Some(secret);
        Ok(self)
    }

    fn ensure_new_kid(&self, kid: &str) -> Result<(), KeyError> {
        if self.lookup(kid).is_some() {
            return Err(KeyError::DuplicateKid(kid.to_owned()));
        }
        Ok(())
    }

    /// Makes `next` the signing key; the previous Ed25519 key stays published for verifying.
    pub fn rotate(mut self, next: SigningKey) -> Self {
        if let Some(old) = self.active_public.take() {
            self.published.retain(|k| k.kid() != old.kid());
            self.published.push(old);
        }
        self.active_public = Some(next.public_key());
        self.published.retain(|k| k.kid() != next.kid());
        self.active = ActiveKey::Ed25519(next);
        self
    }

    /// Stops accepting the published (non-active) key `kid`. Returns whether it was there.
    pub fn retire(&mut self, kid: &str) -> bool {
        let before = self.published.len();
        self.published.retain(|k| k.kid() != kid);
        before != self.published.len()
    }

    pub fn active(&self) -> &ActiveKey {
        &self.active
    }

    pub fn active_kid(&self) -> &str {
        match &self.active {
            ActiveKey::Ed25519(k) => k.kid(),
            ActiveKey::Hs256(s) => s.kid(),
        }
    }

    /// Every Ed25519 public key accepted for verification, active first.
    pub fn public_keys(&self) -> impl Iterator<Item = &PublicKey> {
        self.active_public.iter().chain(self.published.iter())
    }

    /// True if any key is a development key or an HS256 secret.
    pub fn has_development_keys(&self) -> bool {
        matches!(self.active, ActiveKey::Hs256(_))
            || self.hs256_verifier.is_some()
            || self.public_keys().any(PublicKey::is_development)
    }

    /// What production mode calls at start-up: refuses development keys and HS256.
    pub fn ensure_production_ready(&self) -> Result<(), ConfigError> {
        if self.has_development_keys() {
            return Err(ConfigError::DevelopmentKey);
        }
        Ok(())
    }

    pub(crate) fn lookup(&self, kid: &str) -> Option<VerifyKey<'_>> {
        if let Some(k) = self.public_keys().find(|k| k.kid() == kid) {
            return Some(VerifyKey::Ed25519(k));
        }
        match (&self.active, &self.hs256_verifier) {
            (ActiveKey::Hs256(s), _) if s.kid() == kid => Some(VerifyKey::Hs256(s)),
            (_, Some(s)) if s.kid() == kid => Some(VerifyKey::Hs256(s)),
            _ => None,
        }
    }

    /// Signs `claims` with the active key: compact JWS with header `{alg, kid, typ: "JWT"}`.
    pub(crate) fn sign<T: Serialize>(&self, claims: &T) -> Result<String, SignError> {
        match &self.active {
            ActiveKey::Ed25519(key) => {
                let header = serde_json::json!({"alg": "EdDSA", "kid": key.kid(), "typ": "JWT"});
                let header = serde_json::to_vec(&header).map_err(|_| SignError)?;
                let payload = serde_json::to_vec(claims).map_err(|_| SignError)?;
                let signing_input = format!(
                    "{}.{}",
                    URL_SAFE_NO_PAD.encode(header),
                    URL_SAFE_NO_PAD.encode(payload)
                );
                let signature = key.sign_bytes(signing_input.as_bytes());
                Ok(format!(
                    "{signing_input}.{}",
                    URL_SAFE_NO_PAD.encode(signature)
                ))
            }
            ActiveKey::Hs256(secret) => {
                let mut header = jsonwebtoken::Header::new(Algorithm::HS256);
                header.kid = Some(secret.kid().to_owned());
                jsonwebtoken::encode(&header, claims, &secret.encoding_key()).map_err(|_| SignError)
            }
        }
    }
}

/// Internal: signing failed (serialization or the JWT library).
#[derive(Debug)]
pub(crate) struct SignError;
