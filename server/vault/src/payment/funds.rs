//! The funds of an `authorize`-mode payment after its authorization: capture (full or
//! partial, once) or void. Pure, like the collection machine: the gateway's service asks the
//! connector between the two steps of each operation.
//!
//! ```text
//! authorized --capture-funds(amount)--> capturing --funds-captured--> captured
//!                                           '------capture-declined--> authorized
//! authorized --void--> voiding --voided--> voided
//!                         '----void-declined--> authorized
//! ```
//!
//! `capturing` and `voiding` hold the payment while the connector answers, so two concurrent
//! operations cannot both reach it (the second finds the payment changed). Refunds do not
//! change the payment: they are resources of their own ([`super::Refund`]), limited to
//! [`Payment::refundable`].

use hushpay_store::UnixTime;

use super::machine::TransitionError;
use super::model::{Payment, State};

/// Something that happens to an authorization's funds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FundsEvent {
    /// The tenant asks to capture `amount` (1 ..= the authorized amount).
    CaptureFunds { amount: u64 },
    /// The connector captured the amount asked.
    FundsCaptured,
    /// The connector refused the capture (`error`: `processing-error`, ...).
    CaptureDeclined,
    /// The tenant asks to release the authorization.
    Void,
    /// The connector released it.
    Voided,
    /// The connector refused the void.
    VoidDeclined,
}

impl FundsEvent {
    /// The event's name, for errors, changes and the audit log (`payment.<name>`).
    pub fn name(&self) -> &'static str {
        match self {
            FundsEvent::CaptureFunds { .. } => "capture-funds",
            FundsEvent::FundsCaptured => "funds-captured",
            FundsEvent::CaptureDeclined => "capture-declined",
            FundsEvent::Void => "void",
            FundsEvent::Voided => "voided",
            FundsEvent::VoidDeclined => "void-declined",
        }
    }

    /// Every event's name (the cluster bus accepts these on changes).
    pub const NAMES: [&'static str; 6] = [
        "capture-funds",
        "funds-captured",
        "capture-declined",
        "void",
        "voided",
        "void-declined",
    ];
}

/// A capture amount that cannot be: zero, or above the authorized amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the amount to capture must be 1 to {authorized} (the authorized amount)")]
pub struct CaptureAmountError {
    pub authorized: u64,
}

impl Payment {
    /// The amount a `capture-funds` of `amount` (absent: the whole authorization) captures.
    pub fn capture_amount(&self, amount: Option<u64>) -> Result<u64, CaptureAmountError> {
        let amount = amount.unwrap_or(self.amount);
        if amount == 0 || amount > self.amount {
            return Err(CaptureAmountError {
                authorized: self.amount,
            });
        }
        Ok(amount)
    }

