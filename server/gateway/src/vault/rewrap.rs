//! The background rewrap: every `vault.rewrap_interval_secs`, each tenant's tokens still
//! under a retired data key version are re-encrypted under the active one (batches of
//! [`BATCH`], each audited as `key.rewrap` by `system`). It also picks up rotations made by
//! another process on the same store (`hushpay keys rotate`, a second gateway), so a retired
//! version stops encrypting here within one interval.

use std::sync::Arc;
use std::time::Duration;

use hushpay_store::Store;
use hushpay_vault::{Actor, Vault, VaultError};

/// Tokens per rewrap batch (one audit entry each).
pub const BATCH: usize = 200;

/// Runs until the task is aborted.
pub async fn run(store: Arc<dyn Store>, vault: Arc<super::VaultState>, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        match tick(store.as_ref(), &vault.vault).await {
            Ok(0) => {}
            Ok(moved) => tracing::info!(moved, "background rewrap"),
            Err(e) => tracing::warn!(error = %e, "background rewrap failed; retried next interval"),
        }
    }
}

/// One pass over every tenant; returns how many tokens moved.
pub async fn tick(store: &dyn Store, vault: &Vault) -> Result<usize, VaultError> {
    let actor = Actor {
        who: "system".into(),
        request_id: "background-rewrap".into(),
    };
    let mut moved = 0;
    for tenant in store.tenants().await? {
        moved += vault.rewrap_retired(&actor, &tenant.id, BATCH).await?;
    }
    Ok(moved)
}
