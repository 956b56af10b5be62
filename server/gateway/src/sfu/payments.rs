//! Payment changes into the room: every [`PaymentChange`] of a payment bound to a room is sent
//! as the signalling message `payment` — the same masked document as `GET /v1/payments/{id}`
//! — to the participants of that room who may see it over HTTP too
//! ([`Viewer::may_see`](crate::payments::access::Viewer::may_see): agents and supervisors
//! with `canRequestPayment`). Patients never get it. The payment's tenant scopes the room, as
//! tokens do.

use std::sync::Arc;

use tokio::sync::broadcast::{self, error::RecvError};

use super::Sfu;
use super::participant::Participant;
use super::room::{Room, RoomKey};
use super::signal::ServerMessage;
use crate::payments::PaymentChange;
use crate::payments::access::{ParticipantView, Viewer};

/// `p`, a participant of `room`, as the payment access rules see it.
pub(super) fn viewer<'a>(room: &'a Room, p: &'a Participant) -> Viewer<'a> {
    Viewer::Participant(ParticipantView {
        tenant: &room.key.tenant,
        room: &room.key.name,
        identity: &p.identity,
        role: p.role,
        grants: p.grants,
    })
}

/// Sends one change to the participants of its room who may see it; the number reached.
pub fn deliver(sfu: &Sfu, change: &PaymentChange) -> usize {
    let Some(name) = change.payment.room.as_deref() else {
        return 0;
    };
    let key = RoomKey {
        tenant: change.tenant.clone(),
        name: name.to_owned(),
    };
    let Some(room) = sfu.rooms.get(&key) else {
        return 0;
    };
    let msg = ServerMessage::Payment {
        payment: Box::new(change.payment.clone()),
    };
    let mut reached = 0;
    for p in room.participants() {
        if viewer(&room, &p).may_see(&change.payment).is_ok() {
            p.send(msg.clone());
            reached += 1;
        }
    }
    reached
}

/// Delivers changes until the service is gone. Runs for the life of the server.
pub async fn forward_changes(sfu: Arc<Sfu>, mut changes: broadcast::Receiver<PaymentChange>) {
    loop {
        match changes.recv().await {
            Ok(change) => {
                deliver(&sfu, &change);
                super::payment_offer::tell_patient_the_end(&sfu, &change);
            }
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "payment changes lagged; agents missed updates");
            }
            Err(RecvError::Closed) => break,
        }
    }
}
