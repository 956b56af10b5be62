//! 3-D Secure (issue 17, point 4): when the connector answers a card-form or link payment
//! with a challenge, the payment waits in `authenticating` while the cardholder answers the
//! issuer's challenge page inside the card iframe; the page (holding the client secret) then
//! asks to resume, and the connector's final answer finishes the payment.
//!
//! The challenge (its id and URL) is held here, in memory, by payment id: never in the
//! payment document, so no agent, webhook or log sees it; only the client secret's holder is
//! given its URL ([`PaymentService::challenge_url`]). A gateway that restarts forgets its
//! challenges: their payments stay `authenticating` until their deadline expires them.

use std::collections::HashMap;
use std::sync::Mutex;

use hushpay_vault::Actor;
use hushpay_vault::connector::{AuthenticationOutcome, AuthenticationRequest};
use hushpay_vault::payment::{Event, Mode, State};

use super::finish::authorization_event;
use super::{Loaded, PaymentError, PaymentService};

/// A connector's challenge for a payment.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: String,
    pub url: String,
}

/// The challenges waiting for their cardholder, by payment id.
#[derive(Debug, Default)]
pub struct Challenges {
    by_payment: Mutex<HashMap<String, Challenge>>,
}

impl Challenges {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Challenge>> {
        // A poisoned map still holds valid entries (no invariant spans an insert).
        self.by_payment.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn hold(&self, payment: &str, challenge: Challenge) {
        self.lock().insert(payment.to_owned(), challenge);
    }

    fn take(&self, payment: &str) -> Option<Challenge> {
        self.lock().remove(payment)
    }

    fn url(&self, payment: &str) -> Option<String> {
        self.lock().get(payment).map(|c| c.url.clone())
    }

    fn payment_of(&self, challenge: &str) -> Option<String> {
        self.lock()
            .iter()
            .find(|(_, c)| c.id == challenge)
            .map(|(p, _)| p.clone())
    }

    /// The payments with a challenge held (for the expiry sweeper).
    pub(super) fn payments(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }

    pub(super) fn forget(&self, payment: &str) {
        self.lock().remove(payment);
    }
}

impl PaymentService {
    /// The challenge page of an `authenticating` payment, for the client secret's holder.
    pub fn challenge_url(&self, loaded: &Loaded) -> Option<String> {
        (loaded.payment.state == State::Authenticating)
            .then(|| self.challenges.url(&loaded.payment.id))
            .flatten()
    }

    /// The tenant of the payment a held challenge belongs to (for its page's
    /// `frame-ancestors`); `None` for a challenge no payment here waits on.
    pub async fn tenant_of_challenge(&self, challenge: &str) -> Option<String> {
        let payment = self.challenges.payment_of(challenge)?;
        let loaded = self.load(&payment).await.ok()?;
        (loaded.payment.state == State::Authenticating).then_some(loaded.payment.tenant)
    }

    /// Resumes the authorization of an `authenticating` payment once its cardholder answered
    /// the challenge: `AuthenticationPending` (nothing changes) while they have not.
    pub async fn complete_authentication(
        &self,
        actor: &Actor,
        loaded: Loaded,
    ) -> Result<Loaded, PaymentError> {
        let p = &loaded.payment;
        if p.state != State::Authenticating {
            return Err(PaymentError::NotAuthenticating);
        }
        // Taken while the connector is asked: a second, concurrent completion finds nothing.
        let challenge = self
            .challenges
            .take(&p.id)
            .ok_or(PaymentError::AuthenticationPending)?;
        let outcome = self
            .connector
            .complete_authentication(&AuthenticationRequest {
                payment: &p.id,
                challenge: &challenge.id,
                amount_minor: p.amount,
                currency: &p.currency,
                reference: &p.reference,
                capture: p.mode == Mode::Charge,
            })
            .await;
        let result = match outcome {
            AuthenticationOutcome::Pending => {
                self.challenges.hold(&p.id, challenge);
                return Err(PaymentError::AuthenticationPending);
            }
            AuthenticationOutcome::Done(result) => result,
        };
        let Some(card) = p.card.clone() else {
            return Err(PaymentError::Document(
                "authenticating without a card".into(),
            ));
        };
        let event: Event = authorization_event(card, result);
        self.transition(actor, &loaded, event).await
    }
}
