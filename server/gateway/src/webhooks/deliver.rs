//! One webhook delivery over HTTP(S): the target's host is resolved once and checked
//! (loopback, private, link-local and other internal addresses are refused unless
//! `danger_allow_private_webhook_targets`), then the request goes to exactly that address
//! (no second lookup, so DNS rebinding cannot swap it) without following redirects.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hushpay_vault::webhook::{self, is_internal};

/// A request to send.
#[derive(Debug)]
pub struct Delivery<'a> {
    pub url: &'a str,
    pub webhook_id: &'a str,
    pub timestamp: i64,
    pub signature: &'a str,
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

fn port_of(url: &str) -> u16 {
    let https = url.starts_with("https://");
    let rest = url.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let after_host = authority.rsplit_once(']').map_or(authority, |(_, p)| p);
    after_host
        .rsplit_once(':')
        .and_then(|(_, p)| p.parse().ok())
        .unwrap_or(if https { 443 } else { 80 })
}

/// Resolves the target and picks an address it may be sent to.
async fn target_addr(url: &str, allow_private: bool) -> Result<(String, SocketAddr), DeliverError> {
    let host = webhook::url_host(url, allow_private)
        .map_err(|e| DeliverError::Refused(e.to_string()))?
        .to_owned();
    let port = port_of(url);
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| DeliverError::Transport(format!("cannot resolve the host: {e}")))?
            .collect(),
    };
    let addr = addrs
        .into_iter()
        .find(|a| allow_private || !is_internal(a.ip()))
        .ok_or_else(|| {
            DeliverError::Refused("the host resolves to internal addresses only".into())
        })?;
    Ok((host, addr))
}

/// Sends one delivery; returns the receiver's HTTP status.
pub async fn send(
    d: &Delivery<'_>,
    allow_private: bool,
    timeout: Duration,
) -> Result<u16, DeliverError> {
    let (host, addr) = target_addr(d.url, allow_private).await?;
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("hushpay-webhooks/1");
    if host.parse::<IpAddr>().is_err() {
        builder = builder.resolve(&host, addr);
    }
    let client = builder
        .build()
        .map_err(|e| DeliverError::Transport(e.to_string()))?;
    let response = client
        .post(d.url)
        .header("content-type", "application/json")
        .header("webhook-id", d.webhook_id)
        .header("webhook-timestamp", d.timestamp.to_string())
        .header("webhook-signature", d.signature)
        .body(d.body.to_owned())
        .send()
        .await
        .map_err(|e| DeliverError::Transport(without_url(&e)))?;
    Ok(response.status().as_u16())
}

/// A reqwest error without its URL (URLs can carry tokens in their query).
fn without_url(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    kind.to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ports_default_by_scheme() {
        assert_eq!(port_of("https://a.example/x"), 443);
        assert_eq!(port_of("http://a.example/x"), 80);
        assert_eq!(port_of("https://a.example:8443/x"), 8443);
        assert_eq!(port_of("http://[::1]:9000/x"), 9000);
        assert_eq!(port_of("https://[::1]/x"), 443);
    }

    #[tokio::test]
    async fn internal_targets_are_refused_after_resolution() {
        for url in [
            "https://127.0.0.1/x",
            "https://localhost/x",
            "https://[::1]:9/x",
        ] {
            let err = target_addr(url, false).await.unwrap_err();
            assert!(matches!(err, DeliverError::Refused(_)), "{url}: {err}");
        }
        assert!(target_addr("http://127.0.0.1:9/x", true).await.is_ok());
    }
}
