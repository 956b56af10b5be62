//! Capture and void of an `authorize`-mode payment (issue 17, point 2): the pure funds
//! machine ([`hushpay_vault::payment::FundsEvent`]) around the connector's call.
//!
//! Each operation is two persisted changes: `authorized` → `capturing` (or `voiding`),
//! audited and stored before the connector hears of it, so a concurrent second operation
//! finds the payment changed (`payment_busy`) or in the wrong state (`invalid_state`) and
//! never reaches the connector; then the connector's answer: `captured` (`payment.captured`)
//! or `voided` (`payment.voided`), or back to `authorized` with the refusal returned. Every
//! step has its audit entry (`payment.capture-funds`, `payment.funds-captured`,
//! `payment.capture-declined`, `payment.void`, `payment.voided`, `payment.void-declined`).

use hushpay_vault::Actor;
use hushpay_vault::connector::{OperationRequest, OperationResult};
use hushpay_vault::payment::{FundsEvent, Payment, State};

use super::{Loaded, PaymentError, PaymentService};

/// The connector's view of an authorization for an operation of `amount`.
pub(super) fn operation<'a>(
    p: &'a Payment,
    amount: u64,
    refund: Option<&'a str>,
) -> OperationRequest<'a> {
    OperationRequest {
        payment: &p.id,
        authorization_code: p.authorization_code.as_deref().unwrap_or_default(),
        amount_minor: amount,
        currency: &p.currency,
        reference: &p.reference,
        refund,
    }
}

impl PaymentService {
    /// Applies a funds event: audited, persisted with its webhook event, broadcast.
    pub async fn transition_funds(
        &self,
        actor: &Actor,
        loaded: &Loaded,
        event: FundsEvent,
    ) -> Result<Loaded, PaymentError> {
        let now = hushpay_vault::unix_now();
        let name = event.name();
        let next = loaded.payment.apply_funds(event, now)?;
        self.persist(actor, loaded, name, next, now).await
    }

    /// Captures `amount` (absent: the whole authorization) of an `authorized` payment, once.
    /// `OperationDeclined` when the connector refuses (the payment is `authorized` again).
    pub async fn capture_funds(
        &self,
        actor: &Actor,
        loaded: &Loaded,
        amount: Option<u64>,
    ) -> Result<Loaded, PaymentError> {
        let p = &loaded.payment;
        if p.state != State::Authorized {
            // The state first: a captured payment's second capture is `invalid_state`
            // whatever amount it names.
            p.apply_funds(FundsEvent::CaptureFunds { amount: 1 }, 0)?;
        }
        let amount = p.capture_amount(amount)?;
        let capturing = self
            .transition_funds(actor, loaded, FundsEvent::CaptureFunds { amount })
            .await?;
        let result = self
            .connector
            .capture(&operation(&capturing.payment, amount, None))
            .await;
        match result {
            OperationResult::Succeeded => {
                self.transition_funds(actor, &capturing, FundsEvent::FundsCaptured)
                    .await
            }
            OperationResult::Failed { reason } => {
                self.transition_funds(actor, &capturing, FundsEvent::CaptureDeclined)
                    .await?;
                Err(PaymentError::OperationDeclined {
                    operation: "capture",
                    reason: reason.as_str(),
                })
            }
        }
    }

    /// Releases an `authorized` payment's authorization. `OperationDeclined` when the
    /// connector refuses (the payment is `authorized` again).
    pub async fn void(&self, actor: &Actor, loaded: &Loaded) -> Result<Loaded, PaymentError> {
        let voiding = self
            .transition_funds(actor, loaded, FundsEvent::Void)
            .await?;
        let p = &voiding.payment;
        let result = self.connector.void(&operation(p, p.amount, None)).await;
        match result {
            OperationResult::Succeeded => {
                self.transition_funds(actor, &voiding, FundsEvent::Voided)
                    .await
            }
            OperationResult::Failed { reason } => {
                self.transition_funds(actor, &voiding, FundsEvent::VoidDeclined)
                    .await?;
                Err(PaymentError::OperationDeclined {
                    operation: "void",
                    reason: reason.as_str(),
                })
            }
        }
    }
}
