//! Missing, mistyped and wrong claims; tenant binding.
use serde_json::{Value, json};

use super::*;

pub(super) fn claim_cases(c: &Ctx) -> Vec<Case> {
    let without = |jti: &str, name: &str| {
        c.ours(&c.with(jti, |m| {
            m.remove(name);
        }))
    };
    let set = |jti: &str, name: &str, value: Value| {
        c.ours(&c.with(jti, |m| {
            m.insert(name.into(), value);
        }))
    };
    let cm = Some("claim_missing");
    let ci = Some("claim_invalid");
    vec![
        case("missing_exp", "No exp.", without("no-exp", "exp"), cm),
        case("missing_nbf", "No nbf.", without("no-nbf", "nbf"), cm),
        case("missing_iat", "No iat.", without("no-iat", "iat"), cm),
        case("missing_aud", "No aud.", without("no-aud", "aud"), cm),
        case("missing_iss", "No iss.", without("no-iss", "iss"), cm),
        case("missing_sub", "No sub.", without("no-sub", "sub"), cm),
        case(
            "missing_tenant",
            "No tenant.",
            without("no-tenant", "tenant"),
            cm,
        ),
        case("missing_jti", "No jti.", without("no-jti", "jti"), cm),
        case(
            "missing_grants",
            "No grants.",
            without("no-grants", "grants"),
            cm,
        ),
        case(
            "wrong_aud",
            "aud of another service.",
            set("wrong-aud", "aud", json!("other-service")),
            Some("wrong_audience"),
        ),
        case(
            "wrong_iss",
            "iss of another issuer.",
            set("wrong-iss", "iss", json!("https://attacker.example")),
            Some("wrong_issuer"),
        ),
        case(
            "aud_array_with_ours",
            "aud as an array containing ours: refused by design (we mint a single string).",
            set("aud-array", "aud", json!([AUD, "other"])),
            ci,
        ),
        case(
            "iss_number",
            "iss as a number.",
            set("iss-num", "iss", json!(1)),
            ci,
        ),
        case(
            "wrong_tenant",
            "tenant-a's valid token used where tenant-b is expected.",
            c.ours(&c.claims("wrong-tenant")),
            Some("wrong_tenant"),
        )
        .tenant(Some("tenant-b")),
        case(
            "tenant_case_differs",
            "tenant-a's token where Tenant-A is expected (exact match).",
            c.ours(&c.claims("tenant-case")),
            Some("wrong_tenant"),
        )
        .tenant(Some("Tenant-A")),
        case(
            "role_not_in_enum",
            "role admin.",
            set("role-admin", "role", json!("admin")),
            ci,
        ),
        case(
            "role_wrong_case",
            "role Agent.",
            set("role-case", "role", json!("Agent")),
            ci,
        ),
        case(
            "sub_bad_characters",
            "sub with spaces and markup.",
            set("sub-bad", "sub", json!("pat <script>")),
            ci,
        ),
        case(
            "sub_too_long",
            "sub of 129 bytes.",
            set("sub-long", "sub", json!("a".repeat(129))),
            ci,
        ),
        case(
            "tenant_empty",
            "tenant empty.",
            set("tenant-empty", "tenant", json!("")),
            ci,
        ),
        case(
            "grants_not_object",
            "grants is a string.",
            set("grants-str", "grants", json!("all")),
            ci,
        ),
        case(
            "grant_string_true",
            "canRequestPayment as the string \"true\".",
            set("grant-str", "grants", json!({"canRequestPayment": "true"})),
            ci,
        ),
    ]
}
