//! Header attacks (`kid`, `jku`, `x5u`, `jwk`, `x5c`, `crit`, `typ`) and time claims.
use base64::Engine;
use serde_json::{Value, json};

use super::*;

pub(super) fn header_cases(c: &Ctx) -> Vec<Case> {
    let p = c.claims("header");
    let h = |extra: (&str, Value)| {
        let mut header = c.header();
        header
            .as_object_mut()
            .unwrap()
            .insert(extra.0.into(), extra.1);
        c.sign_ed(&header, &p)
    };
    let evil = attacker(0x66);
    let evil_jwk =
        json!({"kty": "OKP", "crv": "Ed25519", "x": B64.encode(evil.verifying_key().to_bytes())});
    let self_signed = |kid: &str| {
        let header = json!({"alg": "EdDSA", "kid": kid, "typ": "JWT", "jwk": evil_jwk});
        let input = format!("{}.{}", b64json(&header), b64json(&p));
        format!("{input}.{}", ed_sign(&evil, &input))
    };
    let other_kid = |kid: Value| c.sign_ed(&json!({"alg": "EdDSA", "kid": kid, "typ": "JWT"}), &p);
    let no_kid = c.sign_ed(&json!({"alg": "EdDSA", "typ": "JWT"}), &p);
    let forbidden = Some("header_forbidden");
    vec![
        case(
            "unknown_kid",
            "kid names no key.",
            other_kid(json!("no-such-key")),
            Some("kid_unknown"),
        ),
        case(
            "missing_kid",
            "No kid in the header.",
            no_kid,
            Some("kid_missing"),
        ),
        case(
            "kid_not_string",
            "kid is a number.",
            other_kid(json!(7)),
            Some("kid_unknown"),
        ),
        case(
            "kid_empty",
            "kid is the empty string.",
            other_kid(json!("")),
            Some("kid_unknown"),
        ),
        case(
            "header_jku",
            "jku pointing at an attacker JWKS.",
            h(("jku", json!("https://attacker.example/jwks.json"))),
            forbidden,
        ),
        case(
            "header_x5u",
            "x5u pointing at an attacker certificate.",
            h(("x5u", json!("https://attacker.example/cert.pem"))),
            forbidden,
        ),
        case(
            "header_jwk_self_signed",
            "Embedded attacker jwk, correctly self-signed with the attacker key, attacker kid.",
            self_signed("attacker-key"),
            forbidden,
        ),
        case(
            "header_jwk_self_signed_our_kid",
            "Embedded attacker jwk, self-signed, our kid.",
            self_signed(&c.kid),
            forbidden,
        ),
        case(
            "header_x5c",
            "x5c certificate chain.",
            h(("x5c", json!(["MIIBszCCAVmgAwIBAgIUQ"]))),
            forbidden,
        ),
        case(
            "header_crit",
            "crit extension list.",
            h(("crit", json!(["exp"]))),
            forbidden,
        ),
        case(
            "header_x5t",
            "x5t thumbprint.",
            h(("x5t", json!("dGh1bWI"))),
            forbidden,
        ),
        case(
            "header_unknown_param",
            "An unknown header parameter.",
            h(("zip", json!("DEF"))),
            forbidden,
        ),
        case(
            "header_typ_not_jwt",
            "typ at+jwt.",
            h(("typ", json!("at+jwt"))),
            forbidden,
        ),
        case(
            "header_typ_lowercase",
            "typ jwt (lower case).",
            h(("typ", json!("jwt"))),
            forbidden,
        ),
    ]
}

pub(super) fn time_cases(c: &Ctx) -> Vec<Case> {
    let t = |jti: &str, name: &str, value: Value| {
        c.ours(&c.with(jti, |m| {
            m.insert(name.into(), value);
        }))
    };
    let expired = |jti: &str, exp: u64| {
        c.ours(&c.with(jti, |m| {
            m.insert("exp".into(), json!(exp));
            m.insert("iat".into(), json!(exp - 600));
            m.insert("nbf".into(), json!(exp - 600));
        }))
    };
    let ci = Some("claim_invalid");
    vec![
        case(
            "expired",
            "exp ten minutes ago.",
            expired("expired", NOW - 600),
            Some("token_expired"),
        ),
        case(
            "expired_within_leeway",
            "exp 3 s ago, leeway 5 s: accepted.",
            expired("exp-leeway-in", NOW - 3),
            None,
        ),
        case(
            "expired_at_leeway_edge",
            "exp exactly leeway (5 s) ago: now >= exp + leeway, refused.",
            expired("exp-leeway-edge", NOW - 5),
            Some("token_expired"),
        ),
        case(
            "expired_just_beyond_leeway",
            "exp 6 s ago, leeway 5 s.",
            expired("exp-leeway-out", NOW - 6),
            Some("token_expired"),
        ),
        case(
            "exp_string",
            "exp as a JSON string.",
            t("exp-str", "exp", json!((NOW + 300).to_string())),
            ci,
        ),
        case(
            "nbf_string",
            "nbf as a JSON string.",
            t("nbf-str", "nbf", json!((NOW - 10).to_string())),
            ci,
        ),
        case(
            "iat_string",
            "iat as a JSON string.",
            t("iat-str", "iat", json!((NOW - 10).to_string())),
            ci,
        ),
        case(
            "exp_float",
            "exp as a float with .0.",
            c.sign_raw_payload(&raw_claims(
                c,
                "exp-float",
                "exp",
                &format!("{}.0", NOW + 300),
            )),
            ci,
        ),
        case(
            "exp_fractional",
            "exp with a fraction.",
            t("exp-frac", "exp", json!((NOW + 300) as f64 + 0.5)),
            ci,
        ),
        case(
            "exp_exponent",
            "exp in exponent notation.",
            c.sign_raw_payload(&raw_claims(c, "exp-exp", "exp", "1.8000003e9")),
            ci,
        ),
        case(
            "nbf_float",
            "nbf as a float.",
            c.sign_raw_payload(&raw_claims(
                c,
                "nbf-float",
                "nbf",
                &format!("{}.0", NOW - 10),
            )),
            ci,
        ),
        case(
            "iat_float",
            "iat as a float.",
            c.sign_raw_payload(&raw_claims(
                c,
                "iat-float",
                "iat",
                &format!("{}.0", NOW - 10),
            )),
            ci,
        ),
        case(
            "exp_negative",
            "exp negative.",
            t("exp-neg", "exp", json!(-1)),
            ci,
        ),
        case(
            "exp_null",
            "exp null.",
            t("exp-null", "exp", Value::Null),
            ci,
        ),
        case(
            "exp_far_future",
            "exp in the year 2554 (lifetime above the one-day cap).",
            t("exp-far", "exp", json!(18_000_000_000u64)),
            ci,
        ),
        case(
            "exp_u64_max",
            "exp = u64::MAX.",
            t("exp-max", "exp", json!(u64::MAX)),
            ci,
        ),
        case(
            "nbf_future",
            "nbf one minute ahead.",
            t("nbf-future", "nbf", json!(NOW + 60)),
            Some("token_not_yet_valid"),
        ),
        case(
            "nbf_within_leeway",
            "nbf 3 s ahead, leeway 5 s: accepted.",
            t("nbf-leeway", "nbf", json!(NOW + 3)),
            None,
        ),
        case(
            "iat_future",
            "iat one minute ahead.",
            t("iat-future", "iat", json!(NOW + 60)),
            Some("token_not_yet_valid"),
        ),
    ]
}
