//! The payment state machine: pure, no I/O, no clock (time is an input).
//!
//! ```text
//! requested --capture--> collecting --captured (all)--> ready --complete--> authorizing
//!     |                    |  ^ progress / captured / rejected / capture (re-ask)
//!     '--card-submitted--------------------------------> ready
//! authorizing --approved--> succeeded (`authorized` in `authorize` mode: see `funds`)
//! authorizing --declined--> failed
//! authorizing --challenge-required--> authenticating --approved | declined--> (as above)
//! authenticating --cancel--> cancelled | --expire--> expired
//! requested | collecting | ready --cancel--> cancelled | --hang-up--> failed | --expire--> expired
//! rejected entries past `max_attempts` --> failed (too-many-failed-attempts, or input-timeout
//!                                           when the last one was an `input-timeout`)
//! ```
//!
//! The keyed methods (`keypad`, `ivr`) collect field by field; the others submit a whole card.
//!
//! [`Payment::apply`] returns the next payment or a [`TransitionError`], leaving the input
//! untouched: an illegal event changes nothing.

use hushpay_store::UnixTime;

use super::model::{Field, FieldProgress, MaskedCard, Mode, PayResult, Payment, State};

/// Something that happens to a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// The agent asks for a field (keypad), or asks again (re-ask): the field restarts.
    Capture(Field),
    /// Digits are being keyed into the field being collected.
    Progress {
        field: Field,
        length: u8,
        valid: bool,
        brand: Option<String>,
    },
    /// The field being collected is complete and valid.
    Captured {
        field: Field,
        length: u8,
        brand: Option<String>,
    },
    /// An entry or a submitted card was refused (`error` names why); counts a failed attempt.
    Rejected { field: Option<Field>, error: String },
    /// A sealed card arrived from the card form or link page with every field.
    CardSubmitted { brand: String },
    /// The agent (or the card form) asks to tokenize and, for `charge`, authorize.
    Complete,
    /// The vault tokenized and (for `charge` and `authorize`) the connector approved.
    Approved {
        card: MaskedCard,
        authorization_code: Option<String>,
    },
    /// The connector asked for 3-D Secure (card form and link): the card is tokenized, the
    /// cardholder is shown the issuer's challenge. The challenge itself is not in the payment.
    ChallengeRequired { card: MaskedCard },
    /// The connector declined or failed (`error`: `card-declined`, `processing-error`, ...).
    Declined {
        card: Option<MaskedCard>,
        error: String,
    },
    /// The agent or tenant cancelled.
    Cancel,
    /// The caller left the room.
    HungUp,
    /// The payment's timeout passed.
    Expire,
    /// The gateway node that held the payment's room died with the payment open (cluster):
    /// what was keyed there is gone with it. The payment fails with `error` `node_lost`.
    NodeLost,
}

impl Event {
    /// The event's name, for errors and the audit log.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Capture(_) => "capture",
            Event::Progress { .. } => "progress",
            Event::Captured { .. } => "captured",
            Event::Rejected { .. } => "rejected",
            Event::CardSubmitted { .. } => "card-submitted",
            Event::Complete => "complete",
            Event::Approved { .. } => "approved",
            Event::Declined { .. } => "declined",
            Event::ChallengeRequired { .. } => "challenge-required",
            Event::Cancel => "cancel",
            Event::HungUp => "hung-up",
            Event::Expire => "expire",
            Event::NodeLost => "node-lost",
        }
    }
}

/// The `error` of a rejection for a field nobody keyed in time: when it is the attempt that
/// fails the payment, the result is `input-timeout` rather than `too-many-failed-attempts`.
pub const INPUT_TIMEOUT: &str = "input-timeout";

/// The `error` of a payment whose room's node died ([`Event::NodeLost`]).
pub const NODE_LOST: &str = "node_lost";

/// An event that is not allowed now.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{event}` is not allowed in state `{}`", state.as_str())]
pub struct TransitionError {
    pub state: State,
    pub event: &'static str,
}

fn open(state: State) -> bool {
    matches!(state, State::Requested | State::Collecting | State::Ready)
}

