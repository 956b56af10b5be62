//! The vault's HPKE key pair (X25519) and its wire forms.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hpke::{Deserializable, Kem as _, Serializable};
use thiserror::Error;
use zeroize::Zeroizing;

use super::{CryptoRng, Kem, RngCore};

/// Length of an X25519 public or secret key.
pub const KEY_LEN: usize = 32;

/// A key could not be read.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("key must be {KEY_LEN} bytes")]
    Length,
    #[error("key is not valid base64url")]
    Encoding,
    #[error("key is not a valid X25519 key")]
    Invalid,
}

/// The vault's public key: published (with its key id) for the card iframe and tenant
/// backends to seal to.
#[derive(Clone, PartialEq, Eq)]
pub struct RecipientPublicKey(pub(super) <Kem as hpke::Kem>::PublicKey);

/// The vault's secret key. Zeroized on drop (x25519-dalek `StaticSecret` with its
/// `zeroize` feature); printed as `RecipientSecretKey(***)`.
#[derive(Clone)]
pub struct RecipientSecretKey(pub(super) <Kem as hpke::Kem>::PrivateKey);

/// Generate a fresh key pair from a cryptographically secure RNG.
pub fn generate_keypair<R: CryptoRng + RngCore>(
    rng: &mut R,
) -> (RecipientSecretKey, RecipientPublicKey) {
    let (sk, pk) = Kem::gen_keypair(rng);
    (RecipientSecretKey(sk), RecipientPublicKey(pk))
}

impl RecipientPublicKey {
    pub fn from_bytes(bytes: &[u8]) -> Result<RecipientPublicKey, KeyError> {
        if bytes.len() != KEY_LEN {
            return Err(KeyError::Length);
        }
        <Kem as hpke::Kem>::PublicKey::from_bytes(bytes)
            .map(RecipientPublicKey)
            .map_err(|_| KeyError::Invalid)
    }

    pub fn to_bytes(&self) -> [u8; KEY_LEN] {
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    /// Unpadded base64url, the form served at `/v1/vault/public-key`.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.to_bytes())
    }

    pub fn from_base64url(text: &str) -> Result<RecipientPublicKey, KeyError> {
        if text.len() > 64 {
            return Err(KeyError::Length);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .map_err(|_| KeyError::Encoding)?;
        RecipientPublicKey::from_bytes(&bytes)
    }
}

impl fmt::Debug for RecipientPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecipientPublicKey({})", self.to_base64url())
    }
}

impl RecipientSecretKey {
    /// Read a secret key stored by the vault (after unwrapping it with its KEK).
    pub fn from_bytes(bytes: &[u8]) -> Result<RecipientSecretKey, KeyError> {
        if bytes.len() != KEY_LEN {
            return Err(KeyError::Length);
        }
        <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes)
            .map(RecipientSecretKey)
            .map_err(|_| KeyError::Invalid)
    }

    /// The secret key bytes, for the vault to wrap and store. Zeroized on drop.
    pub fn expose_bytes(&self) -> Zeroizing<[u8; KEY_LEN]> {
        let mut out = Zeroizing::new([0u8; KEY_LEN]);
        let mut bytes = self.0.to_bytes();
        out.copy_from_slice(&bytes);
        zeroize::Zeroize::zeroize(&mut bytes[..]);
        out
    }

    /// The matching public key.
    pub fn public_key(&self) -> RecipientPublicKey {
        RecipientPublicKey(Kem::sk_to_pk(&self.0))
    }
}

impl fmt::Debug for RecipientSecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecipientSecretKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    #[test]
    fn key_roundtrips() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let (sk, pk) = generate_keypair(&mut rng);
        assert_eq!(sk.public_key(), pk);
        let pk2 = RecipientPublicKey::from_base64url(&pk.to_base64url()).unwrap();
        assert_eq!(pk2, pk);
        assert_eq!(pk.to_base64url().len(), 43);
        let sk2 = RecipientSecretKey::from_bytes(&*sk.expose_bytes()).unwrap();
        assert_eq!(sk2.public_key(), pk);
        let (_, other) = generate_keypair(&mut rng);
        assert_ne!(other, pk);
    }

    #[test]
    fn bad_keys() {
        assert_eq!(
            RecipientPublicKey::from_bytes(&[0u8; 31]),
            Err(KeyError::Length)
        );
        assert_eq!(
            RecipientPublicKey::from_base64url("!!!"),
            Err(KeyError::Encoding)
        );
        assert_eq!(
            RecipientPublicKey::from_base64url(&"A".repeat(100)),
            Err(KeyError::Length)
        );
        assert!(matches!(
            RecipientSecretKey::from_bytes(&[1u8; 33]),
            Err(KeyError::Length)
        ));
    }

    #[test]
    fn secret_key_debug_is_redacted() {
        let mut rng = ChaCha20Rng::seed_from_u64(2);
        let (sk, _) = generate_keypair(&mut rng);
        assert_eq!(format!("{sk:?}"), "RecipientSecretKey(***)");
    }
}
