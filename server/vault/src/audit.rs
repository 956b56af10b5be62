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

use hushpay_store::{AuditRecord, Store, StoreError, TenantId, TokenRecord, UnixTime};
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

/// Appends entries, keeping the chain head in memory (one writer per store).
#[derive(Debug)]
pub struct AuditLog {
    store: Arc<dyn Store>,
    head: Mutex<Option<(u64, String)>>,
}

impl AuditLog {
    /// An audit log over `store`; the head is read on first append.
    pub fn new(store: Arc<dyn Store>) -> AuditLog {
        AuditLog {
            store,
            head: Mutex::new(None),
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
            .append_with_tokens(std::slice::from_ref(event), &[], at)
            .await?;
        records
            .pop()
            .ok_or_else(|| StoreError::Backend("no audit entry was built".into()))
    }

    /// Appends `events` as consecutive chained entries and inserts `tokens`, all in one store
    /// transaction ([`Store::insert_tokens_audited`]): the group commit of tokenizations. On
    /// error nothing was written (or, after a lost connection, it may have been: the head is
    /// re-read from the store before the next append either way).
    pub async fn append_with_tokens(
        &self,
        events: &[AuditEvent],
        tokens: &[TokenRecord],
        at: UnixTime,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        let mut head = self.head.lock().await;
        // Another process appending to the same store (the admin CLI beside a running
        // gateway) makes the cached head stale; the store refuses the reused `seq` as a
        // conflict, and the head is re-read and the append retried.
        let mut tries = 0;
        loop {
            let (mut seq, mut prev) = match head.as_ref() {
                Some((seq, hash)) => (*seq, hash.clone()),
                None => match self.store.last_audit().await? {
                    Some(last) => (last.seq, last.hash),
                    None => (0, GENESIS_HASH.to_owned()),
                },
            };
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
            match self.store.insert_tokens_audited(tokens, &records).await {
                Ok(()) => {
                    *head = Some((seq, prev));
                    return Ok(records);
                }
                Err(e) => {
                    *head = None;
                    tries += 1;
                    if !matches!(e, StoreError::Conflict(_)) || tries >= 3 {
                        return Err(e);
                    }
                }
            }
        }
    }
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
pub async fn verify(store: &dyn Store) -> Result<VerifyReport, StoreError> {
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
