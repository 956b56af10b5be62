//! [`VaultStore`]: the vault's records, wrapped data keys, card tokens (ciphertext only) and
//! the hash-chained audit log. Each backend implements it in its vault file
//! (`memory_vault.rs`, `sqlite/vault.rs`, `postgres/vault.rs`). All the vault crate needs.

use std::sync::Arc;

use async_trait::async_trait;

use crate::{
    AuditRecord, DataKeyRecord, OutboxEvent, SavedCardRecord, StoreError, TenantId, TokenRecord,
    UnixTime,
};

/// Builds the audit entries to append after the chain's head (the last entry, `None` for an
/// empty log); called by [`VaultStore::insert_tokens_chained`] while the head is held. The
/// store never computes hashes itself: the chain's format belongs to the caller.
pub type AuditChainer = dyn Fn(Option<&AuditRecord>) -> Vec<AuditRecord> + Send + Sync;

/// The vault's data keys, tokens and audit log.
///
/// Every method is one query (or one transaction around one logical write); errors as on
/// [`crate::Store`].
#[async_trait]
pub trait VaultStore: Send + Sync + std::fmt::Debug {
    /// Inserts a wrapped data key. The same (tenant, version) twice is a
    /// [`StoreError::Conflict`].
    async fn insert_data_key(&self, key: &DataKeyRecord) -> Result<(), StoreError>;
    /// The tenant's data keys, lowest version first.
    async fn data_keys(&self, tenant: &TenantId) -> Result<Vec<DataKeyRecord>, StoreError>;
    /// Marks a data key version retired (decrypt only). False when there is no such key.
    async fn retire_data_key(&self, tenant: &TenantId, version: u32) -> Result<bool, StoreError>;
    /// Adds `count` to the key version's invocation counter and returns the new total; `None`
    /// when there is no such key. The write is durable before this returns.
    async fn reserve_key_invocations(
        &self,
        tenant: &TenantId,
        version: u32,
        count: u64,
    ) -> Result<Option<u64>, StoreError>;
    /// Inserts a token. The same id twice is a [`StoreError::Conflict`].
    async fn insert_token(&self, token: &TokenRecord) -> Result<(), StoreError>;
    /// Inserts several tokens in one transaction (group commit): all or none.
    async fn insert_tokens(&self, tokens: &[TokenRecord]) -> Result<(), StoreError>;
    /// In one transaction: inserts the tokens and appends the audit entries (group commit of
    /// tokenizations with their audit trail). All or none: a token id or audit `seq` that
    /// exists is a [`StoreError::Conflict`] and nothing is written.
    async fn insert_tokens_audited(
        &self,
        tokens: &[TokenRecord],
        audit: &[AuditRecord],
    ) -> Result<(), StoreError>;
    /// In one transaction that holds the audit chain's head for its whole length (no other
    /// append, from this process or another, can run in between): reads the last entry,
    /// builds the entries to append after it with `chain` (given `None` for an empty log),
    /// inserts `tokens`, those entries and the outbox `events` (with their deliveries, as
    /// [`crate::PaymentStore::insert_events`]: a token's `token.created` commits with it), and
    /// returns the entries. Appends from many gateways on one database form one chain
    /// without refusing each other. All or none: a token id or event id that exists is a
    /// [`StoreError::Conflict`] and nothing is written.
    async fn insert_tokens_chained(
        &self,
        tokens: &[TokenRecord],
        events: &[OutboxEvent],
        chain: Arc<AuditChainer>,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// The token with this id if it belongs to `tenant`.
    async fn token(&self, tenant: &TenantId, id: &str) -> Result<Option<TokenRecord>, StoreError>;
    /// Up to `limit` ids of the tenant's tokens under a key version below `version`.
    async fn tokens_below_key_version(
        &self,
        tenant: &TenantId,
        version: u32,
        limit: usize,
    ) -> Result<Vec<String>, StoreError>;
    /// Replaces a token's ciphertext (rewrap). False when the token is not the tenant's or is
    /// no longer under `old_version`.
    async fn rewrap_token(
        &self,
        tenant: &TenantId,
        id: &str,
        old_version: u32,
        new_version: u32,
        ciphertext: &[u8],
    ) -> Result<bool, StoreError>;
    /// Appends an audit entry. An existing `seq` is a [`StoreError::Conflict`]; entries are
    /// never updated or deleted through this trait.
    async fn append_audit(&self, entry: &AuditRecord) -> Result<(), StoreError>;
    /// Up to `limit` audit entries with `seq > after`, in order.
    async fn audit_entries(&self, after: u64, limit: usize)
    -> Result<Vec<AuditRecord>, StoreError>;
    /// The entry with the highest `seq`, if any.
    async fn last_audit(&self) -> Result<Option<AuditRecord>, StoreError>;
    /// Saves a token for later charges. The token must exist and be the record's tenant's
    /// (else [`StoreError::Conflict`]); saving the same token twice is a conflict too.
    async fn insert_saved_card(&self, card: &SavedCardRecord) -> Result<(), StoreError>;
    /// The saved-card record of the tenant's token, deleted or not; `None` when the token was
    /// never saved (or is another tenant's).
    async fn saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
    ) -> Result<Option<SavedCardRecord>, StoreError>;
    /// Marks the tenant's saved card deleted at `at`. False when there is no such saved card
    /// or it was already deleted (the first deletion's time is kept).
    async fn delete_saved_card(
        &self,
        tenant: &TenantId,
        token: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError>;
    /// The customer's saved cards that are not deleted, oldest consent first (then token).
    async fn saved_cards(
        &self,
        tenant: &TenantId,
        customer: &str,
    ) -> Result<Vec<SavedCardRecord>, StoreError>;
}
