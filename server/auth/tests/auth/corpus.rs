//! Runs every case of `tests/jwt_corpus/*.json` (the committed literal tokens) and checks the
//! verdict and the error code.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use hushpay_auth::{
    Expectation, Hs256Secret, KeyOrigin, KeySet, SigningKey, Validator, ValidatorConfig,
};
use serde_json::Value;

/// The corpus must never shrink below this (the generator writes 104 cases).
const EXPECTED_MIN_CASES: usize = 104;

/// Attack classes from SECURITY.md invariant 8 and issue 2 that must stay in the corpus.
const REQUIRED: &[&str] = &[
    "alg_none_lower_unsigned",
    "alg_none_title_unsigned",
    "alg_none_upper_unsigned",
    "alg_none_mixed_unsigned",
    "alg_none_lower_signed",
    "alg_none_mixed_signed",
    "hs256_confusion_public_pem",
    "hs256_confusion_public_raw",
    "hs256_when_disabled",
    "unknown_kid",
    "missing_kid",
    "header_jku",
    "header_x5u",
    "header_jwk_self_signed",
    "header_x5c",
    "expired",
    "expired_within_leeway",
    "expired_just_beyond_leeway",
    "exp_string",
    "nbf_string",
    "iat_string",
    "exp_float",
    "nbf_float",
    "iat_float",
    "missing_exp",
    "missing_aud",
    "missing_iss",
    "nbf_future",
    "wrong_aud",
    "wrong_iss",
    "aud_array_with_ours",
    "oversized_64k",
    "deeply_nested_array",
    "truncated_signature",
    "signature_other_key_our_kid",
    "payload_tampered",
    "two_segments",
    "bad_base64_payload",
    "wrong_tenant",
    "role_not_in_enum",
    "valid_patient",
    "valid_agent",
    "valid_supervisor",
];

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jwt_corpus")
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

struct Context {
    now: u64,
    validator_ed_only: Validator,
    validator_hs256: Validator,
    min_cases: usize,
}

fn context() -> Context {
    let ctx = read_json(&dir().join("_context.json"));
    let key = SigningKey::from_pkcs8_pem(
        ctx["ed25519_private_pem"].as_str().unwrap(),
        KeyOrigin::Development,
    )
    .unwrap();
    assert_eq!(key.kid(), ctx["kid"].as_str().unwrap());
    let secret = Hs256Secret::new(ctx["hs256_secret"].as_str().unwrap().as_bytes()).unwrap();
    assert_eq!(secret.kid(), ctx["hs256_kid"].as_str().unwrap());
    let keys = Arc::new(KeySet::new(key).with_hs256_verifier(secret).unwrap());
    let mut config =
        ValidatorConfig::new(ctx["iss"].as_str().unwrap(), ctx["aud"].as_str().unwrap());
    config.leeway_secs = ctx["leeway_secs"].as_u64().unwrap();
    let validator_ed_only = Validator::new(config.clone(), keys.clone()).unwrap();
    config.allow_hs256 = true;
    let validator_hs256 = Validator::new(config, keys).unwrap();
    Context {
        now: ctx["now"].as_u64().unwrap(),
        validator_ed_only,
        validator_hs256,
        min_cases: usize::try_from(ctx["min_cases"].as_u64().unwrap()).unwrap(),
    }
}

fn case_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.ends_with(".json") && !name.starts_with('_')
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_corpus_case_gets_its_verdict_and_code() {
    let ctx = context();
    let files = case_files();
    assert!(
        files.len() >= EXPECTED_MIN_CASES,
        "corpus has {} cases, expected >= {EXPECTED_MIN_CASES}",
        files.len()
    );
    assert!(
        files.len() >= ctx.min_cases,
        "corpus has {} cases, _context.json says {}",
        files.len(),
        ctx.min_cases
    );
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    for required in REQUIRED {
        assert!(
            names.iter().any(|n| n == required),
            "required corpus case {required} is missing"
        );
    }
    let (mut accepted, mut rejected, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let case = read_json(file);
        let name = case["name"].as_str().unwrap();
        assert_eq!(
            Some(name),
            file.file_stem().and_then(|s| s.to_str()),
            "file name must match case name"
        );
        assert!(!case["description"].as_str().unwrap().is_empty());
        let token = case["token"].as_str().unwrap();
        let validator = if case["allow_hs256"].as_bool().unwrap() {
            &ctx.validator_hs256
        } else {
            &ctx.validator_ed_only
        };
        let expected = Expectation {
            tenant: case["expect_tenant"].as_str(),
            room: None,
        };
        let result = validator.validate(token, ctx.now, expected);
        match (case["expected"].as_str().unwrap(), &result) {
            ("accept", Ok(claims)) => {
                accepted += 1;
                if let Some(t) = expected.tenant {
                    assert_eq!(claims.tenant.as_str(), t);
                }
            }
            ("reject", Err(e)) => {
                rejected += 1;
                let want = case["error"].as_str().unwrap();
                if e.code() != want {
                    failures.push(format!("{name}: expected {want}, got {}", e.code()));
                }
                assert_no_echo(name, token, &e.to_string());
                assert_eq!(
                    e.http_status(),
                    if want == "wrong_tenant" { 403 } else { 401 }
                );
            }
            (verdict, other) => failures.push(format!("{name}: expected {verdict}, got {other:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
    assert!(
        accepted >= 5 && rejected >= 90,
        "accepted {accepted}, rejected {rejected}"
    );
}

/// An error message never contains any segment of the token.
fn assert_no_echo(name: &str, token: &str, message: &str) {
    for segment in token.split('.').filter(|s| s.len() >= 8) {
        assert!(
            !message.contains(segment),
            "{name}: message echoes the token"
        );
    }
}

#[test]
fn corpus_tokens_are_rejected_after_any_single_character_change() {
    // The accepted tokens are the most valuable to forge: no one-character edit survives.
    let ctx = context();
    for file in case_files() {
        let case = read_json(&file);
        if case["expected"] != "accept" {
            continue;
        }
        let token = case["token"].as_str().unwrap();
        let validator = if case["allow_hs256"].as_bool().unwrap() {
            &ctx.validator_hs256
        } else {
            &ctx.validator_ed_only
        };
        let expected = Expectation {
            tenant: case["expect_tenant"].as_str(),
            room: None,
        };
        for i in (0..token.len()).step_by(7) {
            let mut bytes = token.as_bytes().to_vec();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(bytes).unwrap();
            assert!(
                validator.validate(&forged, ctx.now, expected).is_err(),
                "{}: edit at {i} accepted",
                case["name"]
            );
        }
    }
}
