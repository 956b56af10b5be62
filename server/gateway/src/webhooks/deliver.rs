//! One webhook delivery over HTTP(S), through one shared client.
//!
//! The stored URL is checked again at every attempt with
//! [`hushpay_vault::webhook::check_url_with`] (one parse, the parser reqwest uses) and the
//! parsed URL, not the text, is what the client gets. IP literals were checked by that call
//! and are connected to directly; names go through [`CheckedResolver`], which resolves within
//! `dns_timeout`, refuses the name if any address is internal
//! ([`hushpay_vault::webhook::check_addrs`]) and hands the client only the addresses it
//! checked, so the addresses checked are the addresses connected to (no second lookup, no
//! DNS rebinding window). No proxy from the environment, no redirects.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hushpay_vault::webhook::{WebhookUrlError, check_addrs, check_url_with};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::config::WebhookConfig;

/// A request to send.
#[derive(Debug)]
pub struct Delivery<'a> {
    pub url: &'a str,
    pub webhook_id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
    /// `application/json`, or `application/fhir+json` for a FHIR resource.
    pub content_type: &'a str,
    pub body: &'a str,
}

/// Why a delivery did not get an answer. Messages name no body content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliverError {
    #[error("target refused: {0}")]
    Refused(String),
    #[error("transport: {0}")]
    Transport(String),
}

/// Name resolution for webhook targets (the system resolver in production; tests inject
/// their own to make a name resolve to loopback without a network).
#[async_trait]
pub trait HostLookup: Send + Sync + fmt::Debug {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>>;
}

/// The operating system's resolver (`getaddrinfo` on a blocking thread).
#[derive(Debug, Default)]
pub struct SystemLookup;

#[async_trait]
impl HostLookup for SystemLookup {
    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        Ok(tokio::net::lookup_host((host, 0))
            .await?
            .map(|a| a.ip())
            .collect())
    }
}

/// Why [`CheckedResolver`] gave the client no address; found again in the client's error
/// chain to tell a refused target from a transport problem.
#[derive(Debug, thiserror::Error)]
enum ResolveFailure {
    #[error("{0}")]
    Target(WebhookUrlError),
    #[error("DNS lookup timed out")]
    Timeout,
    #[error("cannot resolve the host")]
    Lookup,
}

/// The client's resolver: resolves within the timeout and returns only checked addresses.
#[derive(Debug)]
struct CheckedResolver {
    lookup: Arc<dyn HostLookup>,
    timeout: Duration,
    allow_private: bool,
}

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let (lookup, timeout, allow_private) =
            (Arc::clone(&self.lookup), self.timeout, self.allow_private);
        Box::pin(async move {
            let ips = tokio::time::timeout(timeout, lookup.lookup(name.as_str()))
                .await
                .map_err(|_| ResolveFailure::Timeout)?
                .map_err(|_| ResolveFailure::Lookup)?;
            check_addrs(ips.iter().copied(), allow_private).map_err(ResolveFailure::Target)?;
            // The port is set by the connector from the URL.
            let addrs: Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// Sends deliveries; one per gateway, shared by all delivery tasks.
#[derive(Debug, Clone)]
pub struct Sender {
    client: reqwest::Client,
    allow_private: bool,
}

impl Sender {
    /// The client for `config`, resolving names with `lookup`.
    pub fn new(config: &WebhookConfig, lookup: Arc<dyn HostLookup>) -> Result<Sender, String> {
        let allow_private = config.danger_allow_private_webhook_targets;
        let resolver = CheckedResolver {
            lookup,
            timeout: config.dns_timeout,
            allow_private,
        };
        let client = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(resolver))
            .user_agent("hushpay-webhooks/1")
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Sender {
            client,
            allow_private,
        })
    }

    /// Sends one delivery; returns the receiver's HTTP status.
    pub async fn send(&self, d: &Delivery<'_>) -> Result<u16, DeliverError> {
        let target = check_url_with(d.url, self.allow_private)
            .map_err(|e| DeliverError::Refused(e.to_string()))?;
        let response = self
            .client
            .post(target.url().clone())
            .header("content-type", d.content_type)
            .header("webhook-id", d.webhook_id)
            .header("webhook-timestamp", d.timestamp.to_string())
            .header("webhook-signature", d.signature)
            .body(d.body.to_owned())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        Ok(response.status().as_u16())
    }
}

/// A reqwest error as a [`DeliverError`], without its URL (URLs can carry tokens in their
/// query).
fn classify(e: &reqwest::Error) -> DeliverError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(failure) = s.downcast_ref::<ResolveFailure>() {
            return match failure {
                ResolveFailure::Target(t) => DeliverError::Refused(t.to_string()),
                other => DeliverError::Transport(other.to_string()),
            };
        }
        source = s.source();
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    DeliverError::Transport(kind.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use std::collections::HashMap;

    use super::*;
    use crate::webhooks::config::RawWebhooks;

    /// A resolver with fixed answers; names it does not know never answer.
    #[derive(Debug)]
    struct Fixed(HashMap<&'static str, Vec<IpAddr>>);

    #[async_trait]
    impl HostLookup for Fixed {
        async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
            match self.0.get(host) {
                Some(ips) => Ok(ips.clone()),
                None => std::future::pending().await,
            }
        }
    }

    fn sender(allow_private: bool) -> Sender {
        let raw = RawWebhooks {
            dns_timeout_ms: Some(200),
            request_timeout_secs: Some(2),
            danger_allow_private_webhook_targets: Some(allow_private),
            ..RawWebhooks::default()
        };
        let lookup = Fixed(HashMap::from([
            ("loopback.example", vec!["127.0.0.1".parse().unwrap()]),
            (
                "mixed.example",
                vec![
                    "93.184.215.14".parse().unwrap(),
                    "10.0.0.1".parse().unwrap(),
                ],
            ),
        ]));
        Sender::new(&raw.validate().unwrap(), Arc::new(lookup)).unwrap()
    }

    fn delivery(url: &str) -> Delivery<'_> {
        Delivery {
            url,
            webhook_id: "evt_1",
            timestamp: 1,
            signature: "v1,x",
            content_type: "application/json",
            body: "{}",
        }
    }

    /// Names that resolve to an internal address (all of them, or one of several) are
    /// refused before any connection; a resolver that never answers is cut off by
    /// `dns_timeout_ms`.
    #[tokio::test]
    async fn names_are_checked_after_resolution_and_dns_has_its_own_timeout() {
        let s = sender(false);
        for url in [
            "https://loopback.example/x",
            "https://mixed.example/x",
            "https://127.0.0.1/x",
            "https://127.0.0.1\\x.attacker.example/",
        ] {
            let err = s.send(&delivery(url)).await.unwrap_err();
            assert!(matches!(err, DeliverError::Refused(_)), "{url}: {err}");
        }
        let started = std::time::Instant::now();
        let err = s
            .send(&delivery("https://silent.example/x"))
            .await
            .unwrap_err();
        assert_eq!(err, DeliverError::Transport("DNS lookup timed out".into()));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "before the request timeout"
        );
    }
}
