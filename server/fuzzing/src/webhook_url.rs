//! Target `webhook_url`: a webhook URL a tenant registers (`POST /v1/webhooks`), through the
//! destination check in [`hushpay_vault::webhook`].
//!
//! Invariant: no panic; a URL the check accepts (private targets refused) is `https` and names,
//! as the HTTP client's URL parser (the `url` crate, which reqwest uses) reads it, a host that is
//! not internal: no loopback, private, link-local or otherwise internal IP literal, no
//! `localhost`.

use std::net::IpAddr;

use hushpay_vault::webhook::{check_target, is_internal};
use url::{Host, Url};

pub fn run(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if check_target(text, false).is_err() {
        return;
    }
    let Ok(parsed) = Url::parse(text) else {
        // The client could not connect anywhere.
        return;
    };
    assert_eq!(parsed.scheme(), "https", "accepted a non-https URL");
    match parsed.host() {
        Some(Host::Ipv4(ip)) => assert!(!is_internal(IpAddr::V4(ip)), "internal IPv4 accepted"),
        Some(Host::Ipv6(ip)) => assert!(!is_internal(IpAddr::V6(ip)), "internal IPv6 accepted"),
        Some(Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            assert!(
                d != "localhost" && !d.ends_with(".localhost") && !d.ends_with(".local"),
                "localhost accepted"
            );
        }
        None => panic!("accepted a URL without a host"),
    }
}
