//! Open payments of dead nodes: every half lease each node compares the live nodes with the
//! open payments in the directory; a payment held on a node that is gone fails `node_lost`
//! (the digits keyed there died with the node, and its room's recording pause with it). Every
//! survivor may try: the payment's version check lets one transition win, the others find it
//! ended and only drop the entry.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::Cluster;
use crate::app::AppState;
use crate::payments::PaymentError;

/// Full scans of the open payments happen when a node disappears, and every this many
/// rounds (for nodes that died before this one started).
const FULL_SCAN_EVERY: u64 = 10;

pub async fn run(cluster: Arc<Cluster>, state: AppState) {
    let mut tick = tokio::time::interval(cluster.config.node_lease / 2);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut known: BTreeSet<String> = BTreeSet::new();
    let mut round: u64 = 0;
    loop {
        tick.tick().await;
        round += 1;
        if !cluster.healthy() {
            continue;
        }
        let live: BTreeSet<String> = match cluster.directory.live_nodes().await {
            Ok(nodes) => nodes.into_iter().map(|n| n.node_id).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "reaper cannot list the live nodes");
                continue;
            }
        };
        let someone_left = known.difference(&live).next().is_some();
        tracing::debug!(?live, someone_left, round, "reaper round");
        known = live.clone();
        if someone_left || round % FULL_SCAN_EVERY == 1 {
            reap(&cluster, &state, &live).await;
        }
    }
}

/// Fails the open payments held on nodes not in `live`; how many it failed.
pub async fn reap(cluster: &Cluster, state: &AppState, live: &BTreeSet<String>) -> usize {
    let open = match cluster.directory.open_payments().await {
        Ok(open) => open,
        Err(e) => {
            tracing::warn!(error = %e, "reaper cannot list the open payments");
            return 0;
        }
    };
    tracing::debug!(open = open.len(), "reaper scan");
    let mut failed = 0;
    for entry in open.into_iter().filter(|e| !live.contains(&e.node)) {
        match state.payments.node_lost(&entry.payment).await {
            Ok(_) => {
                failed += 1;
                tracing::warn!(payment = %entry.payment, node = %entry.node, "payment failed: its room's node was lost");
            }
            // Another survivor won, or it ended meanwhile: only the entry is left to drop.
            Err(PaymentError::Transition(_) | PaymentError::NotFound) => {}
            Err(e) => {
                tracing::warn!(payment = %entry.payment, error = %e, "lost node's payment not failed yet");
                continue;
            }
        }
        if let Err(e) = cluster.directory.drop_payment(&entry.payment).await {
            tracing::warn!(error = %e, "open payment entry not removed");
        }
    }
    failed
}
