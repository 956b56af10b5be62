//! Valid tokens and algorithm attacks (`none`, HS256/EdDSA confusion, HS256 disabled).
use serde_json::json;

use super::*;

pub(super) fn valid_cases(c: &Ctx) -> Vec<Case> {
    let agent = c.with("valid-agent", |m| {
        m.insert("sub".into(), json!("agent-7"));
        m.insert("role".into(), json!("agent"));
        m.insert("grants".into(), json!({"canPublish": true, "canSubscribe": true, "canChat": true, "canRequestPayment": true, "canViewRecordings": false}));
    });
    let supervisor = c.with("valid-supervisor", |m| {
        m.insert("sub".into(), json!("supervisor@tenant-a"));
        m.insert("role".into(), json!("supervisor"));
        m.insert("grants".into(), json!({"canPublish": false, "canSubscribe": true, "canChat": true, "canRequestPayment": false, "canViewRecordings": true}));
    });
    let hs_payload = c.claims("valid-hs256");
    let hs_input = format!("{}.{}", b64json(&c.hs_header()), b64json(&hs_payload));
    let no_typ = json!({"alg": "EdDSA", "kid": c.kid});
    vec![
        case(
            "valid_patient",
            "Correct EdDSA patient token for tenant-a.",
            c.ours(&c.claims("valid-patient")),
            None,
        ),
        case(
            "valid_agent",
            "Correct EdDSA agent token with the payment grant.",
            c.ours(&agent),
            None,
        ),
        case(
            "valid_supervisor",
            "Correct EdDSA supervisor token.",
            c.ours(&supervisor),
            None,
        ),
        case(
            "valid_no_typ_header",
            "typ is optional; alg and kid suffice.",
            c.sign_ed(&no_typ, &c.claims("valid-no-typ")),
            None,
        ),
        case(
            "valid_any_tenant",
            "Valid token where the endpoint binds no tenant.",
            c.ours(&c.claims("valid-any-tenant")),
            None,
        )
        .tenant(None),
        case(
            "valid_hs256_when_enabled",
            "HS256 with the development secret, HS256 enabled.",
            format!("{hs_input}.{}", hs_sign(&c.hs_secret, &hs_input)),
            None,
        )
        .hs256(),
        case(
            "valid_grants_partial",
            "Missing grant members default to false.",
            c.ours(&c.with("valid-partial", |m| {
                m.insert("grants".into(), json!({"canChat": true}));
            })),
            None,
        ),
        case(
            "valid_extra_claim_ignored",
            "Unknown extra claims are ignored.",
            c.ours(&c.with("valid-extra", |m| {
                m.insert("name".into(), json!("Pat"));
            })),
            None,
        ),
    ]
}

