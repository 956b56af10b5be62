//! The vault's error type. Messages never contain card data or key material.

use hushpay_store::StoreError;
use thiserror::Error;

/// What a vault operation can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The key-encryption key is missing or malformed.
    #[error("key-encryption key: {0}")]
    Kek(String),
    /// A ciphertext did not decrypt: wrong key, wrong binding (tenant, record, version, type)
    /// or tampered bytes. Deliberately not told apart.
    #[error("ciphertext could not be decrypted")]
    Decrypt,
    /// Encryption failed (should not happen with a valid key).
    #[error("encryption failed")]
    Encrypt,
    /// The data key version needed is not in the key ring.
    #[error("data key version {0} not found for this tenant")]
    UnknownKeyVersion(u32),
    /// The active key version reached its invocation limit; rotate first.
    #[error("data key version {0} reached its encryption limit; rotate the key")]
    KeyExhausted(u32),
    /// The token does not exist for this tenant.
    #[error("token not found")]
    TokenNotFound,
    /// The token expired.
    #[error("token expired")]
    TokenExpired,
    /// The saved card was deleted: it is never charged again.
    #[error("the saved card was deleted")]
    TokenDeleted,
    /// The token is a one-time token, not a saved card: it cannot be charged again.
    #[error("the token is not a saved card")]
    TokenNotSaved,
    /// The token is already a saved card.
    #[error("the token is already a saved card")]
    AlreadySaved,
    /// The customer reference is not 1 to 128 printable characters without a card number.
    #[error("`customer` must be 1 to 128 printable characters and must not hold a card number")]
    InvalidCustomer,
    /// A decrypted record had an unexpected shape.
    #[error("stored card record is malformed")]
    Malformed,
    /// The audit entry could not be written, so the operation was refused.
    #[error("audit log unavailable: operation refused")]
    AuditUnavailable(#[source] StoreError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
