//! `[payments]` configuration: which processor connector authorizes `charge` payments.
//!
//! ```toml
//! [payments]
//! connector = "sandbox"          # default; or "http" with a [payments.http] section
//! sandbox_latency_ms = 500       # delay of the sandbox's latency test card
//!
//! [payments.http]                # the generic relay (see `http_connector`)
//! url = "https://processor.example/v1/authorize"
//! allowed_hosts = ["processor.example"]
//! body_template = '{"number":"{{card.number}}","exp":"{{card.exp_month}}/{{card.exp_year}}","cvc":"{{card.cvc}}","amount":{{amount}},"currency":"{{currency}}"}'
//! headers = { authorization = "Bearer sk_..." }
//! approved_pointer = "/status"
//! approved_values = ["approved"]
//! authorization_code_pointer = "/authorization_code"
//! decline_code_pointer = "/decline_code"
//! # ca_file = "/etc/hushpay/processor-ca.pem"
//! ```

use std::sync::Arc;
use std::time::Duration;

use hushpay_vault::connector::{Connector, SandboxConnector};
use serde::Deserialize;

use super::http_connector::{HttpConnector, RawHttpConnector};
use crate::config_error::ConfigError;

/// `[payments]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayments {
    pub connector: Option<String>,
    pub sandbox_latency_ms: Option<u64>,
    pub http: Option<RawHttpConnector>,
}

/// The validated `[payments]` section.
#[derive(Debug, Clone)]
pub enum ConnectorConfig {
    Sandbox { latency: Duration },
    Http(Arc<HttpConnector>),
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
            "http" => {
                let raw = self.http.ok_or_else(|| ConfigError::Invalid {
                    key: "payments.http",
                    reason: "connector = \"http\" needs a [payments.http] section".into(),
                })?;
                let connector = HttpConnector::new(raw).map_err(|e| ConfigError::Invalid {
                    key: "payments.http",
                    reason: e.to_string(),
                })?;
                Ok(ConnectorConfig::Http(Arc::new(connector)))
            }
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
            ConnectorConfig::Http(c) => Arc::clone(c) as Arc<dyn Connector>,
        }
    }
}
