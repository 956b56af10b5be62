//! The JWKS: RFC 8037 shape, no secrets, and enough on its own to verify a token.

use std::sync::Arc;

use hushpay_auth::{Hs256Secret, KeySet, Role};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::support::{AUD, ISS, NOW, keyset, request, signer, test_key};

#[test]
fn jwks_has_the_rfc8037_shape_and_no_private_parts() {
    let key = test_key(1);
    let secret = Hs256Secret::new(b"TEST-ONLY-a-development-hs256-secret-of-length").unwrap();
    let keys = KeySet::new(key.clone())
        .with_hs256_verifier(secret.clone())
        .unwrap();
    let jwks = keys.jwks();
    let list = jwks["keys"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    let jwk = list[0].as_object().unwrap();
    let mut members: Vec<&str> = jwk.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(members, ["alg", "crv", "kid", "kty", "use", "x"]);
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    assert_eq!(jwk["alg"], "EdDSA");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"], key.kid());
    assert_eq!(jwk["x"].as_str().unwrap().len(), 43);
    let text = jwks.to_string();
    assert!(!text.contains(secret.kid()) && !text.contains("TEST-ONLY"));
    let hs_only = KeySet::new_hs256_development(secret);
    assert_eq!(hs_only.jwks(), serde_json::json!({"keys": []}));
}

#[test]
fn a_minted_token_verifies_using_only_the_jwks_json() {
    let keys = keyset();
    let token = signer(&keys).mint(request(Role::Agent), NOW).unwrap().token;
    // What the gateway's acceptance test does: fetch the JWKS as text, verify with jsonwebtoken.
    let text = keys.jwks().to_string();
    let set: JwkSet = serde_json::from_str(&text).unwrap();
    let header = jsonwebtoken::decode_header(&token).unwrap();
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let decoding = DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[AUD]);
    validation.set_issuer(&[ISS]);
    validation.validate_exp = false; // the token is minted at a fixed test time
    let data = jsonwebtoken::decode::<serde_json::Value>(&token, &decoding, &validation).unwrap();
    assert_eq!(data.claims["role"], "agent");
    assert_eq!(data.claims["tenant"], "tenant-a");
    // And a token from another key does not verify against this JWKS.
    let other = signer(&Arc::new(KeySet::new(test_key(5))))
        .mint(request(Role::Agent), NOW)
        .unwrap()
        .token;
    let mut forged: Vec<&str> = other.split('.').collect();
    let ours: Vec<&str> = token.split('.').collect();
    forged[0] = ours[0];
    let forged = forged.join(".");
    assert!(jsonwebtoken::decode::<serde_json::Value>(&forged, &decoding, &validation).is_err());
}
