//! Card-form and pay-by-link payments: the patient's page authenticates with the payment's
//! client secret and submits a card sealed (HPKE) to the vault with
//! `Binding { tenant, session: payment id }`. The card is checked against the payment
//! (allowed brands, required fields, expiry), then tokenized and authorized.

use hushpay_card::{CardPayload, YearMonth};
use hushpay_vault::Actor;
use hushpay_vault::payment::{Event, Field, Method, State};

use super::finish::CardInput;
use super::{Loaded, PaymentError, PaymentService, secret};

/// Today's month, for expiry checks.
pub fn today() -> YearMonth {
    let now = time::OffsetDateTime::now_utc();
    YearMonth {
        year: u16::try_from(now.year()).unwrap_or(2000),
        month: u8::from(now.month()),
    }
}

/// Why a card does not fit the payment (an error name), if it does not.
fn misfit(loaded: &Loaded, card: &CardPayload) -> Option<&'static str> {
    let p = &loaded.payment;
    let brand = card.pan.brand().map_or("unknown", |b| b.id());
    if !p.allowed_brands.iter().any(|b| b == brand) {
        return Some("brand-not-allowed");
    }
    if card.expiry.is_expired(today()) {
        return Some("card-expired");
    }
    if p.required_fields.contains(&Field::SecurityCode) && card.cvc.is_none() {
        return Some("security-code-missing");
    }
    if p.required_fields.contains(&Field::PostalCode) && card.postal_code.is_none() {
        return Some("postal-code-missing");
    }
    None
}

impl PaymentService {
    /// The payment `id` if `client_secret` is its secret; any mismatch (unknown payment,
    /// keypad payment, wrong secret) is the same `BadClientSecret`.
    pub async fn authenticate_client(
        &self,
        id: &str,
        client_secret: &str,
    ) -> Result<Loaded, PaymentError> {
        let loaded = match self.load(id).await {
            Err(PaymentError::NotFound) => return Err(PaymentError::BadClientSecret),
            other => other?,
        };
        let ok = loaded
            .record
            .client_secret_hash
            .as_deref()
            .is_some_and(|h| secret::matches(client_secret, h));
        if !ok {
            return Err(PaymentError::BadClientSecret);
        }
        Ok(loaded)
    }

    /// Refuses a submission to a payment that is finished or busy.
    pub fn check_open_for_card(loaded: &Loaded) -> Result<(), PaymentError> {
        let p = &loaded.payment;
        match p.state {
            s if s.is_terminal() && p.method == Method::Link => Err(PaymentError::LinkUsed),
            s if s.is_terminal() => Err(PaymentError::AlreadyCompleted),
            State::Ready | State::Authorizing | State::Authenticating => {
                Err(PaymentError::Concurrent)
            }
            _ => Ok(()),
        }
    }

    /// Takes an opened card for a card-form or link payment: a card that does not fit
    /// counts a failed attempt and is refused; a fitting one is tokenized and authorized.
    pub async fn submit_card(
        &self,
        actor: &Actor,
        loaded: Loaded,
        card: CardPayload,
    ) -> Result<Loaded, PaymentError> {
        Self::check_open_for_card(&loaded)?;
        if let Some(error) = misfit(&loaded, &card) {
            drop(card);
            let event = Event::Rejected {
                field: None,
                error: error.into(),
            };
            self.transition(actor, &loaded, event).await?;
            return Err(PaymentError::CardRejected(error));
        }
        let brand = card.pan.brand().map_or("unknown", |b| b.id()).to_owned();
        let submitted = self
            .transition(actor, &loaded, Event::CardSubmitted { brand })
            .await?;
        let authorizing = self.transition(actor, &submitted, Event::Complete).await?;
        let CardPayload {
            pan, expiry, cvc, ..
        } = card;
        self.finish(actor, authorizing, CardInput { pan, expiry, cvc })
            .await
    }
}
