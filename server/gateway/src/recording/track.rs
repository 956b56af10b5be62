//! One track's writer task: packets from the forwarder's tap arrive on a bounded channel; the
//! task seals a chunk every `chunk_ms` (and at a pause, and at the end) and writes it as its
//! own object (durable before the task goes on), so a `kill -9` loses at most the open
//! chunk, and every node can read what was written up to then.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use hushpay_recording::{RecordedPacket, RecordingKey, TrackHeader, TrackWriter};
use object_store::path::Path as ObjectPath;
use tokio::sync::{mpsc, watch};

use super::files;
use super::meta::{MetaEvent, Setup};
use super::objects::Containers;
use crate::metrics::Metrics;

/// What the tap sends a track writer.
#[derive(Debug)]
pub enum TrackMsg {
    Packet(RecordedPacket),
    /// Seal the open chunk now (a pause began).
    Seal,
}

/// Everything a track writer needs.
#[derive(Debug)]
pub struct TrackCtx {
    pub recording_id: String,
    pub tenant: String,
    pub room: String,
    pub track: String,
    pub role: &'static str,
    pub participant: String,
    /// The recording's key prefix.
    pub prefix: ObjectPath,
    pub objects: Arc<Containers>,
    pub key: RecordingKey,
    pub started: Instant,
    pub chunk_ms: u32,
    pub setup: watch::Receiver<Setup>,
    pub meta: mpsc::UnboundedSender<MetaEvent>,
    pub metrics: Arc<Metrics>,
}

/// Recording-clock ms of `now` for a recording started at `started`.
pub fn clock_ms(started: Instant, now: Instant) -> u32 {
    u32::try_from(now.saturating_duration_since(started).as_millis()).unwrap_or(u32::MAX)
}

/// Runs until the channel closes (the recording ended), then seals the final chunk.
pub async fn run(mut ctx: TrackCtx, mut rx: mpsc::Receiver<TrackMsg>) {
    let chunks = match write(&mut ctx, &mut rx).await {
        Ok(chunks) => Some(chunks),
        Err(e) => {
            ctx.metrics
                .recording
                .write_errors
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(recording = %ctx.recording_id, track = %ctx.track, error = %e, "recording track stopped");
            // Keep the forwarder's channel drained so its sends stay cheap.
            while rx.recv().await.is_some() {
                ctx.metrics
                    .recording
                    .dropped
                    .fetch_add(1, Ordering::Relaxed);
            }
            None
        }
    };
    let _ = ctx.meta.send(MetaEvent::TrackDone {
        track: ctx.track.clone(),
        chunks,
    });
}

async fn write(ctx: &mut TrackCtx, rx: &mut mpsc::Receiver<TrackMsg>) -> anyhow::Result<u64> {
    let setup = ctx
        .setup
        .wait_for(|s| !matches!(s, Setup::Pending))
        .await
        .map_err(|_| anyhow::anyhow!("recording setup gone"))?
        .clone();
    let Setup::Ready {
        key_version,
        wrapped_key,
    } = setup
    else {
        anyhow::bail!("recording setup failed");
    };
    let header = TrackHeader {
        recording_id: ctx.recording_id.clone(),
        tenant: ctx.tenant.clone(),
        room: ctx.room.clone(),
        track: ctx.track.clone(),
        role: ctx.role.to_owned(),
        participant: ctx.participant.clone(),
        codec: "opus".into(),
        key_version,
        wrapped_key: wrapped_key.to_string(),
        started_ms: clock_ms(ctx.started, Instant::now()),
        chunk_ms: ctx.chunk_ms,
    };
    let (mut writer, head) = TrackWriter::new(&ctx.key, &header)?;
    let track = files::track_prefix(&ctx.prefix, &ctx.track)
        .ok_or_else(|| anyhow::anyhow!("unsafe track name"))?;
    ctx.objects.put(&files::header_key(&track), head).await?;
    let mut index = 0u64;
    loop {
        let due = writer
            .poll_timeout()
            .map(|ms| ctx.started + std::time::Duration::from_millis(u64::from(ms)));
        let sealed = tokio::select! {
            msg = rx.recv() => match msg {
                Some(TrackMsg::Packet(p)) => writer.push(&p)?,
                Some(TrackMsg::Seal) => writer.seal_open()?,
                None => break,
            },
            () = sleep_until(due) => writer.tick(clock_ms(ctx.started, Instant::now()))?,
        };
        if let Some(bytes) = sealed {
            put_chunk(ctx, &track, &mut index, bytes).await?;
        }
    }
    let last = writer.finish()?;
    put_chunk(ctx, &track, &mut index, last).await?;
    Ok(writer.chunks())
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(t) => tokio::time::sleep_until(t.into()).await,
        None => std::future::pending().await,
    }
}

/// Writes sealed chunk `index` as its object and moves `index` on.
async fn put_chunk(
    ctx: &TrackCtx,
    track: &ObjectPath,
    index: &mut u64,
    bytes: Vec<u8>,
) -> Result<(), super::objects::StorageError> {
    let len = bytes.len() as u64;
    ctx.objects
        .put(&files::chunk_key(track, *index), bytes)
        .await?;
    *index += 1;
    let m = &ctx.metrics.recording;
    m.chunks.fetch_add(1, Ordering::Relaxed);
    m.bytes.fetch_add(len, Ordering::Relaxed);
    Ok(())
}
