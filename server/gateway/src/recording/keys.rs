//! The recording's keys through the vault:
//!
//! * the recording key (fresh per recording) is wrapped with the tenant's data key by the
//!   vault's [`Keyring`] (AES-256-GCM, associated data binding record type `recording_key`,
//!   tenant, recording id and key version): the track headers carry the wrapped blob and the
//!   version, so a header moved to another recording or tenant does not unwrap;
//! * the metadata signing key is HMAC-SHA256 under the tenant's KEK-derived key with its own
//!   label: it is never stored, and only a holder of the KEK can sign.
//!
//! [`Keyring`]: hushpay_vault::Keyring

use hmac::{Hmac, Mac};
use hushpay_recording::{KEY_BYTES, RecordingKey};
use hushpay_store::TenantId;
use hushpay_vault::{Vault, VaultError};
use rand::RngCore;
use sha2::Sha256;
use zeroize::Zeroizing;

/// Record type bound into the wrapped key's associated data.
pub const RECORDING_KEY_RECORD: &str = "recording_key";

/// A fresh recording key from the OS CSPRNG.
pub fn fresh_key() -> RecordingKey {
    let mut bytes = Zeroizing::new([0u8; KEY_BYTES]);
    rand::rngs::OsRng.fill_bytes(bytes.as_mut());
    RecordingKey::from_bytes(*bytes)
}

/// Wraps `key` with the tenant's active data key: (version, hex blob).
pub async fn wrap(
    vault: &Vault,
    tenant: &str,
    recording_id: &str,
    key: &RecordingKey,
) -> Result<(u32, String), VaultError> {
    let (version, blob) = vault
        .keyring()
        .encrypt(
            &TenantId::new(tenant),
            RECORDING_KEY_RECORD,
            recording_id,
            key.bytes(),
        )
        .await?;
    Ok((version, hex::encode(blob)))
}

/// Unwraps a key made by [`wrap`].
pub async fn unwrap(
    vault: &Vault,
    tenant: &str,
    recording_id: &str,
    version: u32,
    wrapped_hex: &str,
) -> Result<RecordingKey, VaultError> {
    let blob = hex::decode(wrapped_hex).map_err(|_| VaultError::Malformed)?;
    let plain = vault
        .keyring()
        .decrypt(
            &TenantId::new(tenant),
            RECORDING_KEY_RECORD,
            recording_id,
            version,
            &blob,
        )
        .await?;
    let bytes: [u8; KEY_BYTES] = plain
        .as_slice()
        .try_into()
        .map_err(|_| VaultError::Malformed)?;
    Ok(RecordingKey::from_bytes(bytes))
}

/// The tenant's metadata signing key.
pub fn metadata_key(vault: &Vault, tenant: &str) -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let base = vault.keyring().fingerprint_key(&TenantId::new(tenant))?;
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(base.as_ref()).map_err(|_| VaultError::Encrypt)?;
    mac.update(b"hushpay-recording-metadata-key/v1");
    Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
}
