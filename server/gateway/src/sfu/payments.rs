//! Payment changes into the room: every [`PaymentChange`] of a payment bound to a room (the
//! keypad method) is sent as the signalling message `payment` — the same masked document as
//! `GET /v1/payments/{id}` — to every agent and supervisor in that room. Patients never get
//! it. The payment's tenant scopes the room, as tokens do.

use std::sync::Arc;

use hushpay_auth::Role;
use tokio::sync::broadcast::{self, error::RecvError};

use super::Sfu;
use super::room::RoomKey;
use super::signal::ServerMessage;
use crate::payments::PaymentChange;

/// Sends one change to the agents and supervisors of its room; the number reached.
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
    let to = room.with_roles(&[Role::Agent, Role::Supervisor], "");
    for p in &to {
        p.send(msg.clone());
    }
    to.len()
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
