//! The vault service: tokenize, look up metadata, open a card for a connector, rotate and
//! rewrap — each audited first (audit or deny).

use std::sync::Arc;

use hushpay_card::{Cvc, Expiry, Pan};
use hushpay_store::{DataKeyState, OutboxEvent, TenantId, TokenRecord, UnixTime, VaultStore};
use zeroize::Zeroizing;

use crate::audit::{AuditEvent, AuditLog};
use crate::group_commit::GroupCommit;
use crate::keyring::Keyring;
use crate::sad::SadStore;
use crate::token::{self, TOKEN_RECORD_TYPE, TokenMetadata};
use crate::{Kek, VaultError};

/// Who asked, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// `key_...`, `agent:<subject>`, `admin`, `system`.
    pub who: String,
    pub request_id: String,
}

/// A card opened for a connector: PAN, expiry and the CVC if one is still held. Dropping it
/// zeroizes everything.
#[derive(Debug)]
pub struct OpenedCard {
    pub pan: Pan,
    pub expiry: Expiry,
    pub cvc: Option<Cvc>,
}

/// Builds the outbox event a new token announces (the gateway's `token.created`), committed
/// in the token's own transaction.
pub type TokenEvents = dyn Fn(&TokenMetadata) -> OutboxEvent + Send + Sync;

