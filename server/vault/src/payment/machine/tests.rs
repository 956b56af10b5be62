#![allow(clippy::unwrap_used, clippy::expect_used)]

use proptest::prelude::*;

use super::*;
use crate::payment::model::{Method, Mode};
use crate::payment::request::PaymentRequest;

fn new_payment(method: Method, attempts: u8) -> Payment {
    PaymentRequest {
        amount: 500,
        currency: "EUR".into(),
        reference: "r".into(),
        mode: Mode::Charge,
        method,
        required_fields: None,
        allowed_brands: None,
        attempts: Some(attempts),
        timeout_secs: None,
        room: method.is_keyed().then(|| "room".into()),
        hand_off: None,
        locale: None,
    }
    .into_payment("pay_t".into(), "ten_t", "agent:a", 0)
    .unwrap()
}

fn card() -> MaskedCard {
    MaskedCard {
        token: "tok_abcdefgh".into(),
        brand: "visa".into(),
        last4: "4242".into(),
        exp_month: 1,
        exp_year: 2031,
    }
}

const PAN: Field = Field::PaymentCardNumber;

/// The representative events, in the column order of the tables below.
fn events() -> Vec<Event> {
    vec![
        Event::Capture(PAN),
        Event::Progress {
            field: PAN,
            length: 4,
            valid: false,
            brand: Some("visa".into()),
        },
        Event::Captured {
            field: PAN,
            length: 16,
            brand: Some("visa".into()),
        },
        Event::Rejected {
            field: Some(PAN),
            error: "invalid-card-number".into(),
        },
        Event::Rejected {
            field: None,
            error: "brand-not-allowed".into(),
        },
        Event::CardSubmitted {
            brand: "visa".into(),
        },
        Event::Complete,
        Event::Approved {
            card: card(),
            authorization_code: Some("A1".into()),
        },
        Event::Declined {
            card: Some(card()),
            error: "card-declined".into(),
        },
        Event::Cancel,
        Event::HungUp,
        Event::Expire,
        Event::NodeLost,
    ]
}

/// A payment of `method` driven into `state` (None when the method never reaches it).
fn in_state(method: Method, state: State) -> Option<Payment> {
    let p = new_payment(method, 3);
    let step = |p: &Payment, e: Event| p.apply(e, 1).unwrap();
    let ready = |p: &Payment| {
        if method.is_keyed() {
            Field::ALL
                .into_iter()
                .filter(|f| p.field(*f).is_some())
                .fold(p.clone(), |p, f| {
                    let p = step(&p, Event::Capture(f));
                    step(
                        &p,
                        Event::Captured {
                            field: f,
                            length: 4,
                            brand: None,
                        },
                    )
                })
        } else {
            step(
                p,
                Event::CardSubmitted {
                    brand: "visa".into(),
                },
            )
        }
    };
    Some(match state {
        State::Requested => p,
        State::Collecting if method.is_keyed() => step(&p, Event::Capture(PAN)),
        State::Collecting => return None,
        State::Ready => ready(&p),
        State::Authorizing => step(&ready(&p), Event::Complete),
        State::Succeeded => step(
            &step(&ready(&p), Event::Complete),
            Event::Approved {
                card: card(),
                authorization_code: None,
            },
        ),
        State::Failed => step(&p, Event::HungUp),
        State::Cancelled => step(&p, Event::Cancel),
        State::Expired => step(&p, Event::Expire),
        // The funds states follow an `authorize`-mode approval (`funds.rs` tests them).
        State::Authorized | State::Capturing | State::Captured | State::Voiding | State::Voided => {
            return None;
        }
        // 3-D Secure: `a_challenge_waits_in_authenticating_then_finishes` tests it.
        State::Authenticating => return None,
    })
}

