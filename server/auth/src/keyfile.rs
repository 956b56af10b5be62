//! File helper for the gateway: load an Ed25519 PKCS#8 PEM key, or create one. The only
//! module of this crate that touches the file system.

use std::io::Write;
use std::path::Path;

use crate::error::KeyError;
use crate::keys::{KeyOrigin, SigningKey};

/// Whether [`load_or_generate`] found the key or created it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyFileOutcome {
    Loaded,
    Generated,
}

/// Loads the key at `path`; if the file does not exist, generates a key and writes it there
/// (created exclusively, mode 0600 on Unix). The caller states the key's origin: a key the
/// gateway generated on first start is [`KeyOrigin::Development`].
pub fn load_or_generate(
    path: &Path,
    origin: KeyOrigin,
) -> Result<(SigningKey, KeyFileOutcome), KeyError> {
    match std::fs::read_to_string(path) {
        Ok(pem) => {
            let pem = zeroize::Zeroizing::new(pem);
            Ok((
                SigningKey::from_pkcs8_pem(&pem, origin)?,
                KeyFileOutcome::Loaded,
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(origin);
            let pem = key.to_pkcs8_pem()?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path)?;
            file.write_all(pem.as_bytes())?;
            file.sync_all()?;
            Ok((key, KeyFileOutcome::Generated))
        }
        Err(e) => Err(KeyError::Io(e)),
    }
}
