//! A payment offered to the patient of its room, right after the agent (or the tenant
//! backend) created it bound to that room:
//!
//! * **card-form**: the signalling message `payment_requested` to the room's patient, with
//!   the client secret its card form needs (`@hushpay/web` `Call` raises a payment prompt);
//! * **keypad**: the same message without a secret (the patient is told to use the keypad);
//! * **link**: the chat message `payment_link` on the `chat` data channel to everyone in the
//!   room. The patient's copy carries the pay-by-link URL with the client secret in its
//!   fragment (`/pay/{id}#pcs_...`: a fragment is never sent to a server, so it stays out of
//!   access logs and `Referer`); agents and supervisors get the URL without the secret.
//!
//! Who may hold the secret is decided in one place,
//! [`Viewer::may_hold_client_secret`](crate::payments::access::Viewer::may_hold_client_secret)
//! (the HTTP answer to `POST /v1/payments` asks it too): the patient and the tenant's
//! backend, never an agent or supervisor.
//!
//! When such a payment ends, the patient is told how (`payment_ended`: state, result, and the
//! brand and last four of the card it used), so its page can close the prompt.
//!
//! Only masked payment facts travel (amount, currency, reference, fields, brands, expiry);
//! the payment's own changes reach agents as `payment` messages (docs/protocol.md).

use hushpay_auth::Role;
use hushpay_vault::payment::{Method, Payment};
use serde::Serialize;

pub use hushpay_protocol::payment::{LinkMessage, PatientPayment, PaymentEnd};

use super::Sfu;
use super::chat::{ChatOut, ChatSender};
use super::room::{RoomKey, unix_ms};
use super::signal::ServerMessage;
use crate::payments::PaymentChange;

/// Tells the patient of the payment's room that it ended (on the change that ended it).
/// Returns the number of patients told.
pub fn tell_patient_the_end(sfu: &Sfu, change: &PaymentChange) -> usize {
    let p = &change.payment;
    let Some(name) = p.room.as_deref().filter(|_| change.ended()) else {
        return 0;
    };
    let key = RoomKey {
        tenant: change.tenant.clone(),
        name: name.to_owned(),
    };
    let Some(room) = sfu.rooms.get(&key) else {
        return 0;
    };
    let end = PaymentEnd {
        id: p.id.clone(),
        method: p.method,
        state: p.state,
        result: p.result,
        brand: p.card.as_ref().map(|c| c.brand.clone()),
        last4: p.card.as_ref().map(|c| c.last4.clone()),
    };
    let patients = room.with_roles(&[Role::Patient], "");
    for patient in &patients {
        patient.send(ServerMessage::PaymentEnded {
            payment: end.clone(),
        });
    }
    patients.len()
}

/// What an offer reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Offered {
    /// Patients who received the prompt or the link.
    pub patients: usize,
    /// Agents and supervisors who saw the link in the chat.
    pub staff: usize,
}

/// The pay-by-link URL of payment `id` on a gateway whose public URL is `public_url`.
pub fn link_url(public_url: &str, id: &str) -> String {
    format!("{}/pay/{id}", public_url.trim_end_matches('/'))
}

/// Offers `payment` (bound to a room) to that room's participants. `client_secret` is the
/// payment's secret (card-form, link); `public_url` the gateway's.
pub async fn offer(
    sfu: &Sfu,
    payment: &Payment,
    client_secret: Option<&str>,
    public_url: &str,
) -> Offered {
    let Some(name) = payment.room.as_deref() else {
        return Offered::default();
    };
    let key = RoomKey {
        tenant: payment.tenant.clone(),
        name: name.to_owned(),
    };
    let Some(room) = sfu.rooms.get(&key) else {
        return Offered::default();
    };
    let view = PatientPayment::from(payment);
    let mut offered = Offered::default();
    match payment.method {
        Method::Link => {
            let url = link_url(public_url, &payment.id);
            let message = LinkMessage {
                id: format!("msg_{}", uuid::Uuid::now_v7().simple()),
                ts: unix_ms(),
                from: sender(&room.participants(), &payment.created_by),
                payment: view,
                url: url.clone(),
            };
            for p in room.participants() {
                let Some(dc) = p.chat() else { continue };
                let mut m = message.clone();
                if super::payments::viewer(&room, &p).may_hold_client_secret() {
                    let Some(secret) = client_secret else {
                        continue;
                    };
                    m.url = format!("{url}#{secret}");
                    offered.patients += 1;
                } else {
                    offered.staff += 1;
                }
                super::relay::send(&dc, &ChatOut::PaymentLink(m)).await;
            }
        }
        _ => {
            let secret = (payment.method == Method::CardForm)
                .then_some(client_secret)
                .flatten();
            for p in room.with_roles(&[Role::Patient], "") {
                let secret =
                    secret.filter(|_| super::payments::viewer(&room, &p).may_hold_client_secret());
                p.send(ServerMessage::PaymentRequested {
                    payment: view.clone(),
                    client_secret: secret.map(str::to_owned),
                });
                offered.patients += 1;
            }
        }
    }
    offered
}

/// Who the link comes from: the creating agent when it is in the room, else the gateway.
fn sender(
    participants: &[std::sync::Arc<super::participant::Participant>],
    by: &str,
) -> ChatSender {
    let agent = by.strip_prefix("agent:");
    participants
        .iter()
        .find(|p| p.role == Role::Agent && Some(p.identity.as_str()) == agent)
        .map_or_else(
            || ChatSender {
                participant_id: String::new(),
                identity: "hushpay".into(),
                role: "system".into(),
            },
            |p| ChatSender {
                participant_id: p.id.clone(),
                identity: p.identity.clone(),
                role: p.role.as_str().to_owned(),
            },
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_urls_have_one_slash() {
        assert_eq!(
            link_url("http://127.0.0.1:8080/", "pay_1"),
            "http://127.0.0.1:8080/pay/pay_1"
        );
        assert_eq!(
            link_url("https://pay.example", "pay_1"),
            "https://pay.example/pay/pay_1"
        );
    }
}
