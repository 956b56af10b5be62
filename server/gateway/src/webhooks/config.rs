//! `[webhooks]` configuration.
//!
//! ```toml
//! [webhooks]
//! max_attempts = 8            # deliveries per event and endpoint before giving up
//! retry_base_secs = 10        # first retry after ~10 s, then doubling (with jitter), capped at 1 h
//! poll_interval_ms = 1000     # how often the delivery worker looks for due deliveries
//! request_timeout_secs = 10
//! danger_allow_private_webhook_targets = false   # development only: loopback/private/link-local, http://
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;

/// `[webhooks]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    pub max_attempts: Option<u32>,
    pub retry_base_secs: Option<u64>,
    pub poll_interval_ms: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub danger_allow_private_webhook_targets: Option<bool>,
}

/// The validated `[webhooks]` section.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub poll_interval: Duration,
    pub request_timeout: Duration,
    pub danger_allow_private_webhook_targets: bool,
}

fn invalid(key: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

impl RawWebhooks {
    pub fn validate(self) -> Result<WebhookConfig, ConfigError> {
        let max_attempts = self.max_attempts.unwrap_or(8);
        if !(1..=20).contains(&max_attempts) {
            return Err(invalid("webhooks.max_attempts", "must be 1 to 20"));
        }
        let retry_base = self.retry_base_secs.unwrap_or(10);
        if !(1..=3600).contains(&retry_base) {
            return Err(invalid("webhooks.retry_base_secs", "must be 1 to 3600"));
        }
        let poll = self.poll_interval_ms.unwrap_or(1000);
        if !(10..=60_000).contains(&poll) {
            return Err(invalid("webhooks.poll_interval_ms", "must be 10 to 60000"));
        }
        let timeout = self.request_timeout_secs.unwrap_or(10);
        if !(1..=60).contains(&timeout) {
            return Err(invalid("webhooks.request_timeout_secs", "must be 1 to 60"));
        }
        Ok(WebhookConfig {
            max_attempts,
            retry_base: Duration::from_secs(retry_base),
            poll_interval: Duration::from_millis(poll),
            request_timeout: Duration::from_secs(timeout),
            danger_allow_private_webhook_targets: self
                .danger_allow_private_webhook_targets
                .unwrap_or(false),
        })
    }
}
