//! The retention sweeper: every `sweep_interval`, recordings that started more than
//! `retention_days` ago are deleted, each after its `recording.delete` audit entry (audit or
//! deny: a recording whose entry cannot be written stays). A recording whose metadata cannot
//! be read is judged by its directory's modification time.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hushpay_store::TenantId;
use hushpay_vault::audit::AuditEvent;

use super::{Recorder, files};

/// Audit action of a deletion.
pub const AUDIT_DELETE: &str = "recording.delete";

/// Runs the sweeper for the life of the server (nothing when retention is off).
pub async fn run(recorder: Arc<Recorder>) {
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

/// Deletes every recording that started before `now - retention`; the number deleted.
pub async fn sweep(
    recorder: &Recorder,
    retention: Duration,
    now: SystemTime,
) -> anyhow::Result<usize> {
    let root = &recorder.config().dir;
    let cutoff_ms = now
        .checked_sub(retention)
        .unwrap_or(UNIX_EPOCH)
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    let mut deleted = 0;
    for tenant in files::tenants(root).await? {
        for id in files::recording_ids(root, &tenant).await? {
            let Some(dir) = files::recording_dir(root, &tenant, &id) else {
                continue;
            };
            if started_ms(&dir).await? >= cutoff_ms {
                continue;
            }
            recorder
                .vault()
                .audit(AuditEvent {
                    tenant: Some(TenantId::new(tenant.as_str())),
                    actor: "system".into(),
                    action: AUDIT_DELETE.into(),
                    resource: id.clone(),
                    outcome: format!(
                        "retention: older than {} days",
                        retention.as_secs() / 86_400
                    ),
                    request_id: String::new(),
                })
                .await?;
            tokio::fs::remove_dir_all(&dir).await?;
            deleted += 1;
        }
    }
    Ok(deleted)
}

async fn started_ms(dir: &Path) -> std::io::Result<i64> {
    if let Ok(m) = files::read_metadata(dir).await {
        return Ok(m.metadata.started_at_unix_ms);
    }
    let modified = tokio::fs::metadata(dir).await?.modified()?;
    Ok(modified
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0))
}
