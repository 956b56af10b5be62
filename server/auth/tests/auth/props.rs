//! Property tests: the validator never panics, whatever it is given.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hushpay_auth::{Expectation, Role};
use proptest::prelude::*;
use serde_json::Value;

use crate::support::{NOW, keyset, request, signer, validator};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,20}".prop_map(Value::String),
        prop_oneof![
            Just("EdDSA"),
            Just("HS256"),
            Just("none"),
            Just("JWT"),
            Just("patient"),
            Just("tenant-a")
        ]
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(6, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..8)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop_oneof![
            Just("alg"),
            Just("kid"),
            Just("typ"),
            Just("jku"),
            Just("exp"),
            Just("nbf"),
            Just("iat"),
            Just("aud"),
            Just("iss"),
            Just("sub"),
            Just("tenant"),
            Just("room"),
            Just("role"),
            Just("grants"),
            Just("jti"),
            Just("canPublish"),
        ]
        .prop_map(String::from),
        "[a-z]{1,6}",
    ]
}

/// A header/payload pair signed with the validator's own key, so it reaches the deep checks.
fn signed(header: &Value, payload: &Value) -> String {
    let input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(payload.to_string())
    );
    // Seed 1 is `support::test_key(1)`, the key of `support::keyset()`.
    let sig = ed25519_dalek::Signer::sign(
        &ed25519_dalek::SigningKey::from_bytes(&[1u8; 32]),
        input.as_bytes(),
    );
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_strings_never_panic(token in ".{0,600}") {
        let keys = keyset();
        let _ = validator(&keys).validate(&token, NOW, Expectation::tenant("tenant-a"));
    }

    #[test]
    fn arbitrary_bytes_as_utf8_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let keys = keyset();
        let token = String::from_utf8_lossy(&bytes);
        let _ = validator(&keys).validate(&token, NOW, Expectation::any_tenant());
    }

    #[test]
    fn dotted_base64_garbage_never_panics(parts in prop::collection::vec("[A-Za-z0-9_=+/-]{0,120}", 0..5)) {
        let keys = keyset();
        let _ = validator(&keys).validate(&parts.join("."), NOW, Expectation::any_tenant());
    }

    #[test]
    fn arbitrary_json_header_and_payload_never_panic(header in json_value(), payload in json_value(), now in any::<u64>()) {
        let keys = keyset();
        let v = validator(&keys);
        let token = signed(&header, &payload);
        let result = v.validate(&token, now, Expectation::tenant("tenant-a"));
        // An arbitrary header can only pass with exactly our alg and kid.
        if result.is_ok() {
            prop_assert_eq!(&header["alg"], "EdDSA");
            prop_assert_eq!(header["kid"].as_str(), Some(keys.active_kid()));
        }
    }

    #[test]
    fn arbitrary_claims_under_a_valid_header_never_panic(
        payload in prop::collection::btree_map(key(), json_value(), 0..14),
        now in (NOW - 1000)..(NOW + 1000),
    ) {
        let keys = keyset();
        let header = serde_json::json!({"alg": "EdDSA", "kid": keys.active_kid(), "typ": "JWT"});
        let payload = Value::Object(payload.into_iter().collect());
        let _ = validator(&keys).validate(&signed(&header, &payload), now, Expectation::any_tenant());
    }

    #[test]
    fn any_single_byte_edit_of_a_valid_token_is_rejected(pos in any::<prop::sample::Index>(), byte in 0x21u8..0x7f) {
        let keys = keyset();
        let token = signer(&keys).mint(request(Role::Patient), NOW).unwrap().token;
        let i = pos.index(token.len());
        prop_assume!(token.as_bytes()[i] != byte);
        let mut bytes = token.into_bytes();
        bytes[i] = byte;
        let forged = String::from_utf8(bytes).unwrap();
        prop_assert!(validator(&keys).validate(&forged, NOW, Expectation::any_tenant()).is_err());
    }
}
