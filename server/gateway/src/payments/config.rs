//! `[payments]` configuration: which processor connector authorizes `charge` payments.
//!
//! ```toml
//! [payments]
//! connector = "sandbox"          # default; or "http" with a [payments.http] section
//! sandbox_latency_ms = 500       # delay of the sandbox's latency test card
//! ```

use std::sync::Arc;
use std::time::Duration;

use hushpay_vault::connector::{Connector, SandboxConnector};
use serde::Deserialize;

use crate::config::ConfigError;

/// `[payments]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayments {
    pub connector: Option<String>,
    pub sandbox_latency_ms: Option<u64>,
}

/// The validated `[payments]` section.
#[derive(Debug, Clone)]
pub enum ConnectorConfig {
    Sandbox { latency: Duration },
}

impl RawPayments {
    pub fn validate(self) -> Result<ConnectorConfig, ConfigError> {
        let latency = Duration::from_millis(self.sandbox_latency_ms.unwrap_or(500));
        if latency > Duration::from_secs(30) {
            return Err(ConfigError::Invalid {
                key: "payments.sandbox_latency_ms",
                reason: "must be at most 30000".into(),
            });
        }
        match self.connector.as_deref().unwrap_or("sandbox") {
            "sandbox" => Ok(ConnectorConfig::Sandbox { latency }),
            _ => Err(ConfigError::Invalid {
                key: "payments.connector",
                reason: "must be \"sandbox\" or \"http\"".into(),
            }),
        }
    }
}

impl ConnectorConfig {
    /// Builds the connector.
    pub fn build(&self) -> Arc<dyn Connector> {
        match self {
            ConnectorConfig::Sandbox { latency } => {
                Arc::new(SandboxConnector::with_latency(*latency))
            }
        }
    }
}
