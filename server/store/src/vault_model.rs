//! Records of the vault: wrapped data keys, tokens (ciphertext and masked metadata only) and
//! the hash-chained audit log. The store keeps them verbatim; every rule about what they mean
//! (encryption, chaining, tenant binding) lives in `hushpay-vault`.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{TenantId, UnixTime};

/// Whether a data key version may still encrypt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataKeyState {
    /// The tenant's current version: encrypts and decrypts.
    Active,
    /// Rotated out: decrypts only, never encrypts again.
    Retired,
}

impl DataKeyState {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DataKeyState::Active => "active",
            DataKeyState::Retired => "retired",
        }
    }

    /// Parses the stored spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(DataKeyState::Active),
            "retired" => Some(DataKeyState::Retired),
            _ => None,
        }
    }
}

/// A per-tenant data key, wrapped (AES-256-GCM) by the key-encryption key.
#[derive(Clone, PartialEq, Eq)]
pub struct DataKeyRecord {
    pub tenant: TenantId,
    /// 1, 2, ... per tenant.
    pub version: u32,
    /// Nonce + ciphertext + tag of the 32-byte key under the KEK.
    pub wrapped: Vec<u8>,
    pub state: DataKeyState,
    pub created_at: UnixTime,
    /// Encryptions reserved so far under this version (an upper bound of the real count).
    pub invocations: u64,
}

impl fmt::Debug for DataKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DataKeyRecord")
            .field("tenant", &self.tenant)
            .field("version", &self.version)
            .field("wrapped", &"<wrapped>")
            .field("state", &self.state)
            .field("invocations", &self.invocations)
            .finish()
    }
}

/// A card token as stored: masked metadata in the clear, the card itself as ciphertext.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenRecord {
    /// `tok_` + base62.
    pub id: String,
    pub tenant: TenantId,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
    /// Keyed per-tenant HMAC of the PAN (base64url).
    pub fingerprint: String,
    pub created_at: UnixTime,
    pub expires_at: Option<UnixTime>,
    /// The data key version the ciphertext is under.
    pub key_version: u32,
    /// Nonce + AES-256-GCM ciphertext + tag.
    pub ciphertext: Vec<u8>,
}

impl fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("brand", &self.brand)
            .field("last4", &self.last4)
            .field("key_version", &self.key_version)
            .finish_non_exhaustive()
    }
}

/// One entry of the append-only, hash-chained audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// 1, 2, ... without gaps.
    pub seq: u64,
    pub at: UnixTime,
    pub tenant: Option<TenantId>,
    /// Who: `key_...`, `agent:<sub>`, `admin`, `system`.
    pub actor: String,
    /// What: `token.create`, `key.rotate`, ...
    pub action: String,
    /// The resource acted on (an id), or empty.
    pub resource: String,
    /// `ok`, `denied`, `error`, ...
    pub outcome: String,
    pub request_id: String,
    /// Lower-case hex SHA-256 of the previous entry (64 zeros for the first).
    pub prev_hash: String,
    /// Lower-case hex SHA-256 over this entry's fields and `prev_hash`.
    pub hash: String,
}

/// A token the patient agreed to have saved for later charges (issue 17): the explicit,
/// separate record that makes a token reusable. A token without one stays single-use. The
/// CVC is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedCardRecord {
    pub tenant: TenantId,
    /// The token (`tok_...`), the tenant's.
    pub token: String,
    /// The tenant's customer reference (1 to 128 printable characters, never a card number).
    pub customer: String,
    /// When the tenant recorded the patient's consent (unix seconds).
    pub consented_at: UnixTime,
    /// When the saved card was deleted; a deleted card is never charged again.
    pub deleted_at: Option<UnixTime>,
}
