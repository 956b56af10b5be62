//! Group commit of tokenizations: concurrent [`crate::Vault::tokenize`] calls hand their
//! encrypted token row, its audit event and the outbox event it announces to one writer task,
//! which commits everything that queued up while the previous commit was in flight as ONE
//! store transaction (token rows + their hash-chained audit entries + their `token.created`
//! events, [`AuditLog::append_with_tokens`]).
//!
//! * **Audit or deny** holds per token: its row and its audit entry are in the same
//!   transaction, and the caller is answered only after that transaction is durable. A failed
//!   commit answers every caller in it with the error (nothing of theirs was acknowledged).
//! * **One bad row does not sink its neighbours**: when a batch of several fails, each job is
//!   retried alone, so only the faulty one is refused.
//! * **Chain order**: the writer is the only appender for the batch, under the audit log's
//!   head lock, so entries are consecutive and chained whatever else appends meanwhile.
//! * **Cancellation**: a caller that goes away (client disconnect) does not cancel its job;
//!   the commit completes or fails on the writer task, never half-way through a batch.
//!
//! With one client each tokenization still waits for its own commit (a `fsync`); with N
//! concurrent clients a commit carries up to N of them: see `docs/benchmarks.md`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use hushpay_store::{OutboxEvent, StoreError, TokenRecord};
use tokio::sync::{mpsc, oneshot};

use crate::audit::{AuditEvent, AuditLog};
use crate::unix_now;

/// The most tokenizations one transaction carries.
pub const MAX_BATCH: usize = 512;
/// Jobs that may wait for the writer before callers wait to enqueue (back-pressure).
const QUEUE: usize = 4 * MAX_BATCH;

struct Job {
    token: TokenRecord,
    event: AuditEvent,
    /// The outbox event the token announces (`token.created`), if any.
    announced: Option<OutboxEvent>,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The writer's handle. The task starts on first use, on the caller's tokio runtime, and
/// stops when the handle is dropped (after finishing the jobs already queued).
pub struct GroupCommit {
    audit: Arc<AuditLog>,
    sender: OnceLock<mpsc::Sender<Job>>,
    stats: Arc<Stats>,
}

/// Counters of the writer (how well batching works).
#[derive(Debug, Default)]
struct Stats {
    transactions: AtomicU64,
    jobs: AtomicU64,
}

impl std::fmt::Debug for GroupCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommit")
            .field("started", &self.sender.get().is_some())
            .field("transactions", &self.transactions())
            .finish()
    }
}

impl GroupCommit {
    /// A writer appending to `audit` (and inserting tokens into its store).
    pub fn new(audit: Arc<AuditLog>) -> GroupCommit {
        GroupCommit {
            audit,
            sender: OnceLock::new(),
            stats: Arc::default(),
        }
    }

    /// Batches committed (or attempted) so far.
    pub fn transactions(&self) -> u64 {
        self.stats.transactions.load(Ordering::Relaxed)
    }

    /// Tokenizations handled so far.
    pub fn jobs(&self) -> u64 {
        self.stats.jobs.load(Ordering::Relaxed)
    }

    /// Commits `token` with the audit entry for `event` and the outbox event it `announced`;
    /// returns once all are durable (or with the error that refused them).
    pub async fn commit(
        &self,
        token: TokenRecord,
        event: AuditEvent,
        announced: Option<OutboxEvent>,
    ) -> Result<(), StoreError> {
        let sender = self.sender.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(rx, Arc::clone(&self.audit), Arc::clone(&self.stats)));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let job = Job {
            token,
            event,
            announced,
            reply,
        };
        if sender.send(job).await.is_err() {
            return Err(StoreError::Backend("the token writer has stopped".into()));
        }
        answer
            .await
            .map_err(|_| StoreError::Backend("the token writer stopped mid-commit".into()))?
    }
}

/// The writer: takes whatever queued up (at most [`MAX_BATCH`]) and commits it as one.
async fn run(mut rx: mpsc::Receiver<Job>, audit: Arc<AuditLog>, stats: Arc<Stats>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        stats.transactions.fetch_add(1, Ordering::Relaxed);
        stats.jobs.fetch_add(batch.len() as u64, Ordering::Relaxed);
        commit_batch(&audit, std::mem::take(&mut batch)).await;
    }
}

async fn commit_batch(audit: &AuditLog, batch: Vec<Job>) {
    let (tokens, events): (Vec<TokenRecord>, Vec<AuditEvent>) = batch
        .iter()
        .map(|j| (j.token.clone(), j.event.clone()))
        .unzip();
    let announced: Vec<OutboxEvent> = batch.iter().filter_map(|j| j.announced.clone()).collect();
    match audit
        .append_with_tokens(&events, &tokens, &announced, unix_now())
        .await
    {
        Ok(_) => {
            for job in batch {
                // A caller that went away no longer needs the answer.
                let _ = job.reply.send(Ok(()));
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some(job) = batch.into_iter().next() {
                let _ = job.reply.send(Err(e));
            }
        }
        Err(_) => {
            for job in batch {
                let one = audit
                    .append_with_tokens(
                        std::slice::from_ref(&job.event),
                        std::slice::from_ref(&job.token),
                        job.announced.as_slice(),
                        unix_now(),
                    )
                    .await
                    .map(drop);
                let _ = job.reply.send(one);
            }
        }
    }
}
