//! A recording's metadata task: it sets the recording up (recording key wrapped by the vault,
//! the recording indexed in the store so every node finds it, first signed metadata) and
//! tells the track writers when they may start, then keeps `metadata.json` in step with every
//! track and pause window, signed each time.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use hushpay_recording::metadata::METADATA_VERSION;
use hushpay_recording::{Metadata, PauseWindow, RecordingKey, SignedMetadata, TrackInfo};
use hushpay_store::{RecordingRecord, RecordingStore, TenantId};
use hushpay_vault::Vault;
use object_store::path::Path as ObjectPath;
use tokio::sync::{mpsc, watch};

use super::objects::Containers;
use super::{files, keys};
use crate::metrics::Metrics;

/// Whether the track writers may write.
#[derive(Debug, Clone)]
pub enum Setup {
    Pending,
    Ready {
        key_version: u32,
        wrapped_key: Arc<str>,
    },
    Failed,
}

/// A change of the recording's metadata.
#[derive(Debug)]
pub enum MetaEvent {
    Track(TrackInfo),
    TrackDone {
        track: String,
        chunks: Option<u64>,
    },
    Pause {
        reason: String,
        by: String,
        at_ms: u32,
    },
    Resume {
        reason: String,
        at_ms: u32,
    },
    End {
        at_ms: u32,
    },
}

/// What the task starts from.
#[derive(Debug)]
pub struct MetaCtx {
    pub vault: Arc<Vault>,
    /// The recording index.
    pub store: Arc<dyn RecordingStore>,
    pub metrics: Arc<Metrics>,
    /// The recording's key prefix.
    pub prefix: ObjectPath,
    pub objects: Arc<Containers>,
    pub key: RecordingKey,
    pub metadata: Metadata,
    pub setup: watch::Sender<Setup>,
}

/// Applies `event` to `m`.
pub fn apply(m: &mut Metadata, event: MetaEvent) {
    match event {
        MetaEvent::Track(t) => m.tracks.push(t),
        MetaEvent::TrackDone { track, chunks } => {
            if let Some(t) = m.tracks.iter_mut().find(|t| t.track == track) {
                t.chunks = chunks;
            }
        }
        MetaEvent::Pause { reason, by, at_ms } => m.pauses.push(PauseWindow {
            from_ms: at_ms,
            to_ms: None,
            reason,
            by,
        }),
        MetaEvent::Resume { reason, at_ms } => {
            if let Some(p) = m
                .pauses
                .iter_mut()
                .rev()
                .find(|p| p.reason == reason && p.to_ms.is_none())
            {
                p.to_ms = Some(at_ms.max(p.from_ms));
            }
        }
        MetaEvent::End { at_ms } => m.ended_ms = Some(at_ms),
    }
}

/// A fresh metadata document.
pub fn new_metadata(id: &str, tenant: &str, room: &str, started_at_unix_ms: i64) -> Metadata {
    Metadata {
        version: METADATA_VERSION,
        recording_id: id.to_owned(),
        tenant: tenant.to_owned(),
        room: room.to_owned(),
        started_at_unix_ms,
        ended_ms: None,
        tracks: Vec::new(),
        pauses: Vec::new(),
    }
}

/// Runs the task until the recording ended and every track finished.
pub async fn run(ctx: MetaCtx, mut rx: mpsc::UnboundedReceiver<MetaEvent>) {
    let MetaCtx {
        vault,
        store,
        metrics,
        prefix,
        objects,
        key,
        mut metadata,
        setup,
    } = ctx;
    let id = metadata.recording_id.clone();
    let tenant = metadata.tenant.clone();
    let ready = async {
        let (key_version, wrapped_key) = keys::wrap(&vault, &tenant, &id, &key).await?;
        // Indexed before anything is written: no object exists that the retention sweep
        // cannot find.
        store
            .insert_recording(&RecordingRecord {
                tenant: TenantId::new(tenant.as_str()),
                id: id.clone(),
                room: metadata.room.clone(),
                started_at_ms: metadata.started_at_unix_ms,
                deletion_audited: false,
            })
            .await?;
        write(&vault, &objects, &prefix, &metadata).await?;
        anyhow::Ok(Setup::Ready {
            key_version,
            wrapped_key: wrapped_key.into(),
        })
    }
    .await;
    let ok = match ready {
        Ok(s) => {
            setup.send_replace(s);
            true
        }
        Err(e) => {
            metrics
                .recording
                .write_errors
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(recording = %id, error = %e, "recording setup failed; nothing is recorded");
            setup.send_replace(Setup::Failed);
            false
        }
    };
    let mut open_tracks = 0usize;
    let mut ended = false;
    while let Some(event) = rx.recv().await {
        match &event {
            MetaEvent::Track(_) => open_tracks += 1,
            MetaEvent::TrackDone { .. } => open_tracks = open_tracks.saturating_sub(1),
            MetaEvent::End { .. } => ended = true,
            _ => {}
        }
        apply(&mut metadata, event);
        if ok && let Err(e) = write(&vault, &objects, &prefix, &metadata).await {
            metrics
                .recording
                .write_errors
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(recording = %id, error = %e, "recording metadata not written");
        }
        if ended && open_tracks == 0 {
            break;
        }
    }
}

async fn write(
    vault: &Vault,
    objects: &Containers,
    prefix: &ObjectPath,
    m: &Metadata,
) -> anyhow::Result<()> {
    let key = keys::metadata_key(vault, &m.tenant)?;
    let signed = SignedMetadata::sign(&key, m.clone())?;
    objects
        .put(&files::metadata_key(prefix), signed.to_json()?)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_make_windows_with_reasons() {
        let mut m = new_metadata("rec_x", "ten_a", "r", 0);
        apply(
            &mut m,
            MetaEvent::Pause {
                reason: "payment:pay_1".into(),
                by: "system".into(),
                at_ms: 100,
            },
        );
        apply(
            &mut m,
            MetaEvent::Pause {
                reason: "manual".into(),
                by: "agent:a".into(),
                at_ms: 150,
            },
        );
        apply(
            &mut m,
            MetaEvent::Resume {
                reason: "payment:pay_1".into(),
                at_ms: 300,
            },
        );
        apply(&mut m, MetaEvent::End { at_ms: 400 });
        assert_eq!(m.pauses[0].to_ms, Some(300));
        assert_eq!(m.pauses[1].to_ms, None, "manual pause runs to the end");
        assert!(m.paused_at(120, 400) && m.paused_at(350, 400) && !m.paused_at(99, 400));
        assert_eq!(m.ended_ms, Some(400));
    }
}