/// Expected verdicts: one row per state, one column per [`events`] entry.
fn table(method: Method) -> Vec<(State, [bool; 12])> {
    const T: bool = true;
    const F: bool = false;
    let keypad = method.is_keyed();
    let k = |yes: bool| yes && keypad;
    let c = |yes: bool| yes && !keypad;
    vec![
        (
            State::Requested,
            [k(T), F, F, F, c(T), c(T), F, F, F, T, T, T],
        ),
        (State::Collecting, [T, T, T, T, F, F, F, F, F, T, T, T]),
        (State::Ready, [k(T), F, F, F, F, F, T, F, F, T, T, T]),
        (State::Authorizing, [F, F, F, F, F, F, F, T, T, F, F, F]),
        (State::Succeeded, [F; 12]),
        (State::Failed, [F; 12]),
        (State::Cancelled, [F; 12]),
        (State::Expired, [F; 12]),
    ]
}

#[test]
fn every_state_and_event_pair_matches_the_table() {
    for method in [Method::Keypad, Method::Ivr, Method::CardForm, Method::Link] {
        for (state, row) in table(method) {
            let Some(p) = in_state(method, state) else {
                continue;
            };
            assert_eq!(p.state, state);
            for (event, expected) in events().into_iter().zip(row) {
                let name = event.name();
                let got = p.apply(event, 9);
                assert_eq!(
                    got.is_ok(),
                    expected,
                    "{method:?} {state:?} {name}: {got:?}"
                );
                if let Err(e) = got {
                    assert_eq!(e.state, state);
                    assert_eq!(e.event, name);
                }
            }
        }
    }
}

#[test]
fn terminal_states_carry_their_twilio_result() {
    let m = Method::Keypad;
    let result = |s| in_state(m, s).unwrap().result;
    assert_eq!(result(State::Succeeded), Some(PayResult::Success));
    assert_eq!(result(State::Failed), Some(PayResult::CallerHungUp));
    assert_eq!(result(State::Cancelled), Some(PayResult::Cancelled));
    assert_eq!(result(State::Expired), Some(PayResult::InputTimeout));
    let auth = in_state(m, State::Authorizing).unwrap();
    let declined = auth
        .apply(
            Event::Declined {
                card: None,
                error: "insufficient-funds".into(),
            },
            5,
        )
        .unwrap();
    assert_eq!(declined.result, Some(PayResult::PaymentConnectorError));
    assert_eq!(declined.error.as_deref(), Some("insufficient-funds"));
    assert_eq!(declined.updated_at, 5);
}

#[test]
fn rejections_fail_the_payment_after_max_attempts() {
    let mut p = new_payment(Method::CardForm, 2);
    let reject = Event::Rejected {
        field: None,
        error: "brand-not-allowed".into(),
    };
    p = p.apply(reject.clone(), 1).unwrap();
    assert_eq!((p.state, p.failed_attempts), (State::Requested, 1));
    p = p.apply(reject.clone(), 2).unwrap();
    assert_eq!(p.state, State::Failed);
    assert_eq!(p.result, Some(PayResult::TooManyFailedAttempts));
    assert!(p.apply(reject, 3).is_err());
}

#[test]
fn a_timeout_that_uses_the_last_attempt_ends_in_input_timeout() {
    for method in [Method::Keypad, Method::Ivr] {
        let reject = |p: &Payment, error: &str| {
            let p = p.apply(Event::Capture(PAN), 1).unwrap();
            p.apply(
                Event::Rejected {
                    field: Some(PAN),
                    error: error.into(),
                },
                2,
            )
            .unwrap()
        };
        let p = new_payment(method, 2);
        let timed_out = reject(&reject(&p, "invalid-card-number"), INPUT_TIMEOUT);
        assert_eq!(timed_out.state, State::Failed);
        assert_eq!(timed_out.result, Some(PayResult::InputTimeout));
        let invalid = reject(&reject(&p, INPUT_TIMEOUT), "invalid-card-number");
        assert_eq!(invalid.result, Some(PayResult::TooManyFailedAttempts));
    }
}

