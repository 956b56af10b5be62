//! The card iframe's built files, read once at start-up, with their integrity hashes.
//!
//! `npm run build -w @hushpay/web` writes `card-frame.js` (the iframe script, with the
//! wasm-bindgen glue bundled in), `card.wasm` and `card-frame.css` into the assets
//! directory. The gateway serves the bytes it read — never re-reading the disk — and pins
//! them in the page: `integrity="sha384-..."` on the script (also its CSP hash source), the
//! `.wasm`'s hash for the script's `fetch(..., {integrity})`, and the stylesheet's SHA-256
//! as the only `style-src`.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sha2::{Digest, Sha256, Sha384};
use thiserror::Error;

/// File names inside the assets directory.
pub const SCRIPT_FILE: &str = "card-frame.js";
pub const WASM_FILE: &str = "card.wasm";
pub const STYLE_FILE: &str = "card-frame.css";

/// Refuse absurd files (the budget is 60 KB gzipped for script and wasm together).
const MAX_ASSET_BYTES: u64 = 4 * 1024 * 1024;

/// The assets could not be loaded.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum AssetError {
    #[error("cannot read {file}: {source} (build them with `npm run build -w @hushpay/web`)")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file} is larger than 4 MiB")]
    TooLarge { file: String },
    #[error("{file} is not UTF-8")]
    NotUtf8 { file: String },
}

/// The iframe's script, wasm and stylesheet with their hashes.
#[derive(Debug, Clone)]
pub struct FrameAssets {
    pub script: Bytes,
    /// `sha384-<base64>`, for `integrity` and the CSP.
    pub script_sri: String,
    pub wasm: Bytes,
    pub wasm_sri: String,
    pub style: String,
    /// `sha256-<base64>` of the stylesheet text, for `style-src`.
    pub style_hash: String,
}

impl FrameAssets {
    pub fn load(dir: &Path) -> Result<FrameAssets, AssetError> {
        let script = read(dir, SCRIPT_FILE)?;
        let wasm = read(dir, WASM_FILE)?;
        let style = String::from_utf8(read(dir, STYLE_FILE)?.to_vec()).map_err(|_| {
            AssetError::NotUtf8 {
                file: STYLE_FILE.into(),
            }
        })?;
        Ok(FrameAssets::from_parts(script, wasm, style))
    }

    pub fn from_parts(script: Bytes, wasm: Bytes, style: String) -> FrameAssets {
        FrameAssets {
            script_sri: sri384(&script),
            wasm_sri: sri384(&wasm),
            style_hash: format!(
                "sha256-{}",
                STANDARD.encode(Sha256::digest(style.as_bytes()))
            ),
            script,
            wasm,
            style,
        }
    }
}

fn sri384(bytes: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(Sha384::digest(bytes)))
}

fn read(dir: &Path, file: &str) -> Result<Bytes, AssetError> {
    let path = dir.join(file);
    let len = std::fs::metadata(&path)
        .map_err(|source| AssetError::Read {
            file: path.display().to_string(),
            source,
        })?
        .len();
    if len > MAX_ASSET_BYTES {
        return Err(AssetError::TooLarge {
            file: path.display().to_string(),
        });
    }
    std::fs::read(&path)
        .map(Bytes::from)
        .map_err(|source| AssetError::Read {
            file: path.display().to_string(),
            source,
        })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hashes_are_sri_strings() {
        // SRI test vector: sha384 of "alert('Hello, world.');" (W3C SRI spec example).
        let a = FrameAssets::from_parts(
            Bytes::from_static(b"alert('Hello, world.');"),
            Bytes::from_static(b"\0asm"),
            "body{}".into(),
        );
        assert_eq!(
            a.script_sri,
            "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
        );
        assert!(a.wasm_sri.starts_with("sha384-"));
        assert!(a.style_hash.starts_with("sha256-"));
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let err = FrameAssets::load(&dir.path().join("nope")).unwrap_err();
        assert!(err.to_string().contains("npm run build"), "{err}");
    }
}
