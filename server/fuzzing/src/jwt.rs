//! Target `jwt`: a participant token as it arrives (`?access_token=`, `Authorization`, the
//! signalling `auth` frame), through [`Validator::validate`], whose first step is the
//! structural pre-check (`server/auth/src/precheck.rs`: segments, strict base64url, JSON depth,
//! duplicate members, the header allowlist, claim types) before the JWT library sees anything.
//!
//! The keys, issuer, audience and `now` are the TEST-ONLY ones of the JWT attack corpus
//! (`server/auth/tests/jwt_corpus/_context.json`, read at compile time), so the corpus tokens
//! are the seeds and its valid tokens validate here.
//!
//! Invariants: no panic, with HS256 refused and allowed; a token is accepted only if its
//! signature is byte for byte what the corpus key computes over its first two segments (no
//! forgery, no malleable signature, no `alg` confusion), and only if its times hold at `now`
//! within the leeway.

use std::sync::{Arc, OnceLock};

use hushpay_auth::{
    Expectation, Hs256Secret, KeyOrigin, KeySet, SigningKey, Validator, ValidatorConfig,
};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::Value;

const CONTEXT: &str = include_str!("../../auth/tests/jwt_corpus/_context.json");

struct Context {
    now: u64,
    leeway: u64,
    ed_only: Validator,
    with_hs256: Validator,
    ed_key: EncodingKey,
    hs_key: EncodingKey,
}

fn context() -> &'static Context {
    static CTX: OnceLock<Context> = OnceLock::new();
    CTX.get_or_init(|| {
        let ctx: Value = match serde_json::from_str(CONTEXT) {
            Ok(v) => v,
            Err(e) => panic!("_context.json: {e}"),
        };
        let text = |name: &str| match ctx[name].as_str() {
            Some(s) => s.to_owned(),
            None => panic!("_context.json lacks {name}"),
        };
        let number = |name: &str| match ctx[name].as_u64() {
            Some(n) => n,
            None => panic!("_context.json lacks {name}"),
        };
        let pem = text("ed25519_private_pem");
        let Ok(key) = SigningKey::from_pkcs8_pem(&pem, KeyOrigin::Development) else {
            panic!("corpus key");
        };
        let secret = text("hs256_secret");
        let Ok(hs) = Hs256Secret::new(secret.as_bytes()) else {
            panic!("corpus secret");
        };
        let Ok(keys) = KeySet::new(key).with_hs256_verifier(hs) else {
            panic!("corpus key set");
        };
        let keys = Arc::new(keys);
        let mut config = ValidatorConfig::new(text("iss"), text("aud"));
        config.leeway_secs = number("leeway_secs");
        let validator = |config: ValidatorConfig| match Validator::new(config, keys.clone()) {
            Ok(v) => v,
            Err(e) => panic!("validator: {e}"),
        };
        let ed_only = validator(config.clone());
        config.allow_hs256 = true;
        let with_hs256 = validator(config);
        let Ok(ed_key) = EncodingKey::from_ed_pem(pem.as_bytes()) else {
            panic!("corpus key as PEM");
        };
        Context {
            now: number("now"),
            leeway: number("leeway_secs"),
            ed_only,
            with_hs256,
            ed_key,
            hs_key: EncodingKey::from_secret(secret.as_bytes()),
        }
    })
}

pub fn run(data: &[u8]) {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = context();
    for (validator, hs256) in [(&ctx.ed_only, false), (&ctx.with_hs256, true)] {
        for expected in [Expectation::any_tenant(), Expectation::tenant("tenant-a")] {
            if let Ok(claims) = validator.validate(token, ctx.now, expected) {
                signed_by_us(ctx, token, hs256);
                assert!(ctx.now < claims.exp + ctx.leeway, "expired token accepted");
                assert!(claims.nbf <= ctx.now + ctx.leeway, "future token accepted");
                assert!(claims.iat <= ctx.now + ctx.leeway, "future token accepted");
            }
        }
    }
}

fn signed_by_us(ctx: &Context, token: &str, hs256: bool) {
    let Some((message, signature)) = token.rsplit_once('.') else {
        panic!("an accepted token has segments");
    };
    let sign = |key: &EncodingKey, alg: Algorithm| {
        jsonwebtoken::crypto::sign(message.as_bytes(), key, alg).unwrap_or_default()
    };
    let ours = signature == sign(&ctx.ed_key, Algorithm::EdDSA)
        || (hs256 && signature == sign(&ctx.hs_key, Algorithm::HS256));
    assert!(ours, "a token our key did not sign was accepted");
}
