//! The plaintext header of a track file: what the track is and how its key is wrapped.
//!
//! Layout: `HPREC\0v1` (8 bytes), the JSON length (u32 big-endian, at most
//! [`MAX_HEADER_BYTES`]), the JSON [`TrackHeader`]. The SHA-256 of those bytes is bound into
//! every chunk's key and associated data, so a changed header makes every chunk fail.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::RecordingError;

/// The file magic.
pub const MAGIC: &[u8; 8] = b"HPREC\0v1";
/// Largest header JSON accepted.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// What a track file holds. Nothing secret: the data key is wrapped by the vault.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackHeader {
    pub recording_id: String,
    pub tenant: String,
    pub room: String,
    /// Track name, unique in the recording (`patient-<participant>`).
    pub track: String,
    /// `patient` or `agent`.
    pub role: String,
    pub participant: String,
    /// Always `opus` (48 kHz RTP clock).
    pub codec: String,
    /// The tenant's vault key version that wraps the recording key.
    pub key_version: u32,
    /// The wrapped recording key (hex of the vault's sealed blob).
    pub wrapped_key: String,
    /// Recording-clock time (ms since the recording started) of the track's start.
    pub started_ms: u32,
    /// Target chunk duration.
    pub chunk_ms: u32,
}

impl TrackHeader {
    /// The header bytes as written at the start of the file.
    pub fn encode(&self) -> Result<Vec<u8>, RecordingError> {
        let json = serde_json::to_vec(self)
            .map_err(|_| RecordingError::BadHeader("header does not serialize"))?;
        if json.len() > MAX_HEADER_BYTES {
            return Err(RecordingError::BadHeader("header too large"));
        }
        let mut out = Vec::with_capacity(12 + json.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&(json.len() as u32).to_be_bytes());
        out.extend_from_slice(&json);
        Ok(out)
    }

    /// Parses the header at the start of `file`: the header, its hash and its length.
    pub fn decode(file: &[u8]) -> Result<(TrackHeader, [u8; 32], usize), RecordingError> {
        if file.len() < 12 {
            return Err(RecordingError::BadHeader("file shorter than the header"));
        }
        if &file[..8] != MAGIC {
            return Err(RecordingError::BadHeader("wrong magic"));
        }
        let mut len = [0u8; 4];
        len.copy_from_slice(&file[8..12]);
        let len = u32::from_be_bytes(len) as usize;
        if len > MAX_HEADER_BYTES {
            return Err(RecordingError::BadHeader("header length out of range"));
        }
        let end = 12 + len;
        let json = file
            .get(12..end)
            .ok_or(RecordingError::BadHeader("file shorter than the header"))?;
        let header: TrackHeader = serde_json::from_slice(json)
            .map_err(|_| RecordingError::BadHeader("header JSON malformed"))?;
        Ok((header, hash(&file[..end]), end))
    }
}

/// SHA-256 of encoded header bytes.
pub fn hash(encoded: &[u8]) -> [u8; 32] {
    Sha256::digest(encoded).into()
}
