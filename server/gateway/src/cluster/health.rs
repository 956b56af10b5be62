//! Fail closed when cut off: a node that loses the bus (it can no longer vouch that it holds
//! its rooms, nor hear payments made elsewhere for them) or the store (it can neither read
//! payments nor audit) pauses the recording of every room it holds, with the reason
//! [`REASON`] (audited like every pause), and refuses payments for them (a `prepare` needs
//! [`Cluster::healthy`]). A pause closed while the store was down could not be audited then:
//! its entry is written when the store is back, before the resume (audit first, as every
//! resume).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use super::Cluster;
use crate::app::AppState;
use crate::sfu::room::RoomKey;

/// The recording pause reason while this node is cut off.
pub const REASON: &str = "cluster-unavailable";

/// How often bus and store are looked at (the store with a round trip).
const LOOK: Duration = Duration::from_millis(500);
const PING_TIMEOUT: Duration = Duration::from_secs(1);

/// Watches bus and store for the life of the node.
pub async fn run(cluster: Arc<Cluster>, state: AppState) {
    let mut tick = tokio::time::interval(LOOK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut paused = false;
    // Rooms paused here whose pause entry is not written yet.
    let mut unaudited: BTreeSet<RoomKey> = BTreeSet::new();
    loop {
        tick.tick().await;
        let ok = matches!(
            tokio::time::timeout(PING_TIMEOUT, state.store.ping()).await,
            Ok(Ok(()))
        );
        cluster.set_store_ok(ok);
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
            pause_all(&state, &mut unaudited).await;
        } else if paused {
            paused = !resume_all(&state, &mut unaudited).await;
            if !paused {
                tracing::info!("node back in the cluster: recording resumed");
            }
        }
    }
}

/// Pauses every room this node holds; a pause whose entry cannot be written is remembered.
async fn pause_all(state: &AppState, unaudited: &mut BTreeSet<RoomKey>) {
    if !state.config.recording.enabled {
        return;
    }
    for room in state.sfu.rooms.all() {
        // A pause holds even when its audit entry cannot be written (fail closed).
        if state
            .recorder
            .pause(&room.key, REASON, "system")
            .await
            .is_err()
        {
            unaudited.insert(room.key.clone());
        }
    }
}

/// Writes the missing pause entries, then resumes every room; false when something could not
/// be audited (those rooms stay paused; the next look tries again).
async fn resume_all(state: &AppState, unaudited: &mut BTreeSet<RoomKey>) -> bool {
    if !state.config.recording.enabled {
        return true;
    }
    let mut all_done = true;
    for key in std::mem::take(unaudited) {
        if state
            .recorder
            .audit_held_pause(&key, REASON, "system")
            .await
            .is_err()
        {
            unaudited.insert(key);
            all_done = false;
        }
    }
    if !all_done {
        return false;
    }
    for room in state.sfu.rooms.all() {
        all_done &= state
            .recorder
            .resume(&room.key, REASON, "system")
            .await
            .is_ok();
    }
    all_done
}
