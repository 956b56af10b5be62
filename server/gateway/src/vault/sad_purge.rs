//! The CVC purge (issue 12, finding 7): a CVC waits in memory for its authorization at most
//! `vault.sad_ttl_secs`; one that no authorization takes (an abandoned payment, a token made
//! with a CVC and never charged) is dropped and zeroized by this timer, not kept until the next
//! CVC happens to arrive.

use std::sync::Arc;
use std::time::Duration;

use hushpay_vault::Vault;

/// How often the purge runs for a TTL: a quarter of it, between 1 and 30 seconds, so a CVC
/// outlives its TTL by at most that much.
pub fn interval(ttl: Duration) -> Duration {
    (ttl / 4).clamp(Duration::from_secs(1), Duration::from_secs(30))
}

/// Runs until the task is aborted.
pub async fn run(vault: Arc<Vault>, ttl: Duration) {
    let mut tick = tokio::time::interval(interval(ttl));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let held = vault.purge_expired_sad();
        tracing::trace!(held, "expired CVCs purged");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_follows_the_ttl_within_bounds() {
        assert_eq!(interval(Duration::from_secs(300)), Duration::from_secs(30));
        assert_eq!(interval(Duration::from_secs(20)), Duration::from_secs(5));
        assert_eq!(interval(Duration::from_secs(1)), Duration::from_secs(1));
    }
}
