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
mod alg_cases;
mod claim_cases;
mod header_time_cases;
mod structure_cases;

use alg_cases::{alg_cases, valid_cases};
use claim_cases::claim_cases;
use header_time_cases::{header_cases, time_cases};
use structure_cases::structure_cases;

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
