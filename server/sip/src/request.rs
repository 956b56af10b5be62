//! The requests Hushpay sends, always inside a call's dialog (RFC 3261 §12.2.1.1): a BYE when
//! the application hangs up ([`crate::Endpoint::hang_up`], §15), and a REFER when it sends the
//! caller back to a third-party IVR ([`crate::Endpoint::transfer`], RFC 3515).
//!
//! Everything in it comes from the dialog the caller's INVITE set up: the Request-URI is the
//! caller's Contact (the remote target), the Route set is the INVITE's Record-Route list in
//! order, From is the INVITE's To with our tag, To is the INVITE's From with the caller's tag,
//! and the Call-ID is the call's. It goes to the address the INVITE came from (the trunk), never
//! to an address read from the message, so a request cannot be aimed at a third party. The
//! REFER's `Refer-To` is the one place an address of the application's choosing appears (the
//! transfer target configured for the payment); the trunk decides whether to follow it.

use std::fmt::Write;
use std::net::SocketAddr;

use ezk_sip_types::{Headers, Name};

/// What a request in the dialog needs besides the INVITE's headers.
#[derive(Debug, Clone)]
pub struct ByeParams<'a> {
    /// Our address for the Via header's sent-by.
    pub local: SocketAddr,
    /// The call's transport (Via, and our Contact's `transport` parameter).
    pub transport: crate::Transport,
    /// The new client transaction's branch (starts with the RFC 3261 magic cookie).
    pub branch: &'a str,
    /// Our tag (the To tag of our responses).
    pub local_tag: &'a str,
    /// Our CSeq number for the request.
    pub cseq: u32,
    /// Names us (User-Agent).
    pub agent: &'a str,
}

/// The BYE for the dialog of the INVITE whose headers are `invite`, with `extra` headers (names
/// and values already checked by the caller: no CR or LF).
pub fn bye(invite: &Headers, p: &ByeParams<'_>, extra: &[(String, String)]) -> Vec<u8> {
    in_dialog("BYE", invite, p, extra)
}

/// The REFER sending the caller to `refer_to` (a SIP URI, checked by [`checked_uri`]), with
/// `extra` headers, and `Referred-By` naming us.
pub fn refer(
    invite: &Headers,
    p: &ByeParams<'_>,
    refer_to: &str,
    extra: &[(String, String)],
) -> Vec<u8> {
    let mut headers = vec![
        ("Refer-To".to_owned(), format!("<{refer_to}>")),
        (
            "Referred-By".to_owned(),
            format!("<sip:hushpay@{}>", p.local),
        ),
    ];
    headers.extend_from_slice(extra);
    in_dialog("REFER", invite, p, &headers)
}

/// `uri` if it can be sent as a `Refer-To` target: `sip:` or `sips:`, at most 512 bytes,
/// printable ASCII without spaces, quotes or angle brackets.
pub fn checked_uri(uri: &str) -> Option<&str> {
    let lower = uri
        .get(..5)
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let scheme = lower.starts_with("sip:") || lower.starts_with("sips:");
    let clean = uri
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"'));
    (scheme && clean && uri.len() > lower.find(':').unwrap_or(0) + 1 && uri.len() <= 512)
        .then_some(uri)
}

/// A header name and value that can go into a request: a token name, a value of printable
/// ASCII and spaces (no CR or LF), at most 256 bytes each.
pub fn checked_header(name: &str, value: &str) -> bool {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b);
    !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(token)
        && value.len() <= 256
        && value.bytes().all(|b| b == b' ' || b.is_ascii_graphic())
}

