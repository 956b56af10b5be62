//! The recording's data key: 32 bytes, zeroized on drop, redacted in `Debug`. Per-track keys
//! are derived from it so tracks never share nonces under one key.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

/// Key length (AES-256).
pub const KEY_BYTES: usize = 32;

/// A recording's data key. The caller generates it (OS randomness) and wraps it with the
/// tenant's vault key; this crate only uses it.
#[derive(Clone)]
pub struct RecordingKey(Zeroizing<[u8; KEY_BYTES]>);

impl std::fmt::Debug for RecordingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordingKey(<redacted>)")
    }
}

impl RecordingKey {
    /// Wraps 32 key bytes.
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw bytes (for wrapping by the vault).
    pub fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }

    /// The key of one track: HMAC-SHA256(key, label || header hash).
    pub(crate) fn track_key(&self, header_hash: &[u8; 32]) -> Zeroizing<[u8; KEY_BYTES]> {
        // HMAC accepts any key length: new_from_slice cannot fail for 32 bytes.
        let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_ref()) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(b"hushpay-recording-track/v1\0");
        mac.update(header_hash);
        Zeroizing::new(mac.finalize().into_bytes().into())
    }
}
