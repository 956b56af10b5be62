//! Target `webhook_url`: a webhook URL a tenant registers (`POST /v1/webhooks`), through the
//! pure destination check [`check_url`] / [`check_url_with`] (`server/vault/src/webhook/target.rs`).
//!
//! Invariants: no panic; a URL the production check accepts is `https`, carries no userinfo,
//! and names, as the HTTP client's own URL parser (the `url` crate, which reqwest uses) reads
//! the original text, exactly the host and port the check returned, and that host is public
//! (an address passing [`is_public_addr`], or a name); the stored form (`as_str`) passes the
//! check again with the same host and port; the check with private targets allowed accepts
//! everything the production check accepts.

use hushpay_vault::webhook::{TargetHost, check_url, check_url_with, is_public_addr};
use url::{Host, Url};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let dev = check_url_with(text, true);
    let Ok(checked) = check_url(text) else {
        return;
    };
    assert!(dev.is_ok(), "allowing private targets refuses a public URL");
    let Ok(client) = Url::parse(text) else {
        panic!("an accepted URL does not parse for the HTTP client");
    };
    assert_eq!(client.scheme(), "https", "accepted a non-https URL");
    assert!(
        client.username().is_empty() && client.password().is_none(),
        "accepted userinfo"
    );
    let host = match client.host() {
        Some(Host::Ipv4(ip)) => TargetHost::Ip(ip.into()),
        Some(Host::Ipv6(ip)) => TargetHost::Ip(ip.into()),
        Some(Host::Domain(d)) => {
            TargetHost::Domain(d.strip_suffix('.').unwrap_or(d).to_ascii_lowercase())
        }
        None => panic!("accepted a URL without a host"),
    };
    assert_eq!(
        &host,
        checked.host(),
        "the check and the client disagree on the host"
    );
    assert_eq!(client.port_or_known_default(), Some(checked.port()));
    if let TargetHost::Ip(ip) = host {
        assert!(is_public_addr(ip), "accepted an internal address");
    }
    match check_url(checked.as_str()) {
        Ok(again) => assert!(
            again.host() == checked.host() && again.port() == checked.port(),
            "the stored form names another target"
        ),
        Err(e) => panic!("the stored form of an accepted URL is refused: {e}"),
    }
}
