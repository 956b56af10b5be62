//! Who may see what of a payment: one answer for the HTTP routes (`routes/payments.rs`) and
//! for the room's signalling (`sfu/payments.rs`, `sfu/payment_offer.rs`), so the two can not
//! drift apart.
//!
//! * **Requesting payments**: the tenant's backend (API key), or an agent or supervisor token
//!   with `canRequestPayment` (in its own room). Patients never, whatever their grants.
//! * **A payment's masked document** (`GET /v1/payments/{id}`, the agent commands, the
//!   `payment` signalling message): the tenant's backend, or an agent or supervisor of the
//!   payment's tenant with `canRequestPayment` whose room is the payment's room or who created
//!   it. Patients never.
//! * **The client secret** of a card-form or link payment (it lets its holder submit a card,
//!   audited as the patient): the tenant's backend, in its answer to `POST /v1/payments`, and
//!   the room's patient (`payment_requested`, the patient's copy of `payment_link`). Never an
//!   agent or supervisor credential.

use hushpay_auth::{Claims, Grants, Role};
use hushpay_vault::payment::Payment;

use super::PaymentError;
use crate::extract::Caller;

/// A participant, as its token describes it.
#[derive(Debug, Clone, Copy)]
pub struct ParticipantView<'a> {
    pub tenant: &'a str,
    pub room: &'a str,
    pub identity: &'a str,
    pub role: Role,
    pub grants: Grants,
}

impl<'a> From<&'a Claims> for ParticipantView<'a> {
    fn from(c: &'a Claims) -> Self {
        Self {
            tenant: c.tenant.as_str(),
            room: c.room.as_str(),
            identity: c.sub.as_str(),
            role: c.role,
            grants: c.grants,
        }
    }
}

impl ParticipantView<'_> {
    /// An agent or supervisor holding `canRequestPayment`.
    fn handles_payments(&self) -> bool {
        matches!(self.role, Role::Agent | Role::Supervisor) && self.grants.can_request_payment
    }
}

/// Who is asking: the tenant's backend or a participant.
#[derive(Debug, Clone, Copy)]
pub enum Viewer<'a> {
    /// The tenant's backend, with its API key.
    Backend {
        tenant: &'a str,
    },
    Participant(ParticipantView<'a>),
}

/// Why a viewer may not request payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestRefusal {
    /// A patient token: patients are asked to pay, they do not ask.
    Patient,
    /// An agent or supervisor token without `canRequestPayment`.
    MissingGrant,
}

impl<'a> From<&'a Caller> for Viewer<'a> {
    fn from(caller: &'a Caller) -> Self {
        match caller {
            Caller::ApiKey(k) => Viewer::Backend {
                tenant: k.tenant.as_str(),
            },
            Caller::Participant(c) => Viewer::Participant(ParticipantView::from(&**c)),
        }
    }
}

/// The `created_by` of a payment a participant created (also its audit actor).
pub fn participant_actor(identity: &str) -> String {
    format!("agent:{identity}")
}

impl Viewer<'_> {
    fn tenant(&self) -> &str {
        match self {
            Viewer::Backend { tenant } => tenant,
            Viewer::Participant(p) => p.tenant,
        }
    }

    /// May this viewer create payments? A token without the grant is `MissingGrant` (a
    /// patient's default one included); a patient's token that was given it is `Patient`.
    pub fn may_request_payments(&self) -> Result<(), RequestRefusal> {
        match self {
            Viewer::Backend { .. } => Ok(()),
            Viewer::Participant(p) if p.handles_payments() => Ok(()),
            Viewer::Participant(p) if !p.grants.can_request_payment => {
                Err(RequestRefusal::MissingGrant)
            }
            Viewer::Participant(_) => Err(RequestRefusal::Patient),
        }
    }

    /// May this viewer see `payment`'s masked document and send it commands? Another
    /// tenant's payment is `NotFound` (its existence is not confirmed), anything else
    /// refused is `Forbidden`.
    pub fn may_see(&self, payment: &Payment) -> Result<(), PaymentError> {
        if self.tenant() != payment.tenant {
            return Err(PaymentError::NotFound);
        }
        match self {
            Viewer::Backend { .. } => Ok(()),
            Viewer::Participant(p) => {
                let own = payment.room.as_deref() == Some(p.room)
                    || payment.created_by == participant_actor(p.identity);
                if p.handles_payments() && own {
                    Ok(())
                } else {
                    Err(PaymentError::Forbidden)
                }
            }
        }
    }

    /// May this viewer hold a payment's client secret? Only the tenant's backend and the
    /// patient: an agent or supervisor holding it could submit a card in the patient's name.
    pub fn may_hold_client_secret(&self) -> bool {
        match self {
            Viewer::Backend { .. } => true,
            Viewer::Participant(p) => p.role == Role::Patient,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hushpay_vault::payment::{Method, Mode, PaymentRequest};

    fn payment(room: Option<&str>, by: &str) -> Payment {
        let request = PaymentRequest {
            amount: 100,
            currency: "USD".into(),
            reference: "r".into(),
            mode: Mode::Charge,
            method: Method::CardForm,
            required_fields: None,
            allowed_brands: None,
            attempts: None,
            timeout_secs: None,
            room: room.map(str::to_owned),
            hand_off: None,
            locale: None,
        };
        match request.into_payment("pay_1".into(), "ten_a", by, 0) {
            Ok(p) => p,
            Err(e) => panic!("{e}"),
        }
    }

    fn participant(role: Role, grants: Grants) -> ParticipantView<'static> {
        ParticipantView {
            tenant: "ten_a",
            room: "call-1",
            identity: "alice",
            role,
            grants,
        }
    }

    #[test]
    fn staff_need_the_grant_and_their_room_patients_see_nothing() {
        let p = payment(Some("call-1"), "key_1");
        let with = Grants {
            can_request_payment: true,
            ..Grants::NONE
        };
        for role in [Role::Agent, Role::Supervisor] {
            let v = Viewer::Participant(participant(role, with));
            assert!(v.may_see(&p).is_ok());
            assert!(v.may_request_payments().is_ok());
            assert!(!v.may_hold_client_secret());
            let without = Viewer::Participant(participant(role, role.default_grants()));
            if !role.default_grants().can_request_payment {
                assert!(matches!(without.may_see(&p), Err(PaymentError::Forbidden)));
                assert_eq!(
                    without.may_request_payments(),
                    Err(RequestRefusal::MissingGrant)
                );
            }
        }
        let patient = Viewer::Participant(participant(Role::Patient, with));
        assert!(matches!(patient.may_see(&p), Err(PaymentError::Forbidden)));
        assert_eq!(patient.may_request_payments(), Err(RequestRefusal::Patient));
        let plain = Viewer::Participant(participant(Role::Patient, Role::Patient.default_grants()));
        assert_eq!(
            plain.may_request_payments(),
            Err(RequestRefusal::MissingGrant)
        );
        assert!(patient.may_hold_client_secret());

        let elsewhere = payment(Some("call-2"), "key_1");
        let agent = Viewer::Participant(participant(Role::Agent, with));
        assert!(matches!(
            agent.may_see(&elsewhere),
            Err(PaymentError::Forbidden)
        ));
        let own = payment(None, &participant_actor("alice"));
        assert!(agent.may_see(&own).is_ok());

        let backend = Viewer::Backend { tenant: "ten_a" };
        assert!(backend.may_see(&elsewhere).is_ok() && backend.may_hold_client_secret());
        let stranger = Viewer::Backend { tenant: "ten_b" };
        assert!(matches!(stranger.may_see(&p), Err(PaymentError::NotFound)));
    }
}
