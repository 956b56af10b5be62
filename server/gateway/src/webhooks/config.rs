//! `[webhooks]` configuration.
//!
//! ```toml
//! [webhooks]
//! max_attempts = 8            # deliveries per event and endpoint before giving up
//! retry_base_secs = 10        # first retry after ~10 s, then doubling (with jitter), capped at 1 h
//! poll_interval_ms = 1000     # how often the delivery worker looks for due deliveries
//! request_timeout_secs = 10
//! dns_timeout_ms = 2000       # a target's name must resolve within this, apart from the request timeout
//! max_in_flight = 32          # deliveries in flight at once, all tenants together
//! max_in_flight_per_tenant = 4   # deliveries in flight at once for one tenant (fairness bound)
//! max_endpoints_per_tenant = 20  # live endpoints a tenant may register
//! circuit_breaker_failures = 5   # consecutive failed attempts that open an endpoint's circuit
//! circuit_breaker_cooldown_secs = 60   # an open circuit holds the endpoint's deliveries this long
//! danger_allow_private_webhook_targets = false   # development only: loopback/private/link-local, http://
//! ```

use std::time::Duration;

use serde::Deserialize;

use crate::config_error::ConfigError;

/// `[webhooks]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    pub max_attempts: Option<u32>,
    pub retry_base_secs: Option<u64>,
    pub poll_interval_ms: Option<u64>,
    pub request_timeout_secs: Option<u64>,
    pub dns_timeout_ms: Option<u64>,
    pub max_in_flight: Option<usize>,
    pub max_in_flight_per_tenant: Option<usize>,
    pub max_endpoints_per_tenant: Option<usize>,
    pub circuit_breaker_failures: Option<u32>,
    pub circuit_breaker_cooldown_secs: Option<u64>,
    pub danger_allow_private_webhook_targets: Option<bool>,
}

/// The validated `[webhooks]` section.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub max_attempts: u32,
    pub retry_base: Duration,
    pub poll_interval: Duration,
    pub request_timeout: Duration,
    pub dns_timeout: Duration,
    pub max_in_flight: usize,
    pub max_in_flight_per_tenant: usize,
    pub max_endpoints_per_tenant: usize,
    pub circuit_breaker_failures: u32,
    pub circuit_breaker_cooldown: Duration,
    pub danger_allow_private_webhook_targets: bool,
}

fn within<T: PartialOrd + Copy>(
    value: Option<T>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    key: &'static str,
    reason: &str,
) -> Result<T, ConfigError> {
    let v = value.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        Err(invalid(key, reason))
    }
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
        let dns_timeout = within(
            self.dns_timeout_ms,
            2000,
            10..=30_000,
            "webhooks.dns_timeout_ms",
            "must be 10 to 30000",
        )?;
        let max_in_flight = within(
            self.max_in_flight,
            32,
            1..=1024,
            "webhooks.max_in_flight",
            "must be 1 to 1024",
        )?;
        let max_in_flight_per_tenant = within(
            self.max_in_flight_per_tenant,
            4,
            1..=max_in_flight,
            "webhooks.max_in_flight_per_tenant",
            "must be 1 to webhooks.max_in_flight",
        )?;
        let max_endpoints_per_tenant = within(
            self.max_endpoints_per_tenant,
            20,
            1..=1000,
            "webhooks.max_endpoints_per_tenant",
            "must be 1 to 1000",
        )?;
        let circuit_breaker_failures = within(
            self.circuit_breaker_failures,
            5,
            1..=100,
            "webhooks.circuit_breaker_failures",
            "must be 1 to 100",
        )?;
        let cooldown = within(
            self.circuit_breaker_cooldown_secs,
            60,
            1..=86_400,
            "webhooks.circuit_breaker_cooldown_secs",
            "must be 1 to 86400",
        )?;
        Ok(WebhookConfig {
            max_attempts,
            retry_base: Duration::from_secs(retry_base),
            poll_interval: Duration::from_millis(poll),
            request_timeout: Duration::from_secs(timeout),
            dns_timeout: Duration::from_millis(dns_timeout),
            max_in_flight,
            max_in_flight_per_tenant,
            max_endpoints_per_tenant,
            circuit_breaker_failures,
            circuit_breaker_cooldown: Duration::from_secs(cooldown),
            danger_allow_private_webhook_targets: self
                .danger_allow_private_webhook_targets
                .unwrap_or(false),
        })
    }
}
