//! AES-256-GCM with 96-bit random nonces and 128-bit tags, and the associated data that binds
//! each ciphertext to where it belongs.
//!
//! Stored form: `nonce (12 bytes) || ciphertext || tag (16 bytes)`.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::VaultError;

/// Nonce length (96 bits, NIST SP 800-38D's recommended size for random nonces).
pub const NONCE_BYTES: usize = 12;
/// Tag length.
pub const TAG_BYTES: usize = 16;

/// What a ciphertext is bound to. Changing any field makes decryption fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordAad<'a> {
    /// `token`, `data_key`, ...
    pub record_type: &'a str,
    pub tenant: &'a str,
    pub record_id: &'a str,
    pub key_version: u32,
}

impl RecordAad<'_> {
    /// The encoded associated data: a label, then each field length-prefixed (4-byte BE).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            32 + self.record_type.len() + self.tenant.len() + self.record_id.len(),
        );
        out.extend_from_slice(b"hushpay-vault/v1");
        for part in [self.record_type, self.tenant, self.record_id] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        out.extend_from_slice(&self.key_version.to_be_bytes());
        out
    }
}

/// Encrypts `plaintext` under `key` bound to `aad`, with a fresh random nonce.
pub fn seal(key: &[u8; 32], aad: &RecordAad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, VaultError> {
    let cipher = Aes256Gcm::new(key.into());
    let mut nonce = [0u8; NONCE_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: plaintext,
                aad: &aad.encode(),
            },
        )
        .map_err(|_| VaultError::Encrypt)?;
    let mut out = Vec::with_capacity(NONCE_BYTES + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Decrypts a [`seal`]ed blob; any mismatch gives [`VaultError::Decrypt`].
pub fn open(
    key: &[u8; 32],
    aad: &RecordAad<'_>,
    blob: &[u8],
) -> Result<Zeroizing<Vec<u8>>, VaultError> {
    if blob.len() < NONCE_BYTES + TAG_BYTES {
        return Err(VaultError::Decrypt);
    }
    let (nonce, ct) = blob.split_at(NONCE_BYTES);
    let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| VaultError::Decrypt)?;
    let cipher = Aes256Gcm::new(key.into());
    cipher
        .decrypt(
            &Nonce::from(nonce),
            Payload {
                msg: ct,
                aad: &aad.encode(),
            },
        )
        .map(Zeroizing::new)
        .map_err(|_| VaultError::Decrypt)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const AAD: RecordAad<'static> = RecordAad {
        record_type: "token",
        tenant: "ten_a",
        record_id: "tok_1",
        key_version: 1,
    };

    #[test]
    fn round_trips_and_nonces_differ() {
        let key = [3u8; 32];
        let a = seal(&key, &AAD, b"hello").unwrap();
        let b = seal(&key, &AAD, b"hello").unwrap();
        assert_ne!(a, b);
        assert_eq!(open(&key, &AAD, &a).unwrap().as_slice(), b"hello");
        assert_eq!(a.len(), NONCE_BYTES + 5 + TAG_BYTES);
    }

    #[test]
    fn aad_fields_cannot_be_shifted_between_each_other() {
        let a = RecordAad {
            tenant: "ab",
            record_id: "c",
            ..AAD
        };
        let b = RecordAad {
            tenant: "a",
            record_id: "bc",
            ..AAD
        };
        assert_ne!(a.encode(), b.encode());
    }

    #[test]
    fn short_blobs_are_refused() {
        assert!(open(&[0; 32], &AAD, &[0; 27]).is_err());
    }
}
