//! A recording's metadata: its tracks and its pause windows with their reasons, signed with
//! HMAC-SHA256 under a per-tenant key the vault derives (the gateway never stores it).
//!
//! Stored as `{"metadata": {...}, "signature": "hmac-sha256:<hex>"}`. The signature covers a
//! label and the canonical JSON of `metadata` (field order fixed by the struct, unknown
//! fields refused), so editing any value, adding a field, removing a pause window or moving
//! one shows in [`SignedMetadata::verify`].

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::RecordingError;

/// Format version.
pub const METADATA_VERSION: u32 = 1;
const PREFIX: &str = "hmac-sha256:";

/// A span of the recording clock in which nothing was recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PauseWindow {
    /// Recording-clock ms when the window closed.
    pub from_ms: u32,
    /// When it reopened; `None` while paused (and for a recording that ended paused or
    /// crashed: paused to the end).
    pub to_ms: Option<u32>,
    /// `payment:<id>`, `manual`, `consent`, `fault`, ...
    pub reason: String,
    /// Who closed it: `system`, `agent:<identity>`, ...
    pub by: String,
}

/// One track of the recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrackInfo {
    /// Track name (the file is `<track>.hprec`).
    pub track: String,
    pub role: String,
    pub participant: String,
    /// Chunks written when the track was finished; `None` if it never was (crash).
    pub chunks: Option<u64>,
}

/// What an auditor needs to know about a recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metadata {
    pub version: u32,
    pub recording_id: String,
    pub tenant: String,
    pub room: String,
    /// Unix ms of recording-clock 0.
    pub started_at_unix_ms: i64,
    /// Recording-clock ms at the end; `None` while recording (or after a crash).
    pub ended_ms: Option<u32>,
    pub tracks: Vec<TrackInfo>,
    pub pauses: Vec<PauseWindow>,
}

impl Metadata {
    /// True when recording-clock time `ms` lies inside a pause window (`end_ms` closes the
    /// open one).
    pub fn paused_at(&self, ms: u32, end_ms: u32) -> bool {
        self.pauses
            .iter()
            .any(|p| p.from_ms <= ms && ms < p.to_ms.unwrap_or(end_ms.max(p.from_ms + 1)))
    }
}

/// Metadata with its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedMetadata {
    pub metadata: Metadata,
    pub signature: String,
}

fn mac(key: &[u8; 32], metadata: &Metadata) -> Result<[u8; 32], RecordingError> {
    let body =
        serde_json::to_vec(metadata).map_err(|e| RecordingError::BadMetadata(e.to_string()))?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .map_err(|_| RecordingError::BadMetadata("signing key".into()))?;
    mac.update(b"hushpay-recording-metadata/v1\0");
    mac.update(&body);
    Ok(mac.finalize().into_bytes().into())
}

impl SignedMetadata {
    /// Signs `metadata` with `key`.
    pub fn sign(key: &[u8; 32], metadata: Metadata) -> Result<SignedMetadata, RecordingError> {
        let tag = mac(key, &metadata)?;
        Ok(SignedMetadata {
            metadata,
            signature: format!("{PREFIX}{}", hex::encode(tag)),
        })
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &[u8; 32]) -> Result<(), RecordingError> {
        let expected = mac(key, &self.metadata)?;
        let given = self
            .signature
            .strip_prefix(PREFIX)
            .and_then(|h| hex::decode(h).ok())
            .ok_or(RecordingError::BadSignature)?;
        if given.len() == expected.len() && bool::from(given.ct_eq(&expected)) {
            Ok(())
        } else {
            Err(RecordingError::BadSignature)
        }
    }

    /// The stored JSON.
    pub fn to_json(&self) -> Result<Vec<u8>, RecordingError> {
        serde_json::to_vec_pretty(self).map_err(|e| RecordingError::BadMetadata(e.to_string()))
    }

    /// Parses stored JSON (the signature is not checked: call [`SignedMetadata::verify`]).
    pub fn parse(bytes: &[u8]) -> Result<SignedMetadata, RecordingError> {
        serde_json::from_slice(bytes).map_err(|e| RecordingError::BadMetadata(e.to_string()))
    }
}
