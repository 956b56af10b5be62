//! # hushpay-vault
//!
//! Where card data lives, and the only place it is decrypted. Pure domain and crypto over
//! [`hushpay_store::VaultStore`] (data keys, tokens, the audit log): no sockets, no HTTP, no
//! database driver.
//!
//! ## What it promises
//!
//! * **PAN unreadable where stored** (PCI DSS 3.5.1): each token's card is AES-256-GCM
//!   encrypted ([`aead`]) under a per-tenant data key, with a 96-bit random nonce and
//!   associated data binding record type, tenant, token id and key version — a row copied to
//!   another tenant or token does not decrypt. Data keys are wrapped by the key-encryption key
//!   ([`Kek`]).
//! * **Key limits** (NIST SP 800-38D): encryptions are counted per key version, reserved
//!   durably before use; a version refuses to encrypt at 2^31 and the vault rotates. Retired
//!   versions decrypt only; [`Vault::rewrap`] moves tokens to the active version.
//! * **Tokens** are `tok_` + base62 ([`token`]), never a digit string; metadata is masked
//!   (brand, last4, expiry, keyed per-tenant fingerprint). No function returns a PAN to a
//!   caller: [`Vault::open_for_connector`] is for processor connectors only.
//! * **SAD**: the CVC lives in [`sad::SadStore`] — memory only, single use, TTL 5 minutes.
//! * **Audit or deny**: every token and key operation appends a hash-chained [`audit`] entry
//!   first, and is refused when that fails. Tokenizations are group-committed
//!   ([`group_commit`]): each token row lands in the same transaction as its audit entry, and
//!   is acknowledged only once that transaction is durable. [`audit::verify`] detects changed, deleted and
//!   reordered entries.
//! * **Webhooks** ([`webhook`]): Standard Webhooks signatures and a destination check that
//!   refuses loopback, private and link-local targets unless allowed.
//! * **Connectors** ([`connector`]): the trait and the in-process `sandbox` acquirer.
//!
//! Errors are [`VaultError`]; their messages never contain card data or keys.

pub mod aead;
pub mod audit;
pub mod connector;
mod error;
pub mod group_commit;
pub mod kek;
pub mod keyring;
pub mod payment;
pub mod sad;
pub mod saved;
pub mod token;
mod vault;
pub mod webhook;

pub use error::VaultError;
pub use kek::Kek;
pub use keyring::Keyring;
pub use token::TokenMetadata;
pub use vault::{Actor, OpenedCard, Vault, unix_now};
