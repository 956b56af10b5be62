//! The end of a payment: tokenize in the vault, authorize through the connector (`charge`,
//! captured at once; `authorize`, left to capture or void) or stop at the token (`tokenize`),
//! and record `succeeded` (`authorized`) or `failed`. Shared by the card
//! form and the keypad.

use hushpay_card::{Cvc, Expiry, Pan};
use hushpay_store::TenantId;
use hushpay_vault::connector::{AuthorizationRequest, AuthorizationResult, StoredCredential};
use hushpay_vault::payment::{Event, MaskedCard, Mode};

use super::authentication::Challenge;
use hushpay_vault::{Actor, TokenMetadata};

use super::{Loaded, PaymentError, PaymentService};

/// A card ready for the vault. Dropping it zeroizes everything.
#[derive(Debug)]
pub struct CardInput {
    pub pan: Pan,
    pub expiry: Expiry,
    pub cvc: Option<Cvc>,
}

fn masked(meta: &TokenMetadata) -> MaskedCard {
    MaskedCard {
        token: meta.id.clone(),
        brand: meta.brand.clone(),
        last4: meta.last4.clone(),
        exp_month: meta.exp_month,
        exp_year: meta.exp_year,
    }
}

impl PaymentService {
    /// Tokenizes and (for `charge`) authorizes a payment in `authorizing`, then records the
    /// outcome. A vault failure fails the payment (`internal-error`) and is returned.
    pub(super) async fn finish(
        &self,
        actor: &Actor,
        loaded: Loaded,
        card: CardInput,
    ) -> Result<Loaded, PaymentError> {
        let tenant = TenantId::new(loaded.payment.tenant.as_str());
        let outcome = self
            .tokenize_and_authorize(actor, &tenant, &loaded, card)
            .await;
        let (event, challenge) = match &outcome {
            Ok((event, challenge)) => (event.clone(), challenge.clone()),
            Err(_) => (
                Event::Declined {
                    card: None,
                    error: "internal-error".into(),
                },
                None,
            ),
        };
        let done = self.transition(actor, &loaded, event).await?;
        if let Some(challenge) = challenge {
            self.challenges.hold(&done.payment.id, challenge);
        }
        outcome.map(|_| done)
    }

    async fn tokenize_and_authorize(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        loaded: &Loaded,
        card: CardInput,
    ) -> Result<(Event, Option<Challenge>), PaymentError> {
        let CardInput { pan, expiry, cvc } = card;
        let vault = &self.vault.vault;
        let meta = vault
            .tokenize(actor, tenant, &pan, &expiry, cvc, None)
            .await?;
        // `token.created` committed with the token (the vault announces every token).
        drop(pan);
        let card = masked(&meta);
        let p = &loaded.payment;
        if p.mode == Mode::Tokenize {
            return Ok((
                Event::Approved {
                    card,
                    authorization_code: None,
                },
                None,
            ));
        }
        let opened = vault
            .open_for_connector(actor, tenant, &meta.id, self.connector.name())
            .await?;
        let result = self
            .connector
            .authorize(&AuthorizationRequest {
                card: &opened,
                amount_minor: p.amount,
                currency: &p.currency,
                reference: &p.reference,
                capture: p.mode == Mode::Charge,
                stored_credential: StoredCredential::None,
            })
            .await;
        drop(opened);
        Ok(match result {
            AuthorizationResult::ChallengeRequired { challenge, url }
                if p.method.uses_client_secret() =>
            {
                (
                    Event::ChallengeRequired { card },
                    Some(Challenge { id: challenge, url }),
                )
            }
            // A keyed payment (phone) has no page to show a challenge on.
            AuthorizationResult::ChallengeRequired { .. } => (
                Event::Declined {
                    card: Some(card),
                    error: "authentication-required".into(),
                },
                None,
            ),
            other => (authorization_event(card, other), None),
        })
    }
}

/// The payment event for a connector's final answer.
pub(super) fn authorization_event(card: MaskedCard, result: AuthorizationResult) -> Event {
    match result {
        AuthorizationResult::Approved { authorization_code } => Event::Approved {
            card,
            authorization_code: Some(authorization_code),
        },
        AuthorizationResult::Declined { reason } => Event::Declined {
            card: Some(card),
            error: reason.as_str().to_owned(),
        },
        // A challenge answered to a challenge is no answer.
        AuthorizationResult::ChallengeRequired { .. } => Event::Declined {
            card: Some(card),
            error: "processing-error".into(),
        },
    }
}
