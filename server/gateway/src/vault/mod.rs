//! The gateway's side of the vault: its keys (KEK, HPKE key pair) loaded from config, the
//! [`hushpay_vault::Vault`] over the store, and the HTTP error mapping. Handlers live in
//! `routes::{vault_keys, card_tokens}`.

pub mod cli;
pub mod config;
pub mod rewrap;
pub mod sad_purge;

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use hushpay_card::sealed::{RecipientPublicKey, RecipientSecretKey, generate_keypair};
use hushpay_store::Store;
use hushpay_vault::{Kek, Vault, VaultError};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::ApiError;
use config::{KekSource, VaultConfig};

/// The vault and the key pair card payloads are sealed to.
#[derive(Debug)]
pub struct VaultState {
    /// Shared with the SFU (chat transcripts and incidents use its key ring and audit log).
    pub vault: Arc<Vault>,
    pub hpke_secret: RecipientSecretKey,
    pub hpke_public: RecipientPublicKey,
    /// Key id published with the public key: `vault-` + 16 hex of SHA-256(public key).
    pub kid: String,
}

/// What start-up generated (development only), so the caller can warn.
#[derive(Debug, Default)]
pub struct Generated {
    pub kek: Option<std::path::PathBuf>,
    pub hpke: Option<std::path::PathBuf>,
}

impl VaultState {
    /// Loads (or in development generates) the keys and builds the vault.
    pub fn open(config: &VaultConfig, store: Arc<dyn Store>) -> anyhow::Result<(Self, Generated)> {
        let mut generated = Generated::default();
        let kek = match &config.kek {
            KekSource::Inline(text) => Kek::parse(text).context("vault.kek")?,
            KekSource::File(path) => Kek::load_file(path).context("vault.kek_file")?,
            KekSource::Generated(path) => {
                ensure_parent(path)?;
                let (kek, fresh) = Kek::load_or_generate(path).context("development KEK")?;
                if fresh {
                    generated.kek = Some(path.clone());
                }
                kek
            }
        };
        let (hpke_secret, fresh) = load_or_generate_hpke(&config.hpke_key_file)?;
        if fresh {
            generated.hpke = Some(config.hpke_key_file.clone());
        }
        let hpke_public = hpke_secret.public_key();
        let kid = format!(
            "vault-{}",
            &hex::encode(Sha256::digest(hpke_public.to_bytes()))[..16]
        );
        Ok((
            VaultState {
                // Every token's `token.created` commits in the token's own transaction.
                vault: Arc::new(
                    Vault::with_parts(
                        hushpay_vault::Keyring::new(kek, Arc::clone(&store) as _),
                        hushpay_vault::sad::SadStore::new(config.sad_ttl),
                        store,
                    )
                    .announcing_tokens(Arc::new(|meta| {
                        crate::payments::events::token_created(meta, hushpay_vault::unix_now())
                    })),
                ),
                hpke_secret,
                hpke_public,
                kid,
            },
            generated,
        ))
    }
}

fn ensure_parent(path: &Path) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::tokens::create_private_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    Ok(())
}

/// Reads the vault's HPKE secret key file (64 hex digits); `hushpay doctor` checks it with this.
pub fn read_hpke_key(path: &Path) -> anyhow::Result<RecipientSecretKey> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let bytes =
        Zeroizing::new(hex::decode(text.trim()).context("HPKE key file must hold 64 hex digits")?);
    RecipientSecretKey::from_bytes(&bytes).context("HPKE key file")
}

fn load_or_generate_hpke(path: &Path) -> anyhow::Result<(RecipientSecretKey, bool)> {
    if path.exists() {
        return Ok((read_hpke_key(path)?, false));
    }
    ensure_parent(path)?;
    let mut seed = Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.fill_bytes(seed.as_mut());
    let mut rng =
        <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_seed(*seed);
    let (secret, _public) = generate_keypair(&mut rng);
    let text = Zeroizing::new(hex::encode(secret.expose_bytes().as_ref()));
    write_private(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok((secret, true))
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

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        use axum::http::StatusCode;
        match e {
            VaultError::TokenNotFound => ApiError::not_found("no such token"),
            VaultError::TokenExpired => {
                ApiError::new(StatusCode::GONE, "token_expired", "the token has expired")
            }
            VaultError::TokenDeleted => ApiError::new(
                StatusCode::GONE,
                "token_deleted",
                "the saved card was deleted and is never charged again",
            ),
            VaultError::TokenNotSaved => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "token_not_saved",
                "the token is a one-time token, not a saved card: it cannot be charged again",
            ),
            VaultError::AlreadySaved => ApiError::new(
                StatusCode::CONFLICT,
                "already_saved",
                "the token is already a saved card",
            ),
            VaultError::InvalidCustomer => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_customer",
                e.to_string(),
            ),
            VaultError::AuditUnavailable(_) => {
                tracing::error!(error = %e, "audit log unavailable; vault operation refused");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "audit_unavailable",
                    "the audit log cannot be written; the operation was refused",
                )
            }
            VaultError::Store(inner) => ApiError::from(inner),
            other => ApiError::internal("vault", &other),
        }
    }
}
