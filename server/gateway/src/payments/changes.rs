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
use super::route::{Applied, ChangeRoute};

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
    /// Set on a node of a cluster ([`ChangeRoute`]).
    route: std::sync::OnceLock<Arc<dyn ChangeRoute>>,
}

impl Default for Changes {
    fn default() -> Self {
        let (tx, _) = broadcast::channel(CHANGES_CAPACITY);
        Self {
            tx,
            hooks: std::sync::RwLock::default(),
            route: std::sync::OnceLock::new(),
        }
    }
}

impl Changes {
    /// The change of `payment` from `before` by `event`.
    pub(super) fn change(before: State, event: &'static str, payment: &Payment) -> PaymentChange {
        PaymentChange {
            tenant: payment.tenant.clone(),
            payment: payment.clone(),
            before,
            event,
        }
    }

    /// The route of a payment bound to a room, on a node of a cluster.
    pub(super) fn route_of(&self, payment: &Payment) -> Option<&Arc<dyn ChangeRoute>> {
        payment.room.as_ref().and(self.route.get())
    }

    /// Sends `change` after it was persisted: to the node holding its room when that is
    /// another node, else hooks first, then the broadcast. No subscriber is not an error.
    pub(super) async fn send(&self, change: PaymentChange) {
        if let Some(route) = self.route_of(&change.payment) {
            match route.deliver(&change).await {
                Ok(Applied::Here) => {}
                Ok(Applied::Remote) => return,
                Err(e) => {
                    // Stored, and the room's node did not take it: that node fails closed on
                    // its own (it lost the cluster) or is gone with the room.
                    tracing::warn!(payment = %change.payment.id, event = change.event, error = %e,
                        "payment change not delivered to the room's node");
                    return;
                }
            }
        }
        self.apply(change);
    }

    /// Applies `change` on this node: hooks, then the broadcast.
    pub(super) fn apply(&self, change: PaymentChange) {
        self.run_hooks(&change);
        let _ = self.tx.send(change);
    }

    pub(super) fn run_hooks(&self, change: &PaymentChange) {
        for hook in self.hooks.read().unwrap_or_else(|p| p.into_inner()).iter() {
            hook.on_change(change);
        }
    }
}

impl PaymentService {
    /// Every persisted payment change from now on (see the module doc).
    pub fn subscribe_changes(&self) -> broadcast::Receiver<PaymentChange> {
        self.changes.tx.subscribe()
    }

    /// Routes the changes of payments bound to rooms (a node of a cluster; set once).
    pub fn set_route(&self, route: Arc<dyn ChangeRoute>) {
        let _ = self.changes.route.set(route);
    }

    /// A change another node made to a payment in a room this node holds (the bus): applied
    /// as if it were made here. Keyed digits held here for a payment that ended are wiped.
    pub fn apply_remote_change(&self, change: PaymentChange) {
        if change.payment.state.is_terminal() {
            self.keypad.wipe(&change.payment.id);
        }
        self.changes.apply(change);
    }

    /// Runs the hooks on the creation of a payment another node is about to store in a room
    /// this node holds ([`ChangeRoute::prepare`]): its recording window closes now.
    pub fn prepare_remote_change(&self, change: &PaymentChange) {
        self.changes.run_hooks(change);
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
