//! One sealed chunk: `length (u32 BE) || AES-256-GCM(ciphertext || tag)`.
//!
//! Nonce of chunk `i`: four zero bytes then `i` as u64 big-endian (a counter: the track key
//! is fresh, so it never repeats). Associated data: a label, the header hash, `i` and the
//! final-chunk flag. Opening chunk `i` at position `j != i`, or a non-final chunk as final
//! (or the reverse), fails.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};

use crate::RecordingError;

/// Length prefix size.
pub const LEN_BYTES: usize = 4;
/// GCM tag size.
pub const TAG_BYTES: usize = 16;
/// Largest ciphertext accepted by the reader (a chunk of a few seconds is ~10-50 KB).
pub const MAX_CHUNK_BYTES: usize = 8 * 1024 * 1024;

fn nonce(index: u64) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&index.to_be_bytes());
    n
}

fn aad(header_hash: &[u8; 32], index: u64, last: bool) -> Vec<u8> {
    let mut a = Vec::with_capacity(64);
    a.extend_from_slice(b"hushpay-recording-chunk/v1");
    a.extend_from_slice(header_hash);
    a.extend_from_slice(&index.to_be_bytes());
    a.push(u8::from(last));
    a
}

/// Seals chunk `index` and returns the bytes to append to the file (length prefix included).
pub fn seal(
    key: &[u8; 32],
    header_hash: &[u8; 32],
    index: u64,
    last: bool,
    plaintext: &[u8],
) -> Result<Vec<u8>, RecordingError> {
    let cipher = Aes256Gcm::new(key.into());
    let ct = cipher
        .encrypt(
            &Nonce::from(nonce(index)),
            Payload {
                msg: plaintext,
                aad: &aad(header_hash, index, last),
            },
        )
        .map_err(|_| RecordingError::Encrypt)?;
    let len = u32::try_from(ct.len()).map_err(|_| RecordingError::PacketTooLarge)?;
    let mut out = Vec::with_capacity(LEN_BYTES + ct.len());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&ct);
    Ok(out)
}

/// Opens the ciphertext of chunk `index` (without its length prefix): the plaintext and
/// whether it is the final chunk.
pub fn open(
    key: &[u8; 32],
    header_hash: &[u8; 32],
    index: u64,
    ciphertext: &[u8],
) -> Result<(Vec<u8>, bool), RecordingError> {
    let cipher = Aes256Gcm::new(key.into());
    for last in [false, true] {
        if let Ok(plain) = cipher.decrypt(
            &Nonce::from(nonce(index)),
            Payload {
                msg: ciphertext,
                aad: &aad(header_hash, index, last),
            },
        ) {
            return Ok((plain, last));
        }
    }
    Err(RecordingError::ChunkAuth { index })
}