#[test]
fn ivr_serializes_as_ivr_and_needs_a_room() {
    assert_eq!(serde_json::to_string(&Method::Ivr).unwrap(), "\"ivr\"");
    let mut request = PaymentRequest {
        amount: 500,
        currency: "EUR".into(),
        reference: "r".into(),
        mode: Mode::Charge,
        method: Method::Ivr,
        required_fields: None,
        allowed_brands: None,
        attempts: None,
        timeout_secs: None,
        room: None,
        hand_off: None,
        locale: None,
    };
    assert!(
        request
            .clone()
            .into_payment("p".into(), "t", "a", 0)
            .is_err()
    );
    request.room = Some("room".into());
    assert_eq!(
        request
            .into_payment("p".into(), "t", "a", 0)
            .unwrap()
            .method,
        Method::Ivr
    );
}

#[test]
fn re_asking_a_captured_field_restarts_it_and_leaves_ready() {
    let p = in_state(Method::Keypad, State::Ready).unwrap();
    let p = p.apply(Event::Capture(PAN), 2).unwrap();
    assert_eq!(p.state, State::Collecting);
    let f = p.field(PAN).unwrap();
    assert_eq!(
        (f.status, f.length, f.valid),
        (FieldProgress::Collecting, 0, false)
    );
    // Another field cannot start while one is being collected.
    assert!(p.apply(Event::Capture(Field::SecurityCode), 3).is_err());
    // A field that was not required cannot be captured.
    let p = in_state(Method::Keypad, State::Requested).unwrap();
    assert!(p.apply(Event::Capture(Field::PostalCode), 3).is_err());
}

fn any_event() -> impl Strategy<Value = Event> {
    let field = prop::sample::select(Field::ALL.to_vec());
    prop_oneof![
        field.clone().prop_map(Event::Capture),
        (field.clone(), 0u8..20, any::<bool>()).prop_map(|(field, length, valid)| {
            Event::Progress {
                field,
                length,
                valid,
                brand: None,
            }
        }),
        (field.clone(), 3u8..20).prop_map(|(field, length)| Event::Captured {
            field,
            length,
            brand: None
        }),
        prop::option::of(field).prop_map(|field| Event::Rejected {
            field,
            error: "x".into()
        }),
        Just(Event::CardSubmitted {
            brand: "visa".into()
        }),
        Just(Event::Complete),
        Just(Event::Approved {
            card: card(),
            authorization_code: None
        }),
        Just(Event::Declined {
            card: None,
            error: "card-declined".into()
        }),
        Just(Event::Cancel),
        Just(Event::HungUp),
        Just(Event::Expire),
        Just(Event::NodeLost),
        Just(Event::ChallengeRequired { card: card() }),
    ]
}

/// An oracle written from the state diagram, independent of `apply`'s match.
fn legal(p: &Payment, e: &Event) -> bool {
    let keypad = p.method.is_keyed();
    let open = matches!(p.state, State::Requested | State::Collecting | State::Ready);
    let collecting = |f: &Field| {
        p.state == State::Collecting
            && p.field(*f).map(|s| s.status) == Some(FieldProgress::Collecting)
    };
    match e {
        Event::Capture(f) => {
            keypad
                && open
                && p.field(*f).is_some()
                && p.fields
                    .iter()
                    .all(|s| s.status != FieldProgress::Collecting || s.field == *f)
        }
        Event::Progress { field, .. } | Event::Captured { field, .. } => {
            keypad && collecting(field)
        }
        Event::Rejected { field: Some(f), .. } => keypad && collecting(f),
        Event::Rejected { field: None, .. } | Event::CardSubmitted { .. } => {
            !keypad && matches!(p.state, State::Requested | State::Collecting)
        }
        Event::Complete => p.state == State::Ready,
        Event::Approved { .. } | Event::Declined { .. } => {
            matches!(p.state, State::Authorizing | State::Authenticating)
        }
        Event::ChallengeRequired { .. } => !keypad && p.state == State::Authorizing,
        Event::Cancel | Event::Expire => open || p.state == State::Authenticating,
        Event::HungUp | Event::NodeLost => open,
    }
}

