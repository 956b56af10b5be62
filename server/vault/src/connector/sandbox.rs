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
//!
//! Any other valid card is approved. A CVC of `000` is declined as `invalid-security-code`.
//!
//! Captures, voids and refunds succeed, except for these test amounts (minor units):
//!
//! | Operation | Amount | Result |
//! |-----------|--------|--------|
//! | capture   | 9101 (the amount captured) | `processing-error` |
//! | void      | 9102 (the authorized amount) | `processing-error` |
//! | refund    | 9103 (the amount refunded) | `processing-error` |
//! | refund    | 9104 | succeeds after the configured latency |

use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;

use super::{
    AuthorizationRequest, AuthorizationResult, Connector, DeclineReason, OperationRequest,
    OperationResult,
};

/// The documented test cards and what they do.
pub const TEST_CARDS: &[(&str, &str)] = &[
    ("4242424242424242", "approved"),
    ("4000000000000002", "card-declined"),
    ("4000000000009995", "insufficient-funds"),
    ("4000000000000127", "invalid-security-code"),
    ("4000000000000119", "processing-error"),
    ("4000000000000077", "approved-after-latency"),
];

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
}

impl Default for SandboxConnector {
    fn default() -> Self {
        SandboxConnector {
            latency: Duration::from_millis(500),
        }
    }
}

impl SandboxConnector {
    /// A sandbox whose latency card waits `latency`.
    pub fn with_latency(latency: Duration) -> SandboxConnector {
        SandboxConnector { latency }
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
            _ => {}
        }
        let code: u32 = rand::rngs::OsRng.gen_range(0..1_000_000);
        AuthorizationResult::Approved {
            authorization_code: format!("SBX{code:06}"),
        }
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
