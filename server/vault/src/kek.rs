//! The key-encryption key (KEK): 32 bytes that wrap every tenant's data keys.
//!
//! Sources, in order of preference: an environment variable or a file holding the key as
//! base64 (standard or url-safe) or hex; in development only, a key generated on first start
//! and stored in the data directory (mode 0600) — the caller logs a warning when that happens.

use std::fmt;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rand::RngCore;
use zeroize::Zeroizing;

use crate::VaultError;

/// Length of the KEK and of data keys.
pub const KEY_BYTES: usize = 32;

/// The key-encryption key. Never printed, zeroized on drop.
#[derive(Clone)]
pub struct Kek(Zeroizing<[u8; KEY_BYTES]>);

impl fmt::Debug for Kek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Kek(<redacted>)")
    }
}

impl Kek {
    /// A KEK from raw bytes.
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Kek {
        Kek(Zeroizing::new(bytes))
    }

    /// A fresh random KEK (development and tests).
    pub fn generate() -> Kek {
        let mut k = Zeroizing::new([0u8; KEY_BYTES]);
        rand::rngs::OsRng.fill_bytes(k.as_mut());
        Kek(k)
    }

    /// Parses a KEK written as 64 hex digits or base64 of 32 bytes (surrounding whitespace
    /// ignored).
    pub fn parse(text: &str) -> Result<Kek, VaultError> {
        let t = text.trim();
        let bytes = Zeroizing::new(if t.len() == 2 * KEY_BYTES {
            hex::decode(t).map_err(|_| VaultError::Kek("not valid hex".into()))?
        } else {
            STANDARD
                .decode(t)
                .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
                .map_err(|_| VaultError::Kek("not valid hex or base64".into()))?
        });
        let arr: [u8; KEY_BYTES] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Kek(format!("must be {KEY_BYTES} bytes")))?;
        Ok(Kek::from_bytes(arr))
    }

    /// Reads a KEK file.
    pub fn load_file(path: &Path) -> Result<Kek, VaultError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| VaultError::Kek(format!("cannot read {}: {e}", path.display())))?,
        );
        Kek::parse(&text)
    }

    /// Loads the KEK at `path`, creating it (random, mode 0600) when absent. Returns whether
    /// it was generated, so the caller can warn: this is for development only.
    pub fn load_or_generate(path: &Path) -> Result<(Kek, bool), VaultError> {
        if path.exists() {
            return Ok((Kek::load_file(path)?, false));
        }
        let kek = Kek::generate();
        let text = Zeroizing::new(hex::encode(kek.0.as_ref()));
        write_private(path, text.as_bytes())
            .map_err(|e| VaultError::Kek(format!("cannot write {}: {e}", path.display())))?;
        Ok((kek, true))
    }

    pub(crate) fn bytes(&self) -> &[u8; KEY_BYTES] {
        &self.0
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn parses_hex_and_base64_and_refuses_bad_lengths() {
        let hex_key = "11".repeat(32);
        assert_eq!(Kek::parse(&hex_key).unwrap().bytes(), &[0x11; 32]);
        let b64 = STANDARD.encode([7u8; 32]);
        assert_eq!(Kek::parse(&format!(" {b64}\n")).unwrap().bytes(), &[7; 32]);
        assert!(Kek::parse("abcd").is_err());
        assert!(Kek::parse(&STANDARD.encode([1u8; 16])).is_err());
        assert!(Kek::parse("").is_err());
    }

    #[test]
    fn generated_file_is_reused_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek");
        let (a, generated) = Kek::load_or_generate(&path).unwrap();
        assert!(generated);
        let (b, generated) = Kek::load_or_generate(&path).unwrap();
        assert!(!generated);
        assert_eq!(a.bytes(), b.bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert_eq!(format!("{a:?}"), "Kek(<redacted>)");
    }
}
