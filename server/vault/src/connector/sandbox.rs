//! `sandbox`: an in-process test acquirer. No network; results chosen by the card number.
//!
//! | Card number        | Result                                      |
//! |--------------------|---------------------------------------------|
//! | 4242 4242 4242 4242 | approved                                   |
//! | 4000 0000 0000 0002 | declined: `card-declined`                  |
//! | 4000 0000 0000 9995 | declined: `insufficient-funds`             |
//! | 4000 0000 0000 0127 | declined: `invalid-security-code`          |
//! | 4000 0000 0000 0119 | declined: `processing-error`               |
//! | 4000 0000 0000 0077 | approved after the configured latency      |
//! | 4000 0000 0000 3220 | 3-D Secure challenge; approved once the cardholder completes it, declined `authentication-failed` if they press "Fail" |
//! | 4000 0000 0000 3063 | 3-D Secure challenge that always fails: declined `authentication-failed` |
//! | 4000 0000 0000 3055 | 3-D Secure frictionless: approved without a challenge |
//!
//! Any other valid card is approved. A CVC of `000` is declined as `invalid-security-code`.
//!
//! The challenges are held by the sandbox's [`SandboxIssuer`] (in memory, one per gateway
//! process): its challenge page (served by the gateway at `/sandbox/3ds/{challenge}`) records
//! the cardholder's answer there, and `complete_authentication` reads it, once.
//!
//! Captures, voids and refunds succeed, except for these test amounts (minor units):
//!
//! | Operation | Amount | Result |
//! |-----------|--------|--------|
//! | capture   | 9101 (the amount captured) | `processing-error` |
//! | void      | 9102 (the authorized amount) | `processing-error` |
//! | refund    | 9103 (the amount refunded) | `processing-error` |
//! | refund    | 9104 | succeeds after the configured latency |

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;

use super::{
    AuthenticationOutcome, AuthenticationRequest, AuthorizationRequest, AuthorizationResult,
    Connector, DeclineReason, OperationRequest, OperationResult,
};

/// The documented test cards and what they do.
pub const TEST_CARDS: &[(&str, &str)] = &[
    ("4242424242424242", "approved"),
    ("4000000000000002", "card-declined"),
    ("4000000000009995", "insufficient-funds"),
    ("4000000000000127", "invalid-security-code"),
    ("4000000000000119", "processing-error"),
    ("4000000000000077", "approved-after-latency"),
    ("4000000000003220", "challenge"),
    ("4000000000003063", "challenge-fails"),
    ("4000000000003055", "frictionless"),
];

/// What the cardholder did on the sandbox's challenge page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerAnswer {
    Completed,
    Failed,
}

#[derive(Debug)]
struct PendingChallenge {
    payment: String,
    /// The 3063 card: the challenge fails whatever the cardholder does.
    always_fails: bool,
    answer: Option<IssuerAnswer>,
}

/// The sandbox's issuer: the 3-D Secure challenges it is waiting on, by challenge id. Ids are
/// random (`3ds_` + 24 base62); a challenge is gone once its authorization resumed.
#[derive(Debug, Clone, Default)]
pub struct SandboxIssuer {
    pending: Arc<Mutex<HashMap<String, PendingChallenge>>>,
}

/// Why the challenge page's answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    #[error("no such challenge")]
    UnknownChallenge,
    #[error("the challenge was already answered")]
    AlreadyAnswered,
}

