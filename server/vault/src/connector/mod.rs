//! Processor connectors: where a decrypted card goes, and the only place it goes.
//!
//! The trait lives here (pure domain); implementations that do I/O (the `http` relay) live in
//! the gateway, which owns the HTTP client. The vault hands a connector an
//! [`crate::OpenedCard`] and gets back an [`AuthorizationResult`] without card data.

mod sandbox;

pub use sandbox::{
    IssuerAnswer, IssuerError, SandboxConnector, SandboxIssuer, TEST_AMOUNTS, TEST_CARDS,
};

use async_trait::async_trait;
use serde::Serialize;

use crate::OpenedCard;

/// An authorization request.
#[derive(Debug)]
pub struct AuthorizationRequest<'a> {
    pub card: &'a OpenedCard,
    /// Amount in minor units (cents).
    pub amount_minor: u64,
    /// ISO 4217, upper case.
    pub currency: &'a str,
    /// The tenant's reference for the payment.
    pub reference: &'a str,
    /// True to capture with the authorization (`charge`); false to leave it to be captured
    /// or voided later (`authorize`).
    pub capture: bool,
    /// The stored-credential indicators card networks require (saved cards, issue 17).
    pub stored_credential: StoredCredential,
}

/// Whether a card is, or is becoming, a stored credential, and who initiated the payment:
/// what card networks require processors to be told (the CVC is never stored, so subsequent
/// charges go without one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoredCredential {
    /// A one-off payment: the card is not stored for later (customer-initiated).
    None,
    /// The first, customer-initiated payment of a card the patient agreed to save.
    Initial,
    /// A later, merchant-initiated charge of a saved card (unscheduled or a payment plan).
    Subsequent,
}

impl StoredCredential {
    /// `none`, `initial` or `subsequent` (the relay's `{{stored_credential}}`).
    pub fn as_str(self) -> &'static str {
        match self {
            StoredCredential::None => "none",
            StoredCredential::Initial => "initial",
            StoredCredential::Subsequent => "subsequent",
        }
    }

    /// `customer` for one-off and initial payments, `merchant` for subsequent charges (the
    /// relay's `{{initiator}}`).
    pub fn initiator(self) -> &'static str {
        match self {
            StoredCredential::Subsequent => "merchant",
            StoredCredential::None | StoredCredential::Initial => "customer",
        }
    }
}

/// What a capture, void or refund is about: an authorization the connector approved. No
/// card data: the processor knows the card by its authorization.
#[derive(Debug, Clone, Copy)]
pub struct OperationRequest<'a> {
    /// The payment (`pay_...`).
    pub payment: &'a str,
    /// The code the connector gave the authorization.
    pub authorization_code: &'a str,
    /// Capture: the amount to capture; void: the authorized amount; refund: the amount to
    /// refund. Minor units.
    pub amount_minor: u64,
    pub currency: &'a str,
    pub reference: &'a str,
    /// The refund (`re_...`), for a refund: the processor's idempotency key for it.
    pub refund: Option<&'a str>,
}

/// What the processor said to a capture, void or refund.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum OperationResult {
    Succeeded,
    Failed { reason: DeclineReason },
}

/// What the processor said. Carries no card data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum AuthorizationResult {
    Approved {
        authorization_code: String,
    },
    Declined {
        reason: DeclineReason,
    },
    /// 3-D Secure: the issuer wants the cardholder to authenticate on its challenge page
    /// before it answers; [`Connector::complete_authentication`] resumes the authorization
    /// once they did.
    ChallengeRequired {
        /// The connector's id for the challenge (what `complete_authentication` is given).
        challenge: String,
        /// Where the issuer's challenge page lives: an absolute `https://` URL, or a path on
        /// the gateway's own origin (the sandbox's `/sandbox/3ds/{challenge}`).
        url: String,
    },
}

/// A 3-D Secure challenge to resume: no card data, the connector knows the card by it.
#[derive(Debug, Clone, Copy)]
pub struct AuthenticationRequest<'a> {
    /// The payment (`pay_...`).
    pub payment: &'a str,
    /// The challenge id from [`AuthorizationResult::ChallengeRequired`].
    pub challenge: &'a str,
    pub amount_minor: u64,
    pub currency: &'a str,
    pub reference: &'a str,
    pub capture: bool,
}

/// What the connector said when asked to resume an authorization after a challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticationOutcome {
    /// The issuer answered: approved, or declined (`authentication-failed` when the
    /// cardholder failed the challenge).
    Done(AuthorizationResult),
    /// The cardholder has not finished the challenge yet: ask again later.
    Pending,
}

/// Why a payment was declined (names after Twilio `<Pay>` error types where they exist).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeclineReason {
    CardDeclined,
    InsufficientFunds,
    InvalidSecurityCode,
    ProcessingError,
    /// The cardholder failed (or abandoned) the issuer's 3-D Secure challenge.
    AuthenticationFailed,
}

impl DeclineReason {
    /// The stable name used in API responses and webhooks.
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::CardDeclined => "card-declined",
            DeclineReason::InsufficientFunds => "insufficient-funds",
            DeclineReason::InvalidSecurityCode => "invalid-security-code",
            DeclineReason::ProcessingError => "processing-error",
            DeclineReason::AuthenticationFailed => "authentication-failed",
        }
    }
}

/// A processor connector.
#[async_trait]
pub trait Connector: Send + Sync + std::fmt::Debug {
    /// The connector's configured name (`sandbox`, `http:<name>`), for the audit log.
    fn name(&self) -> &str;
    /// Authorizes a payment. Transport failures are `Declined { ProcessingError }`.
    async fn authorize(&self, request: &AuthorizationRequest<'_>) -> AuthorizationResult;
    /// Captures `amount_minor` of an authorization. Transport failures are
    /// `Failed { ProcessingError }`.
    async fn capture(&self, request: &OperationRequest<'_>) -> OperationResult;
    /// Releases an authorization.
    async fn void(&self, request: &OperationRequest<'_>) -> OperationResult;
    /// Refunds `amount_minor` of a captured (or charged) authorization.
    async fn refund(&self, request: &OperationRequest<'_>) -> OperationResult;
    /// Resumes an authorization that answered [`AuthorizationResult::ChallengeRequired`].
    /// A connector that never asks for a challenge keeps this default.
    async fn complete_authentication(
        &self,
        _request: &AuthenticationRequest<'_>,
    ) -> AuthenticationOutcome {
        AuthenticationOutcome::Done(AuthorizationResult::Declined {
            reason: DeclineReason::ProcessingError,
        })
    }
    /// The sandbox's issuer (its challenge pages answer to it); `None` for real connectors.
    fn sandbox_issuer(&self) -> Option<&SandboxIssuer> {
        None
    }
}
