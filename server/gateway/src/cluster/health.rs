//! Fail closed when cut off: a node that loses the bus (it can no longer vouch that it holds
//! its rooms, nor hear payments made elsewhere for them) or the store (it can neither read
//! payments nor audit) pauses the recording of every room it holds, with the reason
//! [`REASON`] (audited like every pause), and refuses payments for them (a `prepare` needs
//! [`Cluster::healthy`]). When both are back, the rooms resume (audit first, as every resume).

use std::sync::Arc;
use std::time::Duration;

use super::Cluster;
use crate::app::AppState;

/// The recording pause reason while this node is cut off.
pub const REASON: &str = "cluster-unavailable";

/// How often the bus state is looked at; the store is pinged every fourth look.
const LOOK: Duration = Duration::from_millis(500);
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// Watches bus and store for the life of the node.
pub async fn run(cluster: Arc<Cluster>, state: AppState) {
    let mut tick = tokio::time::interval(LOOK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut paused = false;
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        if n.is_multiple_of(4) {
            let ok = matches!(
                tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await,
                Ok(Ok(()))
            );
            cluster.set_store_ok(ok);
        }
        n += 1;
        let healthy = cluster.healthy();
        if !healthy {
            if !paused {
                tracing::warn!(
                    bus = cluster.bus_up(),
                    "node cut off from the cluster: recording paused, payments refused"
                );
            }
            paused = true;
            // Every tick: rooms opened meanwhile are paused too (a held pause is a no-op).
            set_all(&state, true).await;
        } else if paused {
            paused = !set_all(&state, false).await;
            if !paused {
                tracing::info!("node back in the cluster: recording resumed");
            }
        }
    }
}

/// Pauses (or resumes) every room this node holds; false when a resume could not be audited
/// (that room stays paused; the next look tries again).
async fn set_all(state: &AppState, pause: bool) -> bool {
    if !state.config.recording.enabled {
        return true;
    }
    let mut all_done = true;
    for room in state.sfu.rooms.all() {
        let done = if pause {
            // A pause holds even when its audit entry cannot be written (fail closed).
            let _ = state.recorder.pause(&room.key, REASON, "system").await;
            true
        } else {
            state
                .recorder
                .resume(&room.key, REASON, "system")
                .await
                .is_ok()
        };
        all_done &= done;
    }
    all_done
}