impl Payment {
    /// The payment after `event` at `now`, or why `event` is refused.
    pub fn apply(&self, event: Event, now: UnixTime) -> Result<Payment, TransitionError> {
        let refuse = TransitionError {
            state: self.state,
            event: event.name(),
        };
        let mut p = self.clone();
        let keypad = self.method.is_keyed();
        let collecting = |f: Field| {
            self.state == State::Collecting
                && self
                    .field(f)
                    .is_some_and(|s| s.status == FieldProgress::Collecting)
        };
        match event {
            Event::Capture(field) if keypad && open(self.state) => {
                let other_collecting = self
                    .fields
                    .iter()
                    .any(|s| s.status == FieldProgress::Collecting && s.field != field);
                let status = p.field_mut(field).ok_or(refuse.clone())?;
                if other_collecting {
                    return Err(refuse);
                }
                status.status = FieldProgress::Collecting;
                status.length = 0;
                status.valid = false;
                status.brand = None;
                p.state = State::Collecting;
            }
            Event::Progress {
                field,
                length,
                valid,
                brand,
            } if keypad && collecting(field) => {
                let status = p.field_mut(field).ok_or(refuse.clone())?;
                status.length = length;
                status.valid = valid;
                status.brand = brand;
            }
            Event::Captured {
                field,
                length,
                brand,
            } if keypad && collecting(field) => {
                let status = p.field_mut(field).ok_or(refuse.clone())?;
                status.status = FieldProgress::Captured;
                status.length = length;
                status.valid = true;
                status.brand = brand;
                if p.all_captured() {
                    p.state = State::Ready;
                }
            }
            Event::Rejected { field, error } if self.rejection_allowed(field) => {
                p.failed_attempts = p.failed_attempts.saturating_add(1);
                if let Some(status) = field.and_then(|f| p.field_mut(f)) {
                    status.status = FieldProgress::Pending;
                    status.length = 0;
                    status.valid = false;
                    status.brand = None;
                }
                let timed_out = error == INPUT_TIMEOUT;
                p.error = Some(error);
                if p.failed_attempts >= p.max_attempts {
                    p.state = State::Failed;
                    p.result = Some(if timed_out {
                        PayResult::InputTimeout
                    } else {
                        PayResult::TooManyFailedAttempts
                    });
                } else if keypad {
                    p.state = State::Collecting;
                }
            }
            Event::CardSubmitted { brand }
                if !keypad && matches!(self.state, State::Requested | State::Collecting) =>
            {
                for status in &mut p.fields {
                    status.status = FieldProgress::Captured;
                    status.valid = true;
                    status.brand = Some(brand.clone());
                }
                p.error = None;
                p.state = State::Ready;
            }
            Event::Complete if self.state == State::Ready => p.state = State::Authorizing,
            Event::Approved {
                card,
                authorization_code,
            } if matches!(self.state, State::Authorizing | State::Authenticating) => {
                p.card = Some(card);
                p.authorization_code = authorization_code;
                p.error = None;
                p.state = if p.mode == Mode::Authorize {
                    State::Authorized
                } else {
                    State::Succeeded
                };
                p.result = Some(PayResult::Success);
            }
            Event::ChallengeRequired { card }
                if self.state == State::Authorizing && self.method.uses_client_secret() =>
            {
                p.card = Some(card);
                p.state = State::Authenticating;
            }
            Event::Declined { card, error }
                if matches!(self.state, State::Authorizing | State::Authenticating) =>
            {
                p.card = card;
                p.error = Some(error);
                p.state = State::Failed;
                p.result = Some(PayResult::PaymentConnectorError);
            }
            Event::Cancel if open(self.state) || self.state == State::Authenticating => {
                p.state = State::Cancelled;
                p.result = Some(PayResult::Cancelled);
            }
            Event::HungUp if open(self.state) => {
                p.state = State::Failed;
                p.result = Some(PayResult::CallerHungUp);
            }
            Event::NodeLost if open(self.state) => {
                p.state = State::Failed;
                p.result = Some(PayResult::NodeLost);
                p.error = Some(NODE_LOST.to_owned());
            }
            Event::Expire if open(self.state) || self.state == State::Authenticating => {
                p.state = State::Expired;
                p.result = Some(PayResult::InputTimeout);
            }
            _ => return Err(refuse),
        }
        p.updated_at = now;
        Ok(p)
    }

    fn rejection_allowed(&self, field: Option<Field>) -> bool {
        match (self.method.is_keyed(), field) {
            (true, Some(f)) => {
                self.state == State::Collecting
                    && self
                        .field(f)
                        .is_some_and(|s| s.status == FieldProgress::Collecting)
            }
            (true, None) => false,
            (_, None) => matches!(self.state, State::Requested | State::Collecting),
            (_, Some(_)) => false,
        }
    }
}

#[cfg(test)]
mod tests;
