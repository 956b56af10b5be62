//! The expiry sweeper (issue 17, point 7): every open payment (`requested`, `collecting`,
//! `ready`) ends `expired` (`input-timeout`, reported as `payment.failed`) at its deadline,
//! whether anyone reads it or not. Card-form and link payments used to expire only when read;
//! keypad and IVR payments had their room's driver read them.
//!
//! Each tick asks the store for overdue payments ([`hushpay_store::PaymentStore::overdue_payments`],
//! an indexed query) and loads each one, which expires it through the state machine: audited,
//! stored with its webhook event in one transaction, broadcast to the room. Several gateways on
//! one database may pick the same payment: the payment's version lets one expire it, the
//! others read it expired.

use std::sync::Arc;
use std::time::Duration;

use hushpay_store::UnixTime;

use super::{PaymentError, PaymentService};

/// How often the sweeper looks: a payment ends at most this long after its deadline.
pub const INTERVAL: Duration = Duration::from_secs(1);

/// The most payments one tick expires (the rest wait for the next tick).
const BATCH: usize = 100;

impl PaymentService {
    /// Expires the open payments whose deadline is at or before `now`; returns how many it
    /// found. A payment that fails to expire is logged and left for the next tick.
    pub async fn expire_overdue(&self, now: UnixTime) -> Result<usize, PaymentError> {
        let due = self.store.overdue_payments(now, BATCH).await?;
        // `authenticating` payments are not in the store's open-state index: the ones this
        // gateway holds a 3-D Secure challenge for are few, and a load expires them when due.
        let authenticating = self.challenges.payments();
        for id in due.iter().chain(&authenticating) {
            // Loading a payment past its deadline expires it.
            if let Err(e) = self.load(id).await {
                tracing::warn!(payment = %id, error = %e, "overdue payment not expired");
            }
        }
        Ok(due.len())
    }
}

/// Runs until the task is aborted.
pub async fn run(payments: Arc<PaymentService>) {
    let mut tick = tokio::time::interval(INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match payments.expire_overdue(hushpay_vault::unix_now()).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(expired = n, "overdue payments expired"),
            Err(e) => tracing::warn!(error = %e, "payment expiry sweep failed"),
        }
    }
}
