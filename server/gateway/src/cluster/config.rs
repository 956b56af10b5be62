//! `[cluster]`: absent, the gateway is a single node (today's embedded default); present,
//! it is one node of a cluster sharing one PostgreSQL store and one NATS server.

use std::time::Duration;

use serde::Deserialize;

use crate::config_error::ConfigError;

/// The `[cluster]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCluster {
    /// This node's name, unique in the cluster: 1-64 of `A-Z a-z 0-9 - _`.
    pub node_id: Option<String>,
    /// The URL browsers reach this node's signalling at (joins redirected here use it);
    /// defaults to `server.public_url`.
    pub public_url: Option<String>,
    /// `nats://host:port` of the cluster's NATS server (JetStream on).
    pub nats_url: Option<String>,
    /// Prefix of the cluster's NATS subjects and key-value buckets, so several clusters (or
    /// tests) can share one NATS server. Default `hushpay`.
    pub name: Option<String>,
    /// A node unheard of for this long is dead: its rooms may be placed again and its open
    /// payments fail `node_lost`. Default 6 s; it renews every third of that.
    pub node_lease_secs: Option<u64>,
    /// How long a node waits for another node's answer on the bus. Default 2000 ms.
    pub request_timeout_ms: Option<u64>,
}

/// The validated cluster settings.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub node_id: String,
    pub public_url: String,
    /// `public_url` was written (else it follows `server.public_url`, and the address bound).
    pub public_url_configured: bool,
    pub nats_url: String,
    pub name: String,
    pub node_lease: Duration,
    pub request_timeout: Duration,
}

/// True for a cluster name or node id: 1-64 of `A-Z a-z 0-9 - _` (a NATS subject token and
/// a key-value key alike).
pub fn valid_token(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl RawCluster {
    /// `None` when the section is absent (single node). `server_public_url` is the default
    /// of `public_url`.
    pub fn validate(self, server_public_url: &str) -> Result<Option<ClusterConfig>, ConfigError> {
        let any = self.node_id.is_some()
            || self.nats_url.is_some()
            || self.public_url.is_some()
            || self.name.is_some()
            || self.node_lease_secs.is_some()
            || self.request_timeout_ms.is_some();
        if !any {
            return Ok(None);
        }
        let node_id = self.node_id.ok_or(ConfigError::Invalid {
            key: "cluster.node_id",
            reason: "a cluster node needs a node_id".into(),
        })?;
        if !valid_token(&node_id) {
            return Err(ConfigError::Invalid {
                key: "cluster.node_id",
                reason: "1-64 characters of A-Z a-z 0-9 - _".into(),
            });
        }
        let nats_url = self.nats_url.ok_or(ConfigError::Invalid {
            key: "cluster.nats_url",
            reason: "a cluster node needs the NATS server's URL".into(),
        })?;
        if !(nats_url.starts_with("nats://") || nats_url.starts_with("tls://")) {
            return Err(ConfigError::Invalid {
                key: "cluster.nats_url",
                reason: "must start with nats:// or tls://".into(),
            });
        }
        let public_url_configured = self.public_url.is_some();
        let public_url = self
            .public_url
            .unwrap_or_else(|| server_public_url.to_owned());
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "cluster.public_url",
                reason: "must start with http:// or https://".into(),
            });
        }
        let name = self.name.unwrap_or_else(|| "hushpay".to_owned());
        if !valid_token(&name) {
            return Err(ConfigError::Invalid {
                key: "cluster.name",
                reason: "1-64 characters of A-Z a-z 0-9 - _".into(),
            });
        }
        let lease = self.node_lease_secs.unwrap_or(6);
        if !(2..=300).contains(&lease) {
            return Err(ConfigError::Invalid {
                key: "cluster.node_lease_secs",
                reason: "between 2 and 300".into(),
            });
        }
        let timeout = self.request_timeout_ms.unwrap_or(2000);
        if !(50..=30_000).contains(&timeout) {
            return Err(ConfigError::Invalid {
                key: "cluster.request_timeout_ms",
                reason: "between 50 and 30000".into(),
            });
        }
        Ok(Some(ClusterConfig {
            node_id,
            public_url: public_url.trim_end_matches('/').to_owned(),
            public_url_configured,
            nats_url,
            name,
            node_lease: Duration::from_secs(lease),
            request_timeout: Duration::from_millis(timeout),
        }))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn raw(node: &str, nats: &str) -> RawCluster {
        RawCluster {
            node_id: Some(node.into()),
            nats_url: Some(nats.into()),
            ..RawCluster::default()
        }
    }

    #[test]
    fn absent_is_a_single_node() {
        assert!(
            RawCluster::default()
                .validate("http://a")
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_node_takes_defaults_from_the_server() {
        let c = raw("node-1", "nats://127.0.0.1:4222")
            .validate("https://gw.example/")
            .unwrap()
            .unwrap();
        assert_eq!(c.public_url, "https://gw.example");
        assert_eq!(c.name, "hushpay");
        assert_eq!(c.node_lease, Duration::from_secs(6));
    }

    #[test]
    fn bad_settings_are_refused_by_name() {
        let key = |r: RawCluster| match r.validate("http://a") {
            Err(ConfigError::Invalid { key, .. }) => key,
            other => panic!("{other:?}"),
        };
        assert_eq!(key(raw("a.b", "nats://x")), "cluster.node_id");
        assert_eq!(key(raw("a>", "nats://x")), "cluster.node_id");
        assert_eq!(key(raw("a", "http://x")), "cluster.nats_url");
        let mut no_id = raw("a", "nats://x");
        no_id.node_id = None;
        assert_eq!(key(no_id), "cluster.node_id");
        let mut lease = raw("a", "nats://x");
        lease.node_lease_secs = Some(1);
        assert_eq!(key(lease), "cluster.node_lease_secs");
        let mut name = raw("a", "nats://x");
        name.name = Some("a*".into());
        assert_eq!(key(name), "cluster.name");
    }
}