pub(super) fn alg_cases(c: &Ctx) -> Vec<Case> {
    let payload = b64json(&c.claims("alg-none"));
    let none = |alg: &str, sig: bool| {
        let input = format!(
            "{}.{payload}",
            b64json(&json!({"alg": alg, "kid": c.kid, "typ": "JWT"}))
        );
        let s = if sig {
            ed_sign(&c.ours, &input)
        } else {
            String::new()
        };
        format!("{input}.{s}")
    };
    let confusion = |secret: &[u8], kid: Option<&str>| {
        let header = match kid {
            Some(k) => json!({"alg": "HS256", "kid": k, "typ": "JWT"}),
            None => json!({"alg": "HS256", "typ": "JWT"}),
        };
        let input = format!("{}.{}", b64json(&header), b64json(&c.claims("confusion")));
        format!("{input}.{}", hs_sign(secret, &input))
    };
    let pem = c.public_pem.as_bytes();
    let raw = c.ours.verifying_key().to_bytes();
    let hs_input = format!(
        "{}.{}",
        b64json(&c.hs_header()),
        b64json(&c.claims("hs-disabled"))
    );
    let hs_valid = format!("{hs_input}.{}", hs_sign(&c.hs_secret, &hs_input));
    let hs_wrong = format!(
        "{hs_input}.{}",
        hs_sign(b"TEST-ONLY-some-other-secret-of-enough-length!!", &hs_input)
    );
    let ed_with_hs_kid = c.sign_ed(
        &json!({"alg": "EdDSA", "kid": c.hs_kid, "typ": "JWT"}),
        &c.claims("eddsa-hs-kid"),
    );
    let alg = |a: &str| {
        c.sign_ed(
            &json!({"alg": a, "kid": c.kid, "typ": "JWT"}),
            &c.claims("alg-variant"),
        )
    };
    let no_alg = c.sign_ed(&json!({"kid": c.kid, "typ": "JWT"}), &c.claims("no-alg"));
    let na = Some("algorithm_not_allowed");
    vec![
        case(
            "alg_none_lower_unsigned",
            "alg none, empty signature.",
            none("none", false),
            na,
        ),
        case(
            "alg_none_title_unsigned",
            "alg None, empty signature.",
            none("None", false),
            na,
        ),
        case(
            "alg_none_upper_unsigned",
            "alg NONE, empty signature.",
            none("NONE", false),
            na,
        ),
        case(
            "alg_none_mixed_unsigned",
            "alg nOnE, empty signature.",
            none("nOnE", false),
            na,
        ),
        case(
            "alg_none_lower_signed",
            "alg none with a real EdDSA signature attached.",
            none("none", true),
            na,
        ),
        case(
            "alg_none_title_signed",
            "alg None with a signature.",
            none("None", true),
            na,
        ),
        case(
            "alg_none_upper_signed",
            "alg NONE with a signature.",
            none("NONE", true),
            na,
        ),
        case(
            "alg_none_mixed_signed",
            "alg nOnE with a signature.",
            none("nOnE", true),
            na,
        ),
        case(
            "alg_none_hs256_enabled",
            "alg none while HS256 is enabled.",
            none("none", false),
            na,
        )
        .hs256(),
        case(
            "hs256_confusion_public_pem",
            "HS256 signed with our public key PEM as HMAC secret, our Ed25519 kid, HS256 enabled.",
            confusion(pem, Some(&c.kid)),
            na,
        )
        .hs256(),
        case(
            "hs256_confusion_public_raw",
            "HS256 signed with our raw 32-byte public key, our kid, HS256 enabled.",
            confusion(&raw, Some(&c.kid)),
            na,
        )
        .hs256(),
        case(
            "hs256_confusion_public_pem_disabled",
            "Key confusion with HS256 disabled.",
            confusion(pem, Some(&c.kid)),
            na,
        ),
        case(
            "hs256_confusion_no_kid",
            "Key confusion without kid, HS256 enabled.",
            confusion(pem, None),
            Some("kid_missing"),
        )
        .hs256(),
        case(
            "hs256_when_disabled",
            "Correct HS256 token with the dev secret while HS256 is disabled.",
            hs_valid,
            na,
        ),
        case(
            "hs256_wrong_secret",
            "HS256 signed with another secret, HS256 enabled.",
            hs_wrong,
            Some("signature_invalid"),
        )
        .hs256(),
        case(
            "eddsa_with_hs256_kid",
            "EdDSA header naming the HS256 key id.",
            ed_with_hs_kid,
            na,
        )
        .hs256(),
        case(
            "alg_eddsa_lowercase",
            "alg eddsa (wrong case).",
            alg("eddsa"),
            na,
        ),
        case("alg_rs256", "alg RS256.", alg("RS256"), na),
        case("alg_es256", "alg ES256.", alg("ES256"), na),
        case("alg_hs512", "alg HS512, HS256 enabled.", alg("HS512"), na).hs256(),
        case(
            "alg_eddsa_nul_suffix",
            "alg EdDSA followed by a NUL.",
            alg("EdDSA\u{0}"),
            na,
        ),
        case("alg_missing", "No alg in the header.", no_alg, na),
    ]
}
