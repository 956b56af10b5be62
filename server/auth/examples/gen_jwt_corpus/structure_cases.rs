//! Size, nesting, signature tampering and malformed structure.
use base64::Engine;
use serde_json::json;

use super::*;

pub(super) fn structure_cases(c: &Ctx) -> Vec<Case> {
    let valid = c.ours(&c.claims("structure"));
    let parts: Vec<&str> = valid.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let big = c.ours(&c.with("oversized", |m| {
        m.insert("pad".into(), json!("A".repeat(64 * 1024)));
    }));
    let nested = c.sign_raw_payload(&raw_claims(
        c,
        "nested",
        "deep",
        &format!("{}{}", "[".repeat(1000), "]".repeat(1000)),
    ));
    let nested_obj = c.sign_raw_payload(&raw_claims(
        c,
        "nested-obj",
        "deep",
        &format!("{}1{}", "{\"a\":".repeat(8), "}".repeat(8)),
    ));
    let nested_header = {
        let input = format!(
            "{}.{}",
            B64.encode(format!(
                "{{\"alg\":\"EdDSA\",\"kid\":\"{}\",\"x\":{}{}}}",
                c.kid,
                "[".repeat(500),
                "]".repeat(500)
            )),
            b64json(&c.claims("nested-header"))
        );
        format!("{input}.{}", ed_sign(&c.ours, &input))
    };
    let other_key = {
        let input = format!("{h}.{p}");
        format!("{input}.{}", ed_sign(&attacker(0x77), &input))
    };
    let tampered = {
        let mut claims = c.claims("structure");
        claims["role"] = json!("agent");
        claims["grants"]["canRequestPayment"] = json!(true);
        format!("{h}.{}.{s}", b64json(&claims))
    };
    // Same members, different bytes (order and spacing): the signature covers the bytes.
    let reordered = format!(
        "{{\"typ\":\"JWT\", \"kid\":\"{}\", \"alg\":\"EdDSA\"}}",
        c.kid
    );
    let header_tampered = format!("{}.{p}.{s}", B64.encode(reordered));
    let duplicate = c.sign_raw_payload(&raw_claims(
        c,
        "dup",
        "exp",
        &format!("\"{}\",\"exp\":{}", NOW + 300, NOW + 300),
    ));
    let payload_array = c.sign_raw_payload("[1,2,3]");
    let not_json = c.sign_raw_payload("not json at all");
    let m = Some("token_malformed");
    vec![
        case(
            "oversized_64k",
            "A correctly signed 64 KiB token.",
            big,
            Some("token_too_large"),
        ),
        case(
            "deeply_nested_array",
            "Payload claim nested 1000 arrays deep (under the size cap).",
            nested,
            Some("token_too_deep"),
        ),
        case(
            "nested_objects",
            "Payload claim nested 8 objects deep.",
            nested_obj,
            Some("token_too_deep"),
        ),
        case(
            "deeply_nested_header",
            "Header with a 500-deep array.",
            nested_header,
            Some("token_too_deep"),
        ),
        case(
            "truncated_signature",
            "Signature with its last 10 characters cut.",
            format!("{h}.{p}.{}", &s[..s.len() - 10]),
            Some("signature_invalid"),
        ),
        case(
            "empty_signature",
            "EdDSA header with an empty signature.",
            format!("{h}.{p}."),
            Some("signature_invalid"),
        ),
        case(
            "signature_other_key_our_kid",
            "Signed by another Ed25519 key, carrying our kid.",
            other_key,
            Some("signature_invalid"),
        ),
        case(
            "payload_tampered",
            "Role raised to agent after signing.",
            tampered,
            Some("signature_invalid"),
        ),
        case(
            "header_reordered",
            "Header re-encoded after signing (same members).",
            header_tampered,
            Some("signature_invalid"),
        ),
        case(
            "flipped_signature_byte",
            "One signature character changed.",
            format!("{h}.{p}.{}", flip_first(s)),
            Some("signature_invalid"),
        ),
        case(
            "two_segments",
            "Only header and payload.",
            format!("{h}.{p}"),
            m,
        ),
        case(
            "four_segments",
            "An extra segment.",
            format!("{h}.{p}.{s}.{s}"),
            m,
        ),
        case("empty_string", "Empty token.", String::new(), m),
        case(
            "bad_base64_payload",
            "Payload with characters outside base64url.",
            format!("{h}.{}*!.{s}", &p[..p.len() - 2]),
            m,
        ),
        case(
            "padded_base64_header",
            "Header with = padding.",
            format!("{h}==.{p}.{s}"),
            m,
        ),
        case(
            "header_not_json",
            "Header decodes to non-JSON.",
            format!("{}.{p}.{s}", B64.encode("not json")),
            m,
        ),
        case(
            "payload_not_object",
            "Payload is a JSON array, correctly signed.",
            payload_array,
            m,
        ),
        case(
            "payload_not_json",
            "Payload is not JSON, correctly signed.",
            not_json,
            m,
        ),
        case(
            "duplicate_exp",
            "Two exp members (string then integer), correctly signed.",
            duplicate,
            m,
        ),
    ]
}
