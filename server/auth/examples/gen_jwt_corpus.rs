//! Writes the JWT attack corpus: `cargo run -p hushpay-auth --example gen_jwt_corpus`.
//!
//! Reads the TEST-ONLY keys from `tests/jwt_corpus/_context.json` (creating the file with
//! fresh keys if it is missing), then writes one JSON file per case. Every other key used
//! here (attacker keys) comes from a fixed seed and every `jti` is fixed, so re-running the
//! generator reproduces the committed files byte for byte.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use hushpay_auth::{Hs256Secret, KeyOrigin, SigningKey};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

const NOW: u64 = 1_800_000_000;
const ISS: &str = "https://hushpay.test";
const AUD: &str = "hushpay";
const HS256_SECRET: &str = "TEST-ONLY-hushpay-hs256-corpus-secret-not-for-production";

struct Ctx {
    ours: ed25519_dalek::SigningKey,
    kid: String,
    public_pem: String,
    hs_secret: Vec<u8>,
    hs_kid: String,
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jwt_corpus")
}

fn load_or_create_context(dir: &Path) -> Ctx {
    let path = dir.join("_context.json");
    let key = match std::fs::read_to_string(&path) {
        Ok(text) => {
            let v: Value = serde_json::from_str(&text).unwrap();
            let pem = v["ed25519_private_pem"].as_str().unwrap();
            SigningKey::from_pkcs8_pem(pem, KeyOrigin::Development).unwrap()
        }
        Err(_) => SigningKey::generate(KeyOrigin::Development),
    };
    let private_pem = key.to_pkcs8_pem().unwrap();
    let public_pem = key.public_key().to_public_pem().unwrap();
    let hs = Hs256Secret::new(HS256_SECRET.as_bytes()).unwrap();
    let context = json!({
        "warning": "TEST-ONLY keys for the JWT attack corpus. Never use them anywhere else.",
        "now": NOW,
        "iss": ISS,
        "aud": AUD,
        "leeway_secs": 5,
        "min_cases": 0,
        "kid": key.kid(),
        "ed25519_private_pem": private_pem.as_str(),
        "ed25519_public_pem": public_pem,
        "hs256_secret": HS256_SECRET,
        "hs256_kid": hs.kid(),
    });
    write_json(&path, &context);
    Ctx {
        ours: ed25519_dalek::SigningKey::from_pkcs8_pem(&private_pem).unwrap(),
        kid: key.kid().to_owned(),
        public_pem,
        hs_secret: HS256_SECRET.as_bytes().to_vec(),
        hs_kid: hs.kid().to_owned(),
    }
}

fn write_json(path: &Path, value: &Value) {
    let mut text = serde_json::to_string_pretty(value).unwrap();
    text.push('\n');
    std::fs::write(path, text).unwrap();
}

fn b64json(v: &Value) -> String {
    B64.encode(serde_json::to_vec(v).unwrap())
}

fn ed_sign(key: &ed25519_dalek::SigningKey, input: &str) -> String {
    B64.encode(key.sign(input.as_bytes()).to_bytes())
}

