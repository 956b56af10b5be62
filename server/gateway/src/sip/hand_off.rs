//! The SIP side of a third-party IVR's hand-off (issue 15, "on-demand media"): the address a
//! payment's caller is transferred to, and the headers that carry the payment's result back to
//! the IVR — on the REFER, inside its `Refer-To` URI (so the INVITE the caller's side sends to
//! the IVR carries them too), and on the BYE when there is no return address.
//!
//! Masked data only, as in a webhook: the payment id, its state and result, and the card's
//! token, brand and last 4 once it succeeded. Never a digit more.

use std::fmt::Write;
use std::net::SocketAddr;

use hushpay_vault::payment::Payment;

use super::config::SipSettings;

/// Where a third-party IVR transfers its caller for payment `payment_id`.
pub fn payment_uri(sip: &SipSettings, payment_id: &str) -> String {
    let at = SocketAddr::new(sip.advertise, sip.listen.port());
    format!("sip:{payment_id}@{at}")
}

/// The `X-Hushpay-*` headers of a finished hand-off payment.
pub fn result_headers(p: &Payment) -> Vec<(String, String)> {
    let word = |v: serde_json::Value| v.as_str().unwrap_or_default().to_owned();
    let mut h = vec![
        ("X-Hushpay-Payment-Id".to_owned(), p.id.clone()),
        ("X-Hushpay-State".to_owned(), p.state.as_str().to_owned()),
    ];
    if let Some(r) = p.result
        && let Ok(v) = serde_json::to_value(r)
    {
        h.push(("X-Hushpay-Result".to_owned(), word(v)));
    }
    if let Some(c) = &p.card {
        h.push(("X-Hushpay-Token".to_owned(), c.token.clone()));
        h.push(("X-Hushpay-Card-Brand".to_owned(), c.brand.clone()));
        h.push(("X-Hushpay-Card-Last4".to_owned(), c.last4.clone()));
    }
    h
}

/// `uri` with `headers` added as URI headers (RFC 3261 §19.1.1: `?name=value&...`, values
/// %-escaped), after any it has.
pub fn with_uri_headers(uri: &str, headers: &[(String, String)]) -> String {
    let mut out = uri.to_owned();
    let mut sep = if uri.contains('?') { '&' } else { '?' };
    for (name, value) in headers {
        out.push(sep);
        sep = '&';
        out.push_str(name);
        out.push('=');
        for b in value.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b) {
                out.push(char::from(b));
            } else {
                let _ = write!(out, "%{b:02X}");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_headers_go_into_the_uri_escaped() {
        let h = vec![
            ("X-Hushpay-Payment-Id".to_owned(), "pay_1".to_owned()),
            ("X-Hushpay-Result".to_owned(), "a b&c=d".to_owned()),
        ];
        assert_eq!(
            with_uri_headers("sip:ivr@192.0.2.9:5060", &h),
            "sip:ivr@192.0.2.9:5060?X-Hushpay-Payment-Id=pay_1&X-Hushpay-Result=a%20b%26c%3Dd"
        );
        assert_eq!(
            with_uri_headers("sip:ivr@h?X-Queue=back", &h[..1]),
            "sip:ivr@h?X-Queue=back&X-Hushpay-Payment-Id=pay_1"
        );
    }
}
