//! Draining on SIGTERM: the node stops taking new rooms at once (`/readyz` answers 503
//! `draining`, a cluster sends new rooms' joins to other nodes, a single node refuses them
//! `node_draining`), lets the calls it holds run to their end or to `server.drain_timeout_secs`,
//! and only then lets the HTTP server shut down.

use std::future::Future;
use std::time::Duration;

use crate::app::AppState;

/// How often the drain looks whether the calls ended.
const LOOK: Duration = Duration::from_millis(250);

/// Resolves once `signal` came and the node's calls ended (or the drain timed out): the
/// shutdown future of `app::run` for `hushpay serve`.
pub async fn after(state: AppState, signal: impl Future<Output = ()>) {
    signal.await;
    state.sfu.start_draining();
    if let Some(cluster) = state.sfu.cluster()
        && let Err(e) = cluster.heartbeat(&state.sfu).await
    {
        tracing::warn!(error = %e, "could not announce the drain to the cluster");
    }
    let timeout = state.config.drain_timeout;
    let calls = state.sfu.participant_count();
    tracing::info!(
        participants = calls,
        timeout_secs = timeout.as_secs(),
        "draining: no new rooms; waiting for the calls to end"
    );
    println!("Draining: {calls} participant(s) in calls; new rooms go elsewhere.");
    let ended = tokio::time::timeout(timeout, async {
        while state.sfu.participant_count() > 0 {
            tokio::time::sleep(LOOK).await;
        }
    })
    .await
    .is_ok();
    if ended {
        tracing::info!("drained: every call ended");
    } else {
        tracing::warn!(
            participants = state.sfu.participant_count(),
            "drain timed out; the remaining calls end now"
        );
    }
}
