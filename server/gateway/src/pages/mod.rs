//! Pages the gateway hosts on its public origin, built on `@hushpay/web`:
//!
//! * [`pay`]: `GET /pay/{id}`, the pay-by-link page hosting the card iframe (single use:
//!   a finished, cancelled or expired link answers `410 Gone`);
//! * [`console`]: `GET /console`, the agent console;
//! * the demo patient portal (`examples/patient-portal`) under `/portal/`, in development
//!   mode only.
//!
//! Their scripts and stylesheets (`npm run build` writes them to `web-sdk/dist/pages`) are
//! read once at start-up, served from memory and pinned in each page by hash
//! (`integrity` + a CSP naming exactly that hash), like the card iframe's.

pub mod console;
pub mod pay;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sha2::{Digest, Sha256, Sha384};

use crate::widget::assets::AssetError;

/// The built files of the hosted pages.
pub const FILES: &[&str] = &[
    "pay.js",
    "pay.css",
    "console.js",
    "console.css",
    "hushpay-web.js",
];

/// Refuse absurd files.
const MAX_BYTES: u64 = 4 * 1024 * 1024;

/// One built file with its hashes.
#[derive(Debug, Clone)]
pub struct Asset {
    pub bytes: Bytes,
    /// `sha384-<base64>` (script `integrity` and CSP source).
    pub sri: String,
    /// `sha256-<base64>` (a stylesheet inlined under `style-src`).
    pub sha256: String,
}

/// The hosted pages' files, by name.
#[derive(Debug, Clone, Default)]
pub struct PageAssets {
    files: BTreeMap<&'static str, Asset>,
}

impl PageAssets {
    /// Reads the files of [`FILES`] that `dir` has (a page whose files are missing answers
    /// 503); an error when it has none of them, or one cannot be read.
    pub fn load(dir: &Path) -> Result<PageAssets, AssetError> {
        let mut files = BTreeMap::new();
        let mut missing = None;
        for &name in FILES {
            match read(dir, name) {
                Ok(bytes) => {
                    files.insert(name, Asset::new(bytes));
                }
                Err(AssetError::Read { source, file })
                    if source.kind() == std::io::ErrorKind::NotFound =>
                {
                    missing = Some(AssetError::Read { source, file });
                }
                Err(e) => return Err(e),
            }
        }
        match missing {
            Some(e) if files.is_empty() => Err(e),
            _ => Ok(PageAssets { files }),
        }
    }

    /// True when every one of `names` was loaded.
    pub fn has(&self, names: &[&str]) -> bool {
        names.iter().all(|n| self.files.contains_key(n))
    }

    /// From bytes in memory (tests).
    pub fn from_files(files: &[(&'static str, &'static [u8])]) -> PageAssets {
        PageAssets {
            files: files
                .iter()
                .map(|(n, b)| (*n, Asset::new(Bytes::from_static(b))))
                .collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Asset> {
        self.files.get(name)
    }

    /// A stylesheet's text (empty when missing or not UTF-8).
    pub fn text(&self, name: &str) -> &str {
        self.get(name)
            .and_then(|a| std::str::from_utf8(&a.bytes).ok())
            .unwrap_or_default()
    }
}

impl Asset {
    fn new(bytes: Bytes) -> Asset {
        Asset {
            sri: format!("sha384-{}", STANDARD.encode(Sha384::digest(&bytes))),
            sha256: format!("sha256-{}", STANDARD.encode(Sha256::digest(&bytes))),
            bytes,
        }
    }
}

fn read(dir: &Path, file: &str) -> Result<Bytes, AssetError> {
    let path: PathBuf = dir.join(file);
    let shown = || path.display().to_string();
    let len = std::fs::metadata(&path)
        .map_err(|source| AssetError::Read {
            file: shown(),
            source,
        })?
        .len();
    if len > MAX_BYTES {
        return Err(AssetError::TooLarge { file: shown() });
    }
    std::fs::read(&path)
        .map(Bytes::from)
        .map_err(|source| AssetError::Read {
            file: shown(),
            source,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn missing_files_are_a_clear_error_and_hashes_are_sri() {
        let dir = tempfile::tempdir().unwrap();
        let err = PageAssets::load(dir.path()).unwrap_err();
        assert!(err.to_string().contains("npm run build"), "{err}");
        for f in ["pay.js", "pay.css"] {
            std::fs::write(dir.path().join(f), b"x").unwrap();
        }
        let a = PageAssets::load(dir.path()).unwrap();
        assert!(a.has(&["pay.js", "pay.css"]) && !a.has(&["console.js"]));
        assert!(a.get("pay.js").unwrap().sri.starts_with("sha384-"));
        assert_eq!(a.text("pay.css"), "x");
    }
}
