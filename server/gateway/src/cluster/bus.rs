//! What nodes ask each other on NATS: one subject per node (`<cluster>.node.<node id>`),
//! request/reply, JSON bodies. A payment change travels as the masked document the payment
//! API shows (never digits); the answer says whether the node took it.

use hushpay_vault::payment::{Payment, State};
use serde::{Deserialize, Serialize};

use crate::payments::PaymentChange;

/// The largest request a node reads from the bus (a payment document is a few KiB).
pub const MAX_REQUEST_BYTES: usize = 256 * 1024;

/// A payment change on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireChange {
    pub tenant: String,
    pub payment: Payment,
    pub before: State,
    pub event: String,
}

impl From<&PaymentChange> for WireChange {
    fn from(c: &PaymentChange) -> Self {
        Self {
            tenant: c.tenant.clone(),
            payment: c.payment.clone(),
            before: c.before,
            event: c.event.to_owned(),
        }
    }
}

/// The names a change's `event` may carry: the state machine's events, `create` and
/// `reload`. Anything else is refused.
const EVENTS: &[&str] = &[
    "create",
    "reload",
    "capture",
    "progress",
    "captured",
    "rejected",
    "card-submitted",
    "complete",
    "approved",
    "declined",
    "cancel",
    "hung-up",
    "expire",
    "node-lost",
    // The funds of an `authorize`-mode payment (`hushpay_vault::payment::FundsEvent::NAMES`).
    "capture-funds",
    "funds-captured",
    "capture-declined",
    "void",
    "voided",
    "void-declined",
];

impl WireChange {
    /// The change, when its event is one this gateway knows and its tenant is the payment's.
    pub fn into_change(self) -> Option<PaymentChange> {
        let event = EVENTS.iter().find(|e| **e == self.event)?;
        (self.tenant == self.payment.tenant).then_some(PaymentChange {
            tenant: self.tenant,
            payment: self.payment,
            before: self.before,
            event,
        })
    }
}

/// A request to the node holding a room.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Request {
    /// A payment in one of your rooms is about to be created: close the room's recording
    /// window for it (run the change hooks), then answer.
    Prepare { change: WireChange },
    /// A stored change of a payment in one of your rooms.
    Change { change: WireChange },
    /// A prepared payment was not created: reopen what `Prepare` closed.
    Abandon { change: WireChange },
    /// The tenant ended the room (stored already).
    EndRoom {
        tenant: String,
        room: String,
        ended_at: i64,
    },
    /// The patient's recording consent was recorded (stored already).
    Consent {
        tenant: String,
        room: String,
        /// Who gave it (the API key id), for the audit entry of the resume.
        by: String,
    },
    /// The room as `GET /v1/rooms/{id}` shows an open room.
    RoomView { tenant: String, room: String },
    /// Start the IVR for an `ivr` payment just created in one of your rooms (it ends the
    /// payment when it cannot start); answers the payment.
    IvrStart { payment: String },
    /// Offer a card-form or link payment just created to the patient of one of your rooms
    /// (the client secret goes to the patient's page, as on a single node); answers what was
    /// offered.
    Offer {
        payment: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_secret: Option<String>,
    },
    /// Complete a keyed payment of one of your rooms (its digits are held where they were
    /// keyed). The requester checked the caller's access.
    Complete {
        payment: String,
        actor: String,
        request_id: String,
    },
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Reply {
    Ok {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        view: Option<serde_json::Value>,
    },
    /// Not taken (`not_owner`: the room is not on this node; `unavailable`: this node lost the
    /// cluster; `bad_request`; or the API error of a forwarded command, with its HTTP status).
    Refused {
        code: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
}

impl Reply {
    pub fn ok() -> Self {
        Reply::Ok { view: None }
    }

    pub fn refused(code: &str, message: impl Into<String>) -> Self {
        Reply::Refused {
            code: code.to_owned(),
            message: message.into(),
            status: None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn hostile_requests_are_refused_by_the_parser_not_a_panic() {
        for bad in [
            &b""[..],
            b"{}",
            b"[]",
            b"{\"op\":\"nope\"}",
            b"{\"op\":\"prepare\"}",
            b"{\"op\":\"end_room\",\"tenant\":1}",
            &[0xff, 0xfe, 0x00],
        ] {
            assert!(serde_json::from_slice::<Request>(bad).is_err());
        }
    }

    #[test]
    fn unknown_events_and_foreign_tenants_do_not_become_changes() {
        use hushpay_vault::payment::{Method, Mode, PaymentRequest};
        let payment = PaymentRequest {
            amount: 100,
            currency: "USD".into(),
            reference: "r".into(),
            mode: Mode::Charge,
            method: Method::Keypad,
            required_fields: None,
            allowed_brands: None,
            attempts: None,
            timeout_secs: None,
            room: Some("r1".into()),
            hand_off: None,
            locale: None,
        }
        .into_payment("pay_x".into(), "ten_a", "agent", 1)
        .unwrap();
        let wire = |tenant: &str, event: &str| WireChange {
            tenant: tenant.into(),
            payment: payment.clone(),
            before: State::Requested,
            event: event.into(),
        };
        assert!(wire("ten_a", "capture").into_change().is_some());
        assert!(wire("ten_a", "steal").into_change().is_none());
        assert!(wire("ten_b", "capture").into_change().is_none());
        // A capture or void made on another node reaches the room's node too.
        for name in hushpay_vault::payment::FundsEvent::NAMES {
            assert!(wire("ten_a", name).into_change().is_some(), "{name}");
        }
    }
}