/// The vault over a store.
pub struct Vault {
    store: Arc<dyn VaultStore>,
    keyring: Keyring,
    audit: Arc<AuditLog>,
    writer: GroupCommit,
    sad: SadStore,
    token_events: Option<Arc<TokenEvents>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("store", &self.store)
            .field("keyring", &self.keyring)
            .field("writer", &self.writer)
            .field("announces_tokens", &self.token_events.is_some())
            .finish_non_exhaustive()
    }
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Vault {
    /// A vault with default key limits and CVC TTL.
    pub fn new(kek: Kek, store: Arc<dyn VaultStore>) -> Vault {
        Vault::with_parts(
            Keyring::new(kek, Arc::clone(&store)),
            SadStore::default(),
            store,
        )
    }

    /// A vault from explicit parts (tests use small key limits and short TTLs).
    pub fn with_parts(keyring: Keyring, sad: SadStore, store: Arc<dyn VaultStore>) -> Vault {
        let audit = Arc::new(AuditLog::new(Arc::clone(&store)));
        Vault {
            writer: GroupCommit::new(Arc::clone(&audit)),
            audit,
            store,
            keyring,
            sad,
            token_events: None,
        }
    }

    /// This vault with every new token announced by the event `events` builds: the event is
    /// written to the store's outbox in the same transaction as the token and its audit entry
    /// ([`VaultStore::insert_tokens_chained`]), so a crash cannot keep one without the other.
    pub fn announcing_tokens(mut self, events: Arc<TokenEvents>) -> Vault {
        self.token_events = Some(events);
        self
    }

    /// Drops (and zeroizes) every CVC past its TTL that no authorization took; returns how
    /// many are still held. The gateway calls it on a timer, so an abandoned CVC does not
    /// outlive its TTL in memory.
    pub fn purge_expired_sad(&self) -> usize {
        self.sad.purge_expired()
    }

    /// CVCs held in memory now, expired or not.
    pub fn sad_held(&self) -> usize {
        self.sad.held()
    }

    /// The key ring (rotation, versions).
    pub fn keyring(&self) -> &Keyring {
        &self.keyring
    }

    /// The tokenization writer (its counters show how well batching works).
    pub fn group_commit(&self) -> &GroupCommit {
        &self.writer
    }

    /// The store this vault writes to.
    pub fn store(&self) -> &Arc<dyn VaultStore> {
        &self.store
    }

    /// Records an event; an error means the caller must refuse the operation.
    pub async fn audit(&self, event: AuditEvent) -> Result<(), VaultError> {
        self.audit
            .append(&event, unix_now())
            .await
            .map(drop)
            .map_err(VaultError::AuditUnavailable)
    }

    pub(crate) fn event(
        actor: &Actor,
        tenant: &TenantId,
        action: &str,
        resource: &str,
        outcome: &str,
    ) -> AuditEvent {
        AuditEvent {
            tenant: Some(tenant.clone()),
            actor: actor.who.clone(),
            action: action.to_owned(),
            resource: resource.to_owned(),
            outcome: outcome.to_owned(),
            request_id: actor.request_id.clone(),
        }
    }

    /// Builds an encrypted token record (no store write, no audit): the step that group
    /// commit batches.
    pub async fn prepare_token(
        &self,
        tenant: &TenantId,
        pan: &Pan,
        expiry: &Expiry,
        expires_at: Option<UnixTime>,
    ) -> Result<TokenRecord, VaultError> {
        let id = token::new_token_id();
        let fp_key = self.keyring.fingerprint_key(tenant)?;
        let fingerprint = token::fingerprint(&fp_key, pan)?;
        let plain = token::encode_card(pan, expiry);
        let (key_version, ciphertext) = self.encrypt_token(tenant, &id, &plain).await?;
        Ok(TokenRecord {
            id,
            tenant: tenant.clone(),
            brand: pan.brand().map_or("unknown", |b| b.id()).to_owned(),
            last4: pan.last4().to_owned(),
            exp_month: expiry.month(),
            exp_year: expiry.year(),
            fingerprint,
            created_at: unix_now(),
            expires_at,
            key_version,
            ciphertext,
        })
    }

    /// Encrypts a token's card under the active version, rotating (audited) when the version
    /// reached its invocation limit.
    async fn encrypt_token(
        &self,
        tenant: &TenantId,
        id: &str,
        plain: &[u8],
    ) -> Result<(u32, Vec<u8>), VaultError> {
        match self
            .keyring
            .encrypt(tenant, TOKEN_RECORD_TYPE, id, plain)
            .await
        {
            Err(VaultError::KeyExhausted(_)) => {
                self.audit(AuditEvent {
                    tenant: Some(tenant.clone()),
                    actor: "system".into(),
                    action: "key.rotate".into(),
                    resource: "invocation-limit".into(),
                    outcome: "ok".into(),
                    request_id: String::new(),
                })
                .await?;
                self.keyring.rotate(tenant).await?;
                self.keyring
                    .encrypt(tenant, TOKEN_RECORD_TYPE, id, plain)
                    .await
            }
            other => other,
        }
    }

    /// Tokenizes a card: the token row, its audit entry and the event it announces (see
    /// [`Vault::announcing_tokens`]) are group-committed in one transaction ([`GroupCommit`])
    /// and the metadata is returned only once both are durable
    /// (audit or deny). The CVC, if given, is held in memory only, under the token id, for
    /// one authorization.
    pub async fn tokenize(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        pan: &Pan,
        expiry: &Expiry,
        cvc: Option<Cvc>,
        expires_at: Option<UnixTime>,
    ) -> Result<TokenMetadata, VaultError> {
        let record = self.prepare_token(tenant, pan, expiry, expires_at).await?;
        let meta = TokenMetadata::from(&record);
        let event = Self::event(actor, tenant, "token.create", &record.id, "ok");
        let announced = self.token_events.as_ref().map(|build| build(&meta));
        self.writer
            .commit(record, event, announced)
            .await
            .map_err(VaultError::AuditUnavailable)?;
        if let Some(cvc) = cvc {
            self.sad.put(&meta.id, cvc);
        }
        Ok(meta)
    }

    /// A token's masked metadata. Tokens of other tenants are "not found".
    pub async fn token(&self, tenant: &TenantId, id: &str) -> Result<TokenMetadata, VaultError> {
        if !token::is_token_id(id) {
            return Err(VaultError::TokenNotFound);
        }
        let record = self
            .store
            .token(tenant, id)
            .await?
            .ok_or(VaultError::TokenNotFound)?;
        Ok(TokenMetadata::from(&record))
    }

    /// Decrypts a token for a processor connector (the only place a PAN leaves storage). The
    /// CVC held for it, if any, is taken (single use). Audited before decryption.
    pub async fn open_for_connector(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
        connector: &str,
    ) -> Result<OpenedCard, VaultError> {
        let record = self.token_record(tenant, id).await?;
        let (pan, expiry) = self
            .detokenize(actor, tenant, &record, &format!("{id} -> {connector}"))
            .await?;
        Ok(OpenedCard {
            pan,
            expiry,
            cvc: self.sad.take(id),
        })
    }

    /// The tenant's token record `id`: `TokenNotFound` for a malformed id, an unknown token or
    /// another tenant's.
    pub(crate) async fn token_record(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<TokenRecord, VaultError> {
        if !token::is_token_id(id) {
            return Err(VaultError::TokenNotFound);
        }
        self.store
            .token(tenant, id)
            .await?
            .ok_or(VaultError::TokenNotFound)
    }

    /// Opens `record` for a connector: refuses an expired token, audits the detokenization
    /// (`resource` names the token and the connector) before anything is decrypted, decrypts.
    pub(crate) async fn detokenize(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        record: &TokenRecord,
        resource: &str,
    ) -> Result<(Pan, Expiry), VaultError> {
        if record.expires_at.is_some_and(|e| e <= unix_now()) {
            return Err(VaultError::TokenExpired);
        }
        self.audit(Self::event(
            actor,
            tenant,
            "token.detokenize",
            resource,
            "ok",
        ))
        .await?;
        self.decrypt_record(record).await
    }

    /// Decrypts a stored record (used by rewrap and connectors).
    pub(crate) async fn decrypt_record(
        &self,
        record: &TokenRecord,
    ) -> Result<(Pan, Expiry), VaultError> {
        let plain: Zeroizing<Vec<u8>> = self
            .keyring
            .decrypt(
                &record.tenant,
                TOKEN_RECORD_TYPE,
                &record.id,
                record.key_version,
                &record.ciphertext,
            )
            .await?;
        token::decode_card(&plain)
    }

    /// Checks that a token decrypts (tests and the crash-loop check); returns nothing secret.
    pub async fn verify_token_decrypts(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<TokenMetadata, VaultError> {
        let record = self
            .store
            .token(tenant, id)
            .await?
            .ok_or(VaultError::TokenNotFound)?;
        let (pan, expiry) = self.decrypt_record(&record).await?;
        if pan.last4() != record.last4 || expiry.month() != record.exp_month {
            return Err(VaultError::Malformed);
        }
        Ok(TokenMetadata::from(&record))
    }

    /// Rotates the tenant's data key (audited first). Returns the new version.
    pub async fn rotate(&self, actor: &Actor, tenant: &TenantId) -> Result<u32, VaultError> {
        self.audit(Self::event(actor, tenant, "key.rotate", "data_key", "ok"))
            .await?;
        self.keyring.rotate(tenant).await
    }

    /// Moves every token of the tenant still under a retired key version to the active one,
    /// `batch` tokens (one audit entry) at a time; returns how many moved. Cheap when there is
    /// nothing to do: tenants without a retired version cost one read. Picks up rotations
    /// made by another process first ([`Keyring::refresh`]). Used by `hushpay keys rotate`
    /// and the gateway's background rewrap.
    pub async fn rewrap_retired(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        batch: usize,
    ) -> Result<usize, VaultError> {
        let keys = self.store.data_keys(tenant).await?;
        if !keys.iter().any(|k| k.state == DataKeyState::Retired) {
            return Ok(0);
        }
        self.keyring.refresh(tenant).await?;
        let mut moved = 0;
        loop {
            let n = self.rewrap(actor, tenant, batch.max(1)).await?;
            if n == 0 {
                return Ok(moved);
            }
            moved += n;
        }
    }

    /// Re-encrypts up to `limit` of the tenant's tokens still under older key versions with
    /// the active version. Returns how many were rewrapped (0 when done).
    pub async fn rewrap(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        limit: usize,
    ) -> Result<usize, VaultError> {
        let active = self.keyring.active_version(tenant).await?;
        let ids = self
            .store
            .tokens_below_key_version(tenant, active, limit)
            .await?;
        if ids.is_empty() {
            return Ok(0);
        }
        self.audit(Self::event(
            actor,
            tenant,
            "key.rewrap",
            &format!("{} tokens", ids.len()),
            "ok",
        ))
        .await?;
        let mut done = 0;
        for id in ids {
            let Some(record) = self.store.token(tenant, &id).await? else {
                continue;
            };
            let (pan, expiry) = self.decrypt_record(&record).await?;
            let plain = token::encode_card(&pan, &expiry);
            let (version, ct) = self.encrypt_token(tenant, &id, &plain).await?;
            if self
                .store
                .rewrap_token(tenant, &id, record.key_version, version, &ct)
                .await?
            {
                done += 1;
            }
        }
        Ok(done)
    }
}