fn in_dialog(
    method: &str,
    invite: &Headers,
    p: &ByeParams<'_>,
    extra: &[(String, String)],
) -> Vec<u8> {
    let raw = |n: &Name| invite.get_raw(n).next().map(|v| v.to_string());
    let from = raw(&Name::FROM).unwrap_or_default();
    let to = raw(&Name::TO).unwrap_or_default();
    let target = raw(&Name::CONTACT)
        .as_deref()
        .and_then(contact_uri)
        .or_else(|| contact_uri(&from))
        .unwrap_or_else(|| "sip:invalid".to_owned());
    let transport = p.transport.via_name();
    let mut out = String::with_capacity(512);
    let _ = write!(out, "{method} {target} SIP/2.0\r\n");
    let _ = write!(
        out,
        "Via: SIP/2.0/{transport} {};branch={};rport\r\n",
        p.local, p.branch
    );
    for route in invite.get_raw(&Name::RECORD_ROUTE) {
        let _ = write!(out, "Route: {route}\r\n");
    }
    out.push_str("Max-Forwards: 70\r\n");
    // Our side of the dialog: the INVITE's To (a re-INVITE's To already carries our tag).
    if has_tag(&to) {
        let _ = write!(out, "From: {to}\r\n");
    } else {
        let _ = write!(out, "From: {to};tag={}\r\n", p.local_tag);
    }
    let _ = write!(out, "To: {from}\r\n");
    if let Some(call_id) = raw(&Name::CALL_ID) {
        let _ = write!(out, "Call-ID: {call_id}\r\n");
    }
    let _ = write!(out, "CSeq: {} {method}\r\n", p.cseq);
    if method == "REFER" {
        // we are the transferor; our Contact is where the trunk sends its NOTIFYs
        let _ = write!(
            out,
            "Contact: <sip:hushpay@{}{}>\r\n",
            p.local,
            p.transport.uri_param()
        );
    }
    let _ = write!(out, "User-Agent: {}\r\n", p.agent);
    for (name, value) in extra {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    out.push_str("Content-Length: 0\r\n\r\n");
    out.into_bytes()
}

/// The URI of a Contact, From or To value: inside `<...>` when present, else up to the first
/// header parameter. `None` for `*` or an empty value.
fn contact_uri(value: &str) -> Option<String> {
    let v = value.trim();
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or_default(),
    };
    let uri = uri.trim();
    (!uri.is_empty() && uri != "*" && !uri.contains(char::is_whitespace)).then(|| uri.to_owned())
}

/// Whether a raw From/To value carries a `tag` parameter (outside the `<...>` URI).
pub(crate) fn has_tag(value: &str) -> bool {
    let params = match value.rfind('>') {
        Some(i) => &value[i..],
        None => value,
    };
    params
        .split(';')
        .skip(1)
        .any(|p| p.trim().to_ascii_lowercase().starts_with("tag="))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_remote_target_is_the_contact_uri() {
        assert_eq!(
            contact_uri("\"Pat\" <sip:pat@192.0.2.7:5062;transport=tcp>;expires=60").as_deref(),
            Some("sip:pat@192.0.2.7:5062;transport=tcp")
        );
        assert_eq!(
            contact_uri("sip:pat@192.0.2.7;expires=60").as_deref(),
            Some("sip:pat@192.0.2.7")
        );
        assert_eq!(contact_uri("*"), None);
        assert_eq!(contact_uri("  "), None);
        assert_eq!(contact_uri("<sip:a b@c>"), None);
    }

    #[test]
    fn transfer_targets_and_headers_are_checked() {
        assert!(checked_uri("sip:ivr@192.0.2.9:5060;transport=tcp").is_some());
        assert!(checked_uri("SIPS:ivr@example.org?X-Result=success").is_some());
        for bad in [
            "tel:+441234",
            "sip:",
            "sip:a b@c",
            "sip:a@c>\r\nX: y",
            "sip:a@c\r\nVia: x",
            "<sip:a@c>",
            "sip:\"a\"@c",
            "",
        ] {
            assert!(checked_uri(bad).is_none(), "{bad:?}");
        }
        assert!(checked_uri(&format!("sip:{}@c", "a".repeat(600))).is_none());
        assert!(checked_header("X-Hushpay-Result", "success"));
        assert!(!checked_header("X Bad", "v"));
        assert!(!checked_header("X-Ok", "a\r\nVia: evil"));
        assert!(!checked_header("", "v"));
    }

    #[test]
    fn tag_detection() {
        assert!(has_tag("<sip:a@b>;tag=x"));
        assert!(has_tag("sip:a@b;tag=x"));
        assert!(!has_tag("<sip:a@b;tag=x>"));
        assert!(!has_tag("<sip:a@b>"));
    }
}
