//! The audit log: append-only, hash-chained entries (who, what, when, tenant, resource,
//! outcome, request id).
//!
//! Entry `n` stores `prev_hash` = hash of entry `n-1` (64 zeros for entry 1) and `hash` =
//! SHA-256 over a length-prefixed encoding of all its fields including `prev_hash`.
//! [`verify`] walks the log from the start: a changed field breaks that entry's hash, a
//! deleted entry leaves a gap in `seq` and breaks the next entry's `prev_hash`, and reordered
//! entries break both. Truncating the tail is only detectable against a head recorded earlier
//! ([`VerifyReport::head_hash`]): operators should keep the head printed by
//! `hushpay audit verify` somewhere else.

use std::sync::Arc;

use hushpay_store::{
    AuditRecord, OutboxEvent, StoreError, TenantId, TokenRecord, UnixTime, VaultStore,
};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    pub tenant: Option<TenantId>,
    pub actor: String,
    pub action: String,
    pub resource: String,
    pub outcome: String,
    pub request_id: String,
}

/// Computes an entry's hash from its fields (everything but `hash`).
pub fn entry_hash(e: &AuditRecord) -> String {
    let mut h = Sha256::new();
    h.update(b"hushpay-audit/v1");
    h.update(e.seq.to_be_bytes());
    h.update(e.at.to_be_bytes());
    let tenant = e.tenant.as_ref().map_or("", TenantId::as_str);
    for part in [
        tenant,
        &e.actor,
        &e.action,
        &e.resource,
        &e.outcome,
        &e.request_id,
        &e.prev_hash,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Appends entries. The chain's head is read inside the store's append transaction, which
/// holds it until the commit ([`VaultStore::insert_tokens_chained`]), so any number of gateways
/// (and the admin CLI) can append to one store: the database orders them into one chain and
/// none refuses another's append. Within one process appends also queue on a mutex, so they
/// wait here rather than on the database.
#[derive(Debug)]
pub struct AuditLog {
    store: Arc<dyn VaultStore>,
    queue: Mutex<()>,
}

impl AuditLog {
    /// An audit log over `store`.
    pub fn new(store: Arc<dyn VaultStore>) -> AuditLog {
        AuditLog {
            store,
            queue: Mutex::new(()),
        }
    }

    /// Appends one entry. An error means nothing may be assumed written: the caller must
    /// refuse the operation it was auditing.
    pub async fn append(
        &self,
        event: &AuditEvent,
        at: UnixTime,
    ) -> Result<AuditRecord, StoreError> {
        let mut records = self
            .append_with_tokens(std::slice::from_ref(event), &[], &[], at)
            .await?;
        records
            .pop()
            .ok_or_else(|| StoreError::Backend("no audit entry was built".into()))
    }

    /// Appends `events` as consecutive chained entries after the head the store holds, and
    /// inserts `tokens` and the outbox events they `announce`, all in one store transaction:
    /// the group commit of tokenizations. On
    /// error nothing was written (or, after a lost connection, it may have been: the next
    /// append builds on whatever the store holds either way).
    pub async fn append_with_tokens(
        &self,
        events: &[AuditEvent],
        tokens: &[TokenRecord],
        announce: &[OutboxEvent],
        at: UnixTime,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let _queue = self.queue.lock().await;
        let events: Arc<[AuditEvent]> = events.into();
        let chain = move |head: Option<&AuditRecord>| chain_after(head, &events, at);
        // A writer outside the store's head lock (a store used directly) can still take a
        // `seq` first; the append is then built again on the new head.
        let mut tries = 0;
        loop {
            match self
                .store
                .insert_tokens_chained(tokens, announce, Arc::new(chain.clone()))
                .await
            {
                Err(StoreError::Conflict(_)) if tries < 2 => tries += 1,
                result => return result,
            }
        }
    }
}

/// The entries for `events` after `head` (the genesis for an empty log), each linked to the
/// one before it.
pub fn chain_after(
    head: Option<&AuditRecord>,
    events: &[AuditEvent],
    at: UnixTime,
) -> Vec<AuditRecord> {
    let (mut seq, mut prev) =
        head.map_or((0, GENESIS_HASH.to_owned()), |h| (h.seq, h.hash.clone()));
    let mut records = Vec::with_capacity(events.len());
    for event in events {
        seq += 1;
        let mut record = AuditRecord {
            seq,
            at,
            tenant: event.tenant.clone(),
            actor: event.actor.clone(),
            action: event.action.clone(),
            resource: event.resource.clone(),
            outcome: event.outcome.clone(),
            request_id: event.request_id.clone(),
            prev_hash: prev,
            hash: String::new(),
        };
        record.hash = entry_hash(&record);
        prev = record.hash.clone();
        records.push(record);
    }
    records
}

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Hash of the last entry (the genesis hash for an empty log).
    pub head_hash: String,
    /// The first problem, if any.
    pub problem: Option<AuditProblem>,
}

/// A broken chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuditProblem {
    #[error("entry {found} found where entry {expected} was expected (deleted or reordered)")]
    Sequence { expected: u64, found: u64 },
    #[error("entry {0} does not link to the entry before it (deleted or reordered)")]
    Link(u64),
    #[error("entry {0} was changed (its hash does not match its contents)")]
    Hash(u64),
}

/// Walks the whole log and checks the chain.
pub async fn verify(store: &dyn VaultStore) -> Result<VerifyReport, StoreError> {
    const PAGE: usize = 1000;
    let mut expected = 1u64;
    let mut prev = GENESIS_HASH.to_owned();
    loop {
        let page = store.audit_entries(expected - 1, PAGE).await?;
        if page.is_empty() {
            return Ok(VerifyReport {
                entries: expected - 1,
                head_hash: prev,
                problem: None,
            });
        }
        for e in &page {
            let problem = if e.seq != expected {
                Some(AuditProblem::Sequence {
                    expected,
                    found: e.seq,
                })
            } else if e.prev_hash != prev {
                Some(AuditProblem::Link(e.seq))
            } else if entry_hash(e) != e.hash {
                Some(AuditProblem::Hash(e.seq))
            } else {
                None
            };
            if problem.is_some() {
                return Ok(VerifyReport {
                    entries: expected - 1,
                    head_hash: prev,
                    problem,
                });
            }
            prev = e.hash.clone();
            expected += 1;
        }
    }
}
