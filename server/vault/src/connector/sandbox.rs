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

use std::time::Duration;

use async_trait::async_trait;
use rand::Rng;

use super::{AuthorizationRequest, AuthorizationResult, Connector, DeclineReason};

/// The documented test cards and what they do.
pub const TEST_CARDS: &[(&str, &str)] = &[
    ("4242424242424242", "approved"),
    ("4000000000000002", "card-declined"),
    ("4000000000009995", "insufficient-funds"),
    ("4000000000000127", "invalid-security-code"),
    ("4000000000000119", "processing-error"),
    ("4000000000000077", "approved-after-latency"),
];

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
}