proptest! {
    #[test]
    fn illegal_transitions_are_refused_and_invariants_hold(
        method in prop::sample::select(vec![Method::Keypad, Method::Ivr, Method::CardForm]),
        attempts in 1u8..=5,
        events in prop::collection::vec(any_event(), 0..40),
    ) {
        let mut p = new_payment(method, attempts);
        for (i, e) in events.into_iter().enumerate() {
            let expected = legal(&p, &e);
            match p.apply(e.clone(), i as i64) {
                Ok(next) => {
                    prop_assert!(expected, "accepted illegal {} in {:?}", e.name(), p.state);
                    prop_assert!(!p.state.is_terminal());
                    if next.state == State::Authorizing {
                        prop_assert!(matches!(p.state, State::Ready | State::Authorizing));
                    }
                    p = next;
                }
                Err(err) => {
                    prop_assert!(!expected, "refused legal {} in {:?}", e.name(), p.state);
                    prop_assert_eq!(err.state, p.state);
                }
            }
            prop_assert_eq!(p.result.is_some(), p.state.is_terminal());
            prop_assert!(p.failed_attempts <= p.max_attempts);
            // A card is known once tokenized: at the end, or while a 3-D Secure challenge waits
            // (and kept when that payment is cancelled or expires).
            prop_assert!(p.card.is_none() || matches!(
                p.state,
                State::Succeeded | State::Failed | State::Authenticating | State::Cancelled | State::Expired
            ));
            prop_assert!(p.state != State::Ready || p.all_captured());
            let collecting = p.fields.iter().filter(|f| f.status == FieldProgress::Collecting).count();
            prop_assert!(collecting <= 1);
        }
    }
}

#[test]
fn a_lost_node_fails_an_open_payment_with_node_lost_and_leaves_authorizing_alone() {
    for state in [State::Requested, State::Collecting, State::Ready] {
        let Some(p) = in_state(Method::Keypad, state) else {
            continue;
        };
        let lost = p.apply(Event::NodeLost, 2).unwrap();
        assert_eq!(lost.state, State::Failed);
        assert_eq!(lost.result, Some(PayResult::NodeLost));
        assert_eq!(lost.error.as_deref(), Some(NODE_LOST));
    }
    // The connector may have approved already: that is not for a surviving node to guess.
    let authorizing = in_state(Method::Keypad, State::Authorizing).unwrap();
    assert!(authorizing.apply(Event::NodeLost, 2).is_err());
}

#[test]
fn a_challenge_waits_in_authenticating_then_finishes() {
    let authenticating = |method| {
        let p = new_payment(method, 3);
        let p = p
            .apply(
                Event::CardSubmitted {
                    brand: "visa".into(),
                },
                1,
            )
            .unwrap();
        let p = p.apply(Event::Complete, 2).unwrap();
        p.apply(Event::ChallengeRequired { card: card() }, 3)
    };
    let p = authenticating(Method::CardForm).unwrap();
    assert_eq!(p.state, State::Authenticating);
    assert!(!p.state.is_terminal());
    assert_eq!(p.card, Some(card()));
    assert_eq!(p.result, None);
    // A second card, a second challenge, a completion from the agent: refused.
    for e in [
        Event::CardSubmitted {
            brand: "visa".into(),
        },
        Event::Complete,
        Event::ChallengeRequired { card: card() },
        Event::HungUp,
    ] {
        assert!(p.apply(e, 4).is_err());
    }
    let approved = p
        .apply(
            Event::Approved {
                card: card(),
                authorization_code: Some("A1".into()),
            },
            4,
        )
        .unwrap();
    assert_eq!(
        (approved.state, approved.result),
        (State::Succeeded, Some(PayResult::Success))
    );
    let failed = p
        .apply(
            Event::Declined {
                card: Some(card()),
                error: "authentication-failed".into(),
            },
            4,
        )
        .unwrap();
    assert_eq!(failed.state, State::Failed);
    assert_eq!(failed.error.as_deref(), Some("authentication-failed"));
    let expired = p.apply(Event::Expire, 4).unwrap();
    assert_eq!(expired.state, State::Expired);
    assert!(p.is_overdue(p.expires_at));
    assert_eq!(p.apply(Event::Cancel, 4).unwrap().state, State::Cancelled);
}