fn hs_sign(secret: &[u8], input: &str) -> String {
    jsonwebtoken::crypto::sign(
        input.as_bytes(),
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
    .unwrap()
}

/// `header.payload` from raw JSON text (for payloads serde_json would normalise).
fn input_raw(header: &Value, payload_text: &str) -> String {
    format!("{}.{}", b64json(header), B64.encode(payload_text))
}

fn attacker(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

struct Case {
    name: &'static str,
    description: &'static str,
    token: String,
    error: Option<&'static str>,
    expect_tenant: Option<&'static str>,
    allow_hs256: bool,
}

fn case(
    name: &'static str,
    description: &'static str,
    token: String,
    error: Option<&'static str>,
) -> Case {
    Case {
        name,
        description,
        token,
        error,
        expect_tenant: Some("tenant-a"),
        allow_hs256: false,
    }
}

impl Case {
    fn hs256(mut self) -> Self {
        self.allow_hs256 = true;
        self
    }
    fn tenant(mut self, t: Option<&'static str>) -> Self {
        self.expect_tenant = t;
        self
    }
}

impl Ctx {
    fn header(&self) -> Value {
        json!({"alg": "EdDSA", "kid": self.kid, "typ": "JWT"})
    }

    fn claims(&self, jti: &str) -> Value {
        json!({
            "iss": ISS, "aud": AUD, "sub": "patient-1", "tenant": "tenant-a", "room": "room-1",
            "role": "patient",
            "grants": {"canPublish": true, "canSubscribe": true, "canChat": true,
                       "canRequestPayment": false, "canViewRecordings": false},
            "exp": NOW + 300, "nbf": NOW - 10, "iat": NOW - 10, "jti": jti,
        })
    }

    fn with(&self, jti: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
        let mut c = self.claims(jti);
        f(c.as_object_mut().unwrap());
        c
    }

    fn sign_ed(&self, header: &Value, payload: &Value) -> String {
        let input = format!("{}.{}", b64json(header), b64json(payload));
        format!("{input}.{}", ed_sign(&self.ours, &input))
    }

    fn ours(&self, payload: &Value) -> String {
        self.sign_ed(&self.header(), payload)
    }

    fn sign_raw_payload(&self, payload_text: &str) -> String {
        let input = input_raw(&self.header(), payload_text);
        format!("{input}.{}", ed_sign(&self.ours, &input))
    }

    fn hs_header(&self) -> Value {
        json!({"alg": "HS256", "kid": self.hs_kid, "typ": "JWT"})
    }
}

fn cases(c: &Ctx) -> Vec<Case> {
    let mut v = Vec::new();
    v.extend(valid_cases(c));
    v.extend(alg_cases(c));
    v.extend(header_cases(c));
    v.extend(time_cases(c));
    v.extend(claim_cases(c));
    v.extend(structure_cases(c));
    v
}

fn valid_cases(c: &Ctx) -> Vec<Case> {
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

fn alg_cases(c: &Ctx) -> Vec<Case> {
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

fn header_cases(c: &Ctx) -> Vec<Case> {
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

fn time_cases(c: &Ctx) -> Vec<Case> {
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

/// The standard claims as JSON text with one member's value replaced by raw text.
fn raw_claims(c: &Ctx, jti: &str, name: &str, raw: &str) -> String {
    let mut claims = c.claims(jti);
    claims
        .as_object_mut()
        .unwrap()
        .insert(name.into(), json!("__RAW__"));
    serde_json::to_string(&claims)
        .unwrap()
        .replace("\"__RAW__\"", raw)
}

fn claim_cases(c: &Ctx) -> Vec<Case> {
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

fn structure_cases(c: &Ctx) -> Vec<Case> {
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

fn flip_first(s: &str) -> String {
    let first = if s.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &s[1..])
}

fn main() {
    let dir = corpus_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let ctx = load_or_create_context(&dir);
    let cases = cases(&ctx);
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.starts_with('_') {
            std::fs::remove_file(path).unwrap();
        }
    }
    for case in &cases {
        let value = json!({
            "name": case.name,
            "description": case.description,
            "token": case.token,
            "expected": if case.error.is_some() { "reject" } else { "accept" },
            "error": case.error,
            "expect_tenant": case.expect_tenant,
            "allow_hs256": case.allow_hs256,
        });
        write_json(&dir.join(format!("{}.json", case.name)), &value);
    }
    let context_path = dir.join("_context.json");
    let mut context: Value =
        serde_json::from_str(&std::fs::read_to_string(&context_path).unwrap()).unwrap();
    context["min_cases"] = json!(cases.len());
    write_json(&context_path, &context);
    println!("wrote {} cases to {}", cases.len(), dir.display());
}
