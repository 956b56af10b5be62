//! Payment changes as a stream: after every persisted change of any payment (creation,
//! every state-machine event including field progress, expiry), the service sends one
//! [`PaymentChange`] on a broadcast channel. Subscribers: the SFU (the `payment` signalling
//! message to the agents and supervisors of the payment's room), the recorder (pause while a
//! room's payment collects), the keypad driver (secure mode and the digit collector).
//!
//! A change carries the masked [`Payment`] document only (what `GET /v1/payments/{id}`
//! shows), never digits. Sending never blocks the service; a subscriber that falls more than
//! [`CHANGES_CAPACITY`] changes behind gets `RecvError::Lagged` and should re-read what it
//! follows from the store.

use std::sync::Arc;

use hushpay_vault::payment::{Payment, State};
use tokio::sync::broadcast;

use super::PaymentService;

/// Changes buffered per subscriber before it lags.
pub const CHANGES_CAPACITY: usize = 4096;

/// One persisted change of a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentChange {
    /// The payment's tenant id.
    pub tenant: String,
    /// The masked payment document after the change.
    pub payment: Payment,
    /// The state before the change; on creation, the created state (`requested`).
    pub before: State,
    /// What changed it: the state-machine event's name (`capture`, `progress`, `captured`,
    /// `rejected`, `cancel`, `expire`, ... see `Event::name`), or `create`. A re-ask of the
    /// field being collected is a `capture` whose document looks like the one before.
    pub event: &'static str,
}

impl PaymentChange {
    /// True when this change moved the payment into `state` (it was elsewhere before).
    pub fn entered(&self, state: State) -> bool {
        self.before != state && self.payment.state == state
    }

    /// True when this change ended the payment (entered a terminal state).
    pub fn ended(&self) -> bool {
        !self.before.is_terminal() && self.payment.state.is_terminal()
    }
}

/// A synchronous observer of changes, called before the change is broadcast and before the
/// service returns (the recorder: its window closes before anyone can ask for a field). It
/// must not block.
pub trait ChangeHook: Send + Sync + std::fmt::Debug {
    fn on_change(&self, change: &PaymentChange);
}

/// The sending side, owned by the service.
#[derive(Debug)]
pub(super) struct Changes {
    tx: broadcast::Sender<PaymentChange>,
    hooks: std::sync::RwLock<Vec<Arc<dyn ChangeHook>>>,
}

impl Default for Changes {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(CHANGES_CAPACITY);
        Self {
            tx,
            hooks: std::sync::RwLock::default(),
        }
    }
}

impl Changes {
    /// Sends `payment` after a persisted change from `before`: hooks first, then the
    /// broadcast. No subscriber is not an error.
    pub(super) fn send(&self, before: State, event: &'static str, payment: &Payment) {
        let change = PaymentChange {
            tenant: payment.tenant.clone(),
            payment: payment.clone(),
            before,
            event,
        };
        for hook in self.hooks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            hook.on_change(&change);
        }
        let _ = self.tx.send(change);
    }
}

impl PaymentService {
    /// Every persisted payment change from now on (see the module doc).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<PaymentChange> {
        self.changes.tx.subscribe()
    }

    /// Adds a synchronous observer of every change (see [`ChangeHook`]).
    pub fn add_change_hook(&self, hook: Arc<dyn ChangeHook>) {
        self.changes
            .hooks
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .push(hook);
    }
}