impl SandboxIssuer {
    fn open(&self, payment: &str, always_fails: bool) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut rng = rand::rngs::OsRng;
        let tail: String = (0..24)
            .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
            .collect();
        let id = format!("3ds_{tail}");
        let challenge = PendingChallenge {
            payment: payment.to_owned(),
            always_fails,
            answer: None,
        };
        self.lock().insert(id.clone(), challenge);
        id
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, PendingChallenge>> {
        // A poisoned map still holds valid entries (no invariant spans an insert).
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// True while `challenge` waits for the cardholder.
    pub fn is_waiting(&self, challenge: &str) -> bool {
        self.lock()
            .get(challenge)
            .is_some_and(|c| c.answer.is_none())
    }

    /// Records the cardholder's answer on the challenge page; once only.
    pub fn answer(&self, challenge: &str, answer: IssuerAnswer) -> Result<(), IssuerError> {
        let mut pending = self.lock();
        let c = pending
            .get_mut(challenge)
            .ok_or(IssuerError::UnknownChallenge)?;
        if c.answer.is_some() {
            return Err(IssuerError::AlreadyAnswered);
        }
        c.answer = Some(answer);
        Ok(())
    }

    fn resume(&self, payment: &str, challenge: &str) -> AuthenticationOutcome {
        let mut pending = self.lock();
        let Some(c) = pending.get(challenge).filter(|c| c.payment == payment) else {
            return AuthenticationOutcome::Done(AuthorizationResult::Declined {
                reason: DeclineReason::AuthenticationFailed,
            });
        };
        let Some(answer) = c.answer else {
            return AuthenticationOutcome::Pending;
        };
        let fails = c.always_fails || answer == IssuerAnswer::Failed;
        pending.remove(challenge);
        AuthenticationOutcome::Done(if fails {
            AuthorizationResult::Declined {
                reason: DeclineReason::AuthenticationFailed,
            }
        } else {
            approved()
        })
    }
}

fn approved() -> AuthorizationResult {
    let code: u32 = rand::rngs::OsRng.gen_range(0..1_000_000);
    AuthorizationResult::Approved {
        authorization_code: format!("SBX{code:06}"),
    }
}

/// The documented operation amounts and what they do.
pub const TEST_AMOUNTS: &[(&str, u64, &str)] = &[
    ("capture", 9101, "processing-error"),
    ("void", 9102, "processing-error"),
    ("refund", 9103, "processing-error"),
    ("refund", 9104, "succeeded-after-latency"),
];

fn operation(kind: &str, amount: u64) -> OperationResult {
    let fails = TEST_AMOUNTS
        .iter()
        .any(|(k, a, r)| *k == kind && *a == amount && *r == "processing-error");
    if fails {
        OperationResult::Failed {
            reason: DeclineReason::ProcessingError,
        }
    } else {
        OperationResult::Succeeded
    }
}

/// The sandbox acquirer.
#[derive(Debug, Clone)]
pub struct SandboxConnector {
    latency: Duration,
    issuer: SandboxIssuer,
}

impl Default for SandboxConnector {
    fn default() -> Self {
        SandboxConnector::with_latency(Duration::from_millis(500))
    }
}

impl SandboxConnector {
    /// A sandbox whose latency card waits `latency`.
    pub fn with_latency(latency: Duration) -> SandboxConnector {
        SandboxConnector {
            latency,
            issuer: SandboxIssuer::default(),
        }
    }
}

#[async_trait]
impl Connector for SandboxConnector {
    fn name(&self) -> &str {
        "sandbox"
    }

    async fn authorize(&self, request: &AuthorizationRequest<'_>) -> AuthorizationResult {
        let digits = request.card.pan.expose_digits();
        let decline = |reason| AuthorizationResult::Declined { reason };
        if request
            .card
            .cvc
            .as_ref()
            .is_some_and(|c| c.expose_digits() == "000")
        {
            return decline(DeclineReason::InvalidSecurityCode);
        }
        match digits {
            "4000000000000002" => return decline(DeclineReason::CardDeclined),
            "4000000000009995" => return decline(DeclineReason::InsufficientFunds),
            "4000000000000127" => return decline(DeclineReason::InvalidSecurityCode),
            "4000000000000119" => return decline(DeclineReason::ProcessingError),
            "4000000000000077" => tokio::time::sleep(self.latency).await,
            "4000000000003220" | "4000000000003063" => {
                let challenge = self
                    .issuer
                    .open(request.reference, digits == "4000000000003063");
                let url = format!("/sandbox/3ds/{challenge}");
                return AuthorizationResult::ChallengeRequired { challenge, url };
            }
            _ => {}
        }
        approved()
    }

    async fn complete_authentication(
        &self,
        request: &AuthenticationRequest<'_>,
    ) -> AuthenticationOutcome {
        self.issuer.resume(request.reference, request.challenge)
    }

    fn sandbox_issuer(&self) -> Option<&SandboxIssuer> {
        Some(&self.issuer)
    }

    async fn capture(&self, request: &OperationRequest<'_>) -> OperationResult {
        operation("capture", request.amount_minor)
    }

    async fn void(&self, request: &OperationRequest<'_>) -> OperationResult {
        operation("void", request.amount_minor)
    }

    async fn refund(&self, request: &OperationRequest<'_>) -> OperationResult {
        if request.amount_minor == 9104 {
            tokio::time::sleep(self.latency).await;
        }
        operation("refund", request.amount_minor)
    }
}
