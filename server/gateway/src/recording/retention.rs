//! The retention sweeper: every `sweep_interval`, recordings that started more than
//! `retention_days` ago are deleted, each after its `recording.delete` audit entry (audit or
//! deny: a recording whose entry cannot be written stays).
//!
//! Every node of a cluster runs the sweeper; each recording is deleted by one of them. A
//! sweeper claims old recordings in the store's index
//! ([`hushpay_store::RecordingStore::claim_recordings_for_deletion`]: a lease of [`LEASE_SECS`], like
//! the webhook deliveries'), audits each, records in the index that it did, deletes its
//! objects, then its index row. A sweeper that dies on the way leaves the lease to run out;
//! the next claimer finds the audit recorded and does not audit again (only a death between
//! the audit entry and that record audits twice).
//!
//! At start each node also indexes the recordings of its local directory that the index does
//! not hold (written before the index existed), so that they are listed and swept too.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hushpay_store::{RecordingLease, RecordingRecord, TenantId};
use hushpay_vault::audit::AuditEvent;

use super::objects::Backend;
use super::{Recorder, files};

/// Audit action of a deletion.
pub const AUDIT_DELETE: &str = "recording.delete";
/// How long a sweeper holds the recordings it claimed.
pub const LEASE_SECS: i64 = 300;
/// Recordings claimed at once.
const CLAIM_BATCH: usize = 50;

/// Indexes the local directory's unindexed recordings, then runs the sweeper for the life of
/// the server (no sweeper when retention is off).
pub async fn run(recorder: Arc<Recorder>) {
    match index_local(&recorder).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(indexed = n, "recordings of the local directory indexed"),
        Err(e) => tracing::error!(error = %e, "indexing the local recordings failed"),
    }
    let Some(retention) = recorder.config().retention else {
        return;
    };
    let mut tick = tokio::time::interval(recorder.config().sweep_interval);
    loop {
        tick.tick().await;
        match sweep(&recorder, retention, SystemTime::now()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "recording retention sweep"),
            Err(e) => tracing::error!(error = %e, "recording retention sweep failed"),
        }
    }
}

fn unix_ms(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// This sweeper's name in the leases (unique per process and call).
fn owner() -> String {
    format!("sweeper-{}-{}", std::process::id(), crate::ids::base62(12))
}

/// Deletes every recording that started before `now - retention` and that no other sweeper
/// holds; the number this call deleted.
pub async fn sweep(
    recorder: &Recorder,
    retention: Duration,
    now: SystemTime,
) -> anyhow::Result<usize> {
    let cutoff_ms = unix_ms(now.checked_sub(retention).unwrap_or(UNIX_EPOCH));
    let store = recorder.store();
    let owner = owner();
    let mut deleted = 0;
    loop {
        let lease_now = unix_ms(SystemTime::now()) / 1000;
        let lease = RecordingLease {
            owner: owner.clone(),
            now: lease_now,
            until: lease_now + LEASE_SECS,
        };
        let claimed = store
            .claim_recordings_for_deletion(&lease, cutoff_ms, CLAIM_BATCH)
            .await?;
        if claimed.is_empty() {
            return Ok(deleted);
        }
        for r in claimed {
            if delete_one(recorder, &owner, &r, retention).await? {
                deleted += 1;
            }
        }
    }
}

/// Audits (unless a former claimer did), deletes the objects, then the index row. False when
/// another sweeper took the recording over meanwhile.
async fn delete_one(
    recorder: &Recorder,
    owner: &str,
    r: &RecordingRecord,
    retention: Duration,
) -> anyhow::Result<bool> {
    let store = recorder.store();
    if !r.deletion_audited {
        recorder
            .vault()
            .audit(AuditEvent {
                tenant: Some(r.tenant.clone()),
                actor: "system".into(),
                action: AUDIT_DELETE.into(),
                resource: r.id.clone(),
                outcome: format!(
                    "retention: older than {} days",
                    retention.as_secs() / 86_400
                ),
                request_id: String::new(),
            })
            .await?;
        if !store
            .mark_recording_deletion_audited(&r.tenant, &r.id, owner)
            .await?
        {
            return Ok(false);
        }
    }
    if let Some(prefix) = files::recording_prefix(r.tenant.as_str(), &r.id) {
        recorder.objects().delete_all(&prefix).await?;
    }
    Ok(store.delete_recording(&r.tenant, &r.id, owner).await?)
}

/// Indexes the recordings of the local directory that the index does not hold (the former
/// layout kept no index); the number indexed. The start time is the metadata's, or the
/// directory's modification time when the metadata cannot be read. S3 storage has no
/// recordings from before the index: nothing to do there.
pub async fn index_local(recorder: &Recorder) -> anyhow::Result<usize> {
    let Backend::Local(root) = recorder.objects().backend() else {
        return Ok(0);
    };
    let store = recorder.store();
    let mut indexed = 0;
    for tenant in files::tenants(root).await? {
        let tenant_id = TenantId::new(tenant.as_str());
        for id in files::recording_ids(root, &tenant).await? {
            if store.recording(&tenant_id, &id).await?.is_some() {
                continue;
            }
            let Some(prefix) = files::recording_prefix(&tenant, &id) else {
                continue;
            };
            let meta = recorder
                .objects()
                .get(&files::metadata_key(&prefix))
                .await
                .ok()
                .flatten()
                .and_then(|b| hushpay_recording::SignedMetadata::parse(&b).ok());
            let (room, started_at_ms) = match meta {
                Some(m) => (m.metadata.room, m.metadata.started_at_unix_ms),
                None => {
                    let Some(dir) = files::recording_dir(root, &tenant, &id) else {
                        continue;
                    };
                    let modified = tokio::fs::metadata(&dir).await?.modified()?;
                    (String::new(), unix_ms(modified))
                }
            };
            let record = RecordingRecord {
                tenant: tenant_id.clone(),
                id,
                room,
                started_at_ms,
                deletion_audited: false,
            };
            match store.insert_recording(&record).await {
                Ok(()) => indexed += 1,
                // Another node indexed it first, or its tenant is gone: nothing to list.
                Err(hushpay_store::StoreError::Conflict(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(indexed)
}
