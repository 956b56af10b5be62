//! Keys: PEM round trips, kid, redaction, rotation, production checks, the key file helper.

use std::sync::Arc;

use hushpay_auth::keyfile::{KeyFileOutcome, load_or_generate};
use hushpay_auth::{
    AuthError, Expectation, Hs256Secret, KeyOrigin, KeySet, PublicKey, Role, SigningKey,
};

use crate::support::{NOW, request, signer, test_key, validator};

#[test]
fn pem_round_trip_keeps_the_kid() {
    let key = SigningKey::generate(KeyOrigin::Production);
    let pem = key.to_pkcs8_pem().unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    let back = SigningKey::from_pkcs8_pem(&pem, KeyOrigin::Production).unwrap();
    assert_eq!(back.kid(), key.kid());
    assert_eq!(key.kid().len(), 16);
    let public_pem = key.public_key().to_public_pem().unwrap();
    let public = PublicKey::from_public_pem(&public_pem, KeyOrigin::Production).unwrap();
    assert_eq!(public.kid(), key.kid());
    assert_ne!(SigningKey::generate(KeyOrigin::Production).kid(), key.kid());
}

#[test]
fn bad_pem_is_a_typed_error() {
    assert!(SigningKey::from_pkcs8_pem("not a pem", KeyOrigin::Production).is_err());
    let public_pem = test_key(1).public_key().to_public_pem().unwrap();
    assert!(SigningKey::from_pkcs8_pem(&public_pem, KeyOrigin::Production).is_err());
}

#[test]
fn debug_output_never_shows_key_material() {
    let key = test_key(9);
    let pem = key.to_pkcs8_pem().unwrap();
    let body: String = pem.lines().nth(1).unwrap().to_owned();
    let secret = Hs256Secret::new(b"0123456789abcdef0123456789abcdef-secret").unwrap();
    let keys = KeySet::new(key.clone())
        .with_hs256_verifier(secret.clone())
        .unwrap();
    for text in [
        format!("{key:?}"),
        format!("{secret:?}"),
        format!("{keys:?}"),
        format!("{:?}", key.public_key()),
    ] {
        assert!(!text.contains(&body), "{text}");
        assert!(!text.contains("0123456789abcdef"), "{text}");
        assert!(!text.contains("[9, 9, 9"), "{text}");
    }
}

#[test]
fn rotation_keeps_old_tokens_valid_until_retired() {
    let old = Arc::new(KeySet::new(test_key(1)));
    let old_token = signer(&old)
        .mint(request(Role::Patient), NOW)
        .unwrap()
        .token;
    let old_kid = old.active_kid().to_owned();
    let mut rotated = (*old).clone().rotate(test_key(2));
    assert_ne!(rotated.active_kid(), old_kid);
    let shared = Arc::new(rotated.clone());
    let new_token = signer(&shared)
        .mint(request(Role::Patient), NOW)
        .unwrap()
        .token;
    assert!(
        validator(&shared)
            .validate(&old_token, NOW, Expectation::any_tenant())
            .is_ok()
    );
    assert!(
        validator(&shared)
            .validate(&new_token, NOW, Expectation::any_tenant())
            .is_ok()
    );
    assert_eq!(shared.jwks()["keys"].as_array().unwrap().len(), 2);
    assert!(rotated.retire(&old_kid));
    let retired = Arc::new(rotated);
    assert_eq!(
        validator(&retired).validate(&old_token, NOW, Expectation::any_tenant()),
        Err(AuthError::KeyIdUnknown)
    );
    assert!(
        validator(&retired)
            .validate(&new_token, NOW, Expectation::any_tenant())
            .is_ok()
    );
    assert_eq!(retired.jwks()["keys"].as_array().unwrap().len(), 1);
}

#[test]
fn published_keys_verify_and_duplicates_are_refused() {
    let previous = test_key(3);
    let token = signer(&Arc::new(KeySet::new(previous.clone())))
        .mint(request(Role::Agent), NOW)
        .unwrap()
        .token;
    let keys = Arc::new(
        KeySet::new(test_key(4))
            .with_published(previous.public_key())
            .unwrap(),
    );
    assert!(
        validator(&keys)
            .validate(&token, NOW, Expectation::any_tenant())
            .is_ok()
    );
    assert!(
        KeySet::new(test_key(4))
            .with_published(test_key(4).public_key())
            .is_err()
    );
}

#[test]
fn production_refuses_development_keys() {
    let dev = KeySet::new(SigningKey::generate(KeyOrigin::Development));
    assert!(dev.has_development_keys());
    assert!(dev.ensure_production_ready().is_err());
    let prod = KeySet::new(SigningKey::generate(KeyOrigin::Production));
    assert!(!prod.has_development_keys());
    assert!(prod.ensure_production_ready().is_ok());
    let with_hs = prod
        .with_hs256_verifier(Hs256Secret::new(&[1u8; 32]).unwrap())
        .unwrap();
    assert!(with_hs.ensure_production_ready().is_err());
    let mixed = KeySet::new(SigningKey::generate(KeyOrigin::Production))
        .with_published(SigningKey::generate(KeyOrigin::Development).public_key())
        .unwrap();
    assert!(mixed.ensure_production_ready().is_err());
}

#[test]
fn load_or_generate_creates_once_then_loads_the_same_key() {
    let dir =
        std::env::temp_dir().join(format!("hushpay-auth-test-{}-{}", std::process::id(), NOW));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("signing.pem");
    let (first, outcome) = load_or_generate(&path, KeyOrigin::Development).unwrap();
    assert_eq!(outcome, KeyFileOutcome::Generated);
    assert!(first.is_development());
    let (second, outcome) = load_or_generate(&path, KeyOrigin::Development).unwrap();
    assert_eq!(outcome, KeyFileOutcome::Loaded);
    assert_eq!(first.kid(), second.kid());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    std::fs::write(&path, "garbage").unwrap();
    assert!(load_or_generate(&path, KeyOrigin::Development).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
