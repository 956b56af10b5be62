//! Where the changes of a payment bound to a room are applied. On a single node, here: the
//! hooks (the recorder), then the broadcast (the SFU, the keypad driver, the IVR). In a
//! cluster the room lives on one node ([`crate::cluster`]), and its changes must reach that
//! node wherever the payment changed: a [`ChangeRoute`] carries them there.
//!
//! Creation is fail-closed across nodes: [`ChangeRoute::prepare`] asks the room's owner to
//! close the room's recording window *before* the payment is stored, and a refusal or no
//! answer refuses the payment (`503 room_unreachable`) with nothing created.

use super::PaymentChange;

/// Who applies a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// This node holds the room (or nobody does): apply it here.
    Here,
    /// The node holding the room applied it.
    Remote,
}

/// The room's node cannot be reached (or no longer holds the room, or this node lost the
/// cluster): what it would have answered is unknown.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the room's node cannot be reached: {0}")]
pub struct Unreachable(pub String);

/// Carries the changes of payments bound to rooms to the node holding the room.
#[async_trait::async_trait]
pub trait ChangeRoute: Send + Sync + std::fmt::Debug {
    /// Before a payment bound to a room is stored (`change` is its creation): `Here` when this
    /// node holds the room (the hooks run after the insert, before the answer, as on a single
    /// node), `Remote` once the holder has run its hooks on `change` (its recording window is
    /// closed). `Err`: refuse the payment.
    async fn prepare(&self, change: &PaymentChange) -> Result<Applied, Unreachable>;

    /// After a change is stored: `Remote` once the holder applied it, `Here` to apply it on
    /// this node. `Err`: the holder did not answer (the change stays stored).
    async fn deliver(&self, change: &PaymentChange) -> Result<Applied, Unreachable>;

    /// A prepared creation that was not stored after all (`Remote` prepare only): the holder
    /// reopens what it closed for it.
    async fn abandon(&self, change: &PaymentChange);
}