    /// The payment after `event` at `now`, or why `event` is refused (a wrong state, or a
    /// capture amount out of range). The input is left untouched.
    pub fn apply_funds(
        &self,
        event: FundsEvent,
        now: UnixTime,
    ) -> Result<Payment, TransitionError> {
        let refuse = TransitionError {
            state: self.state,
            event: event.name(),
        };
        let mut p = self.clone();
        match event {
            FundsEvent::CaptureFunds { amount }
                if self.state == State::Authorized && self.capture_amount(Some(amount)).is_ok() =>
            {
                p.state = State::Capturing;
                p.amount_captured = Some(amount);
            }
            FundsEvent::FundsCaptured if self.state == State::Capturing => {
                p.state = State::Captured;
            }
            FundsEvent::CaptureDeclined if self.state == State::Capturing => {
                p.state = State::Authorized;
                p.amount_captured = None;
            }
            FundsEvent::Void if self.state == State::Authorized => p.state = State::Voiding,
            FundsEvent::Voided if self.state == State::Voiding => p.state = State::Voided,
            FundsEvent::VoidDeclined if self.state == State::Voiding => {
                p.state = State::Authorized;
            }
            _ => return Err(refuse),
        }
        p.updated_at = now;
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::payment::model::{MaskedCard, Method, Mode};
    use crate::payment::{Event, PaymentRequest};

    fn approved(mode: Mode) -> Payment {
        let p = PaymentRequest {
            amount: 5000,
            currency: "USD".into(),
            reference: "r".into(),
            mode,
            method: Method::CardForm,
            required_fields: None,
            allowed_brands: None,
            attempts: None,
            timeout_secs: None,
            room: None,
            hand_off: None,
            locale: None,
        }
        .into_payment("pay_f".into(), "ten_f", "key_f", 0)
        .unwrap();
        let card = MaskedCard {
            token: "tok_x".into(),
            brand: "visa".into(),
            last4: "4242".into(),
            exp_month: 1,
            exp_year: 2031,
        };
        [
            Event::CardSubmitted {
                brand: "visa".into(),
            },
            Event::Complete,
            Event::Approved {
                card,
                authorization_code: Some("A1".into()),
            },
        ]
        .into_iter()
        .fold(p, |p, e| p.apply(e, 1).unwrap())
    }

    fn all_events() -> Vec<FundsEvent> {
        vec![
            FundsEvent::CaptureFunds { amount: 1 },
            FundsEvent::FundsCaptured,
            FundsEvent::CaptureDeclined,
            FundsEvent::Void,
            FundsEvent::Voided,
            FundsEvent::VoidDeclined,
        ]
    }

    #[test]
    fn an_approved_authorization_is_authorized_and_a_charge_succeeded() {
        let a = approved(Mode::Authorize);
        assert_eq!(a.state, State::Authorized);
        assert!(a.state.is_terminal(), "its collection is over");
        assert_eq!(a.refundable(), None, "nothing captured yet");
        let c = approved(Mode::Charge);
        assert_eq!(c.state, State::Succeeded);
        assert_eq!(c.refundable(), Some(5000));
        assert_eq!(approved(Mode::Tokenize).refundable(), None);
        // A charge's funds are not an authorization's: every funds event is refused.
        for e in all_events() {
            assert!(c.apply_funds(e, 2).is_err());
        }
    }

    #[test]
    fn capture_partial_once_then_refundable_up_to_the_captured_amount() {
        let a = approved(Mode::Authorize);
        let capturing = a
            .apply_funds(FundsEvent::CaptureFunds { amount: 3000 }, 2)
            .unwrap();
        assert_eq!(capturing.state, State::Capturing);
        // While the connector answers, nothing else goes.
        for e in all_events() {
            let ok = matches!(e, FundsEvent::FundsCaptured | FundsEvent::CaptureDeclined);
            assert_eq!(capturing.apply_funds(e.clone(), 3).is_ok(), ok, "{e:?}");
        }
        let captured = capturing.apply_funds(FundsEvent::FundsCaptured, 3).unwrap();
        assert_eq!(
            (
                captured.state,
                captured.amount_captured,
                captured.updated_at
            ),
            (State::Captured, Some(3000), 3)
        );
        assert_eq!(captured.refundable(), Some(3000));
        for e in all_events() {
            let err = captured.apply_funds(e, 4).unwrap_err();
            assert_eq!(err.state, State::Captured, "captured once, never voided");
        }
    }

    #[test]
    fn capture_amounts_out_of_range_are_refused() {
        let a = approved(Mode::Authorize);
        assert_eq!(a.capture_amount(None), Ok(5000));
        assert_eq!(a.capture_amount(Some(5000)), Ok(5000));
        for bad in [0, 5001, u64::MAX] {
            assert_eq!(
                a.capture_amount(Some(bad)),
                Err(CaptureAmountError { authorized: 5000 })
            );
            assert!(
                a.apply_funds(FundsEvent::CaptureFunds { amount: bad }, 2)
                    .is_err()
            );
        }
    }

    #[test]
    fn a_declined_operation_leaves_the_authorization_as_it_was() {
        let a = approved(Mode::Authorize);
        let back = a
            .apply_funds(FundsEvent::CaptureFunds { amount: 10 }, 2)
            .unwrap()
            .apply_funds(FundsEvent::CaptureDeclined, 3)
            .unwrap();
        assert_eq!(
            (back.state, back.amount_captured),
            (State::Authorized, None)
        );
        let back = back
            .apply_funds(FundsEvent::Void, 4)
            .unwrap()
            .apply_funds(FundsEvent::VoidDeclined, 5)
            .unwrap();
        assert_eq!(back.state, State::Authorized);
        let voided = back
            .apply_funds(FundsEvent::Void, 6)
            .unwrap()
            .apply_funds(FundsEvent::Voided, 7)
            .unwrap();
        assert_eq!(voided.state, State::Voided);
        assert_eq!(voided.refundable(), None);
        for e in all_events() {
            assert!(voided.apply_funds(e, 8).is_err());
        }
    }

    #[test]
    fn open_payments_take_no_funds_event_and_collection_events_skip_authorized() {
        let a = approved(Mode::Authorize);
        assert!(a.apply(Event::Cancel, 2).is_err());
        assert!(a.apply(Event::Expire, 2).is_err());
        assert!(!a.is_overdue(i64::MAX));
        let mut open = a.clone();
        open.state = State::Requested;
        for e in all_events() {
            assert!(open.apply_funds(e, 2).is_err());
        }
    }
}
