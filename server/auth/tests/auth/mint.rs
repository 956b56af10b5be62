//! Minting and round trips through the validator.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hushpay_auth::{
    AuthError, ConfigError, Expectation, Grants, Hs256Secret, IdentifierError, KeySet, MintError,
    Role, Signer, SignerConfig, Validator, ValidatorConfig,
};

use crate::support::{AUD, ISS, NOW, keyset, request, signer, validator};

#[test]
fn minted_token_validates_with_default_ten_minute_lifetime() {
    let keys = keyset();
    let minted = signer(&keys).mint(request(Role::Patient), NOW).unwrap();
    assert_eq!(minted.claims.exp - minted.claims.iat, 600);
    assert_eq!(minted.claims.nbf, NOW);
    let claims = validator(&keys)
        .validate(&minted.token, NOW + 1, Expectation::tenant("tenant-a"))
        .unwrap();
    assert_eq!(claims, minted.claims);
    assert_eq!(claims.iss, ISS);
    assert_eq!(claims.aud, AUD);
    assert_eq!(claims.sub.as_str(), "user-1");
}

/// The minting API key's id travels in the `akid` claim and comes back validated; a malformed
/// id is refused at minting, and a token without one has no `akid` at all.
#[test]
fn the_minting_api_key_id_round_trips_as_akid() {
    let keys = keyset();
    let mut req = request(Role::Patient);
    req.api_key_id = Some("key_AbC123".into());
    let minted = signer(&keys).mint(req.clone(), NOW).unwrap();
    let claims = validator(&keys)
        .validate(&minted.token, NOW, Expectation::any_tenant())
        .unwrap();
    assert_eq!(claims.akid.as_deref(), Some("key_AbC123"));
    let unbound = signer(&keys).mint(request(Role::Patient), NOW).unwrap();
    assert!(claims_json(&unbound.token).get("akid").is_none());
    for bad in ["", "key-1", "key_1 ", &"k".repeat(65)] {
        req.api_key_id = Some(bad.to_owned());
        assert_eq!(
            signer(&keys).mint(req.clone(), NOW).unwrap_err(),
            MintError::ApiKeyId,
            "{bad:?}"
        );
    }
}

fn claims_json(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn minted_token_expires_after_its_lifetime_plus_leeway() {
    let keys = keyset();
    let minted = signer(&keys).mint(request(Role::Agent), NOW).unwrap();
    let v = validator(&keys);
    assert!(
        v.validate(&minted.token, NOW + 604, Expectation::any_tenant())
            .is_ok()
    );
    assert_eq!(
        v.validate(&minted.token, NOW + 605, Expectation::any_tenant()),
        Err(AuthError::Expired)
    );
    assert_eq!(
        v.validate(&minted.token, NOW - 60, Expectation::any_tenant()),
        Err(AuthError::NotYetValid)
    );
}

#[test]
fn default_grants_follow_the_role() {
    let p = Role::Patient.default_grants();
    assert!(
        p.can_publish
            && p.can_subscribe
            && p.can_chat
            && !p.can_request_payment
            && !p.can_view_recordings
    );
    let a = Role::Agent.default_grants();
    assert!(
        a.can_publish
            && a.can_subscribe
            && a.can_chat
            && a.can_request_payment
            && !a.can_view_recordings
    );
    let s = Role::Supervisor.default_grants();
    assert!(
        !s.can_publish
            && s.can_subscribe
            && s.can_chat
            && !s.can_request_payment
            && s.can_view_recordings
    );
    let keys = keyset();
    let minted = signer(&keys).mint(request(Role::Supervisor), NOW).unwrap();
    assert_eq!(minted.claims.grants, s);
}

#[test]
fn explicit_grants_replace_the_defaults_and_serialize_camel_case() {
    let keys = keyset();
    let mut req = request(Role::Agent);
    req.grants = Some(Grants {
        can_chat: true,
        ..Grants::NONE
    });
    let minted = signer(&keys).mint(req, NOW).unwrap();
    let json = serde_json::to_value(&minted.claims).unwrap();
    assert_eq!(
        json["grants"],
        serde_json::json!({"canPublish": false, "canSubscribe": false, "canChat": true, "canRequestPayment": false, "canViewRecordings": false})
    );
    assert_eq!(json["role"], "agent");
    assert!(json["exp"].is_u64() && json["nbf"].is_u64() && json["iat"].is_u64());
}

#[test]
fn lifetime_above_the_maximum_is_refused() {
    let keys = keyset();
    let mut config = SignerConfig::new(ISS, AUD);
    config.max_ttl = Duration::from_secs(900);
    let signer = Signer::new(config, keys).unwrap();
    let mut req = request(Role::Patient);
    req.ttl = Some(Duration::from_secs(901));
    let err = signer.mint(req.clone(), NOW).unwrap_err();
    assert_eq!(
        err,
        MintError::TtlTooLong {
            requested_secs: 901,
            max_secs: 900
        }
    );
    assert_eq!(err.code(), "ttl_too_long");
    req.ttl = Some(Duration::from_secs(900));
    assert_eq!(signer.mint(req.clone(), NOW).unwrap().claims.exp, NOW + 900);
    req.ttl = Some(Duration::ZERO);
    assert_eq!(signer.mint(req, NOW).unwrap_err(), MintError::TtlZero);
}

#[test]
fn identifiers_are_validated_with_typed_errors() {
    let keys = keyset();
    let s = signer(&keys);
    let mint_with = |f: &dyn Fn(&mut hushpay_auth::MintRequest)| {
        let mut req = request(Role::Patient);
        f(&mut req);
        s.mint(req, NOW)
    };
    assert_eq!(
        mint_with(&|r| r.identity = String::new()).unwrap_err(),
        MintError::Identifier(IdentifierError::Empty { field: "identity" })
    );
    assert_eq!(
        mint_with(&|r| r.room = "r".repeat(129)).unwrap_err(),
        MintError::Identifier(IdentifierError::TooLong {
            field: "room",
            max: 128
        })
    );
    assert!(mint_with(&|r| r.room = "r".repeat(128)).is_ok());
    for bad in ["a b", "a/b", "ä", "a\nb", "<x>", "a\"b", "a\u{200b}b"] {
        let err = mint_with(&|r| r.tenant = bad.into()).unwrap_err();
        assert_eq!(
            err,
            MintError::Identifier(IdentifierError::BadCharacter { field: "tenant" })
        );
        assert_eq!(err.code(), "identifier_bad_character");
    }
    assert!(mint_with(&|r| r.identity = "pat.1_x:y@z-2".into()).is_ok());
}

#[test]
fn every_jti_is_unique() {
    let keys = keyset();
    let s = signer(&keys);
    let jtis: HashSet<String> = (0..500)
        .map(|_| s.mint(request(Role::Patient), NOW).unwrap().claims.jti)
        .collect();
    assert_eq!(jtis.len(), 500);
    assert!(jtis.iter().all(|j| j.len() == 22));
}

#[test]
fn tenant_and_room_binding_map_to_403() {
    let keys = keyset();
    let token = signer(&keys)
        .mint(request(Role::Patient), NOW)
        .unwrap()
        .token;
    let v = validator(&keys);
    let err = v
        .validate(&token, NOW, Expectation::tenant("tenant-b"))
        .unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("wrong_tenant", 403));
    let err = v
        .validate(
            &token,
            NOW,
            Expectation::tenant("tenant-a").with_room("room-2"),
        )
        .unwrap_err();
    assert_eq!((err.code(), err.http_status()), ("wrong_room", 403));
    assert!(
        v.validate(
            &token,
            NOW,
            Expectation::tenant("tenant-a").with_room("room-1")
        )
        .is_ok()
    );
}

#[test]
fn hs256_needs_explicit_permission_on_both_sides() {
    let secret = Hs256Secret::new(&[7u8; 32]).unwrap();
    let keys = Arc::new(KeySet::new_hs256_development(secret));
    assert_eq!(
        Signer::new(SignerConfig::new(ISS, AUD), keys.clone()).unwrap_err(),
        ConfigError::Hs256NotAllowed
    );
    let mut sc = SignerConfig::new(ISS, AUD);
    sc.allow_hs256 = true;
    let token = Signer::new(sc, keys.clone())
        .unwrap()
        .mint(request(Role::Patient), NOW)
        .unwrap()
        .token;
    let refusing = Validator::new(ValidatorConfig::new(ISS, AUD), keys.clone()).unwrap();
    assert_eq!(
        refusing.validate(&token, NOW, Expectation::any_tenant()),
        Err(AuthError::AlgorithmNotAllowed)
    );
    let mut vc = ValidatorConfig::new(ISS, AUD);
    vc.allow_hs256 = true;
    let allowing = Validator::new(vc, keys.clone()).unwrap();
    assert!(
        allowing
            .validate(&token, NOW, Expectation::tenant("tenant-a"))
            .is_ok()
    );
    assert!(keys.ensure_production_ready().is_err());
    assert!(Hs256Secret::new(&[7u8; 31]).is_err());
}

#[test]
fn validator_config_limits() {
    let keys = keyset();
    let mut c = ValidatorConfig::new(ISS, AUD);
    c.leeway_secs = 6;
    assert_eq!(
        Validator::new(c, keys.clone()).unwrap_err(),
        ConfigError::LeewayTooLarge(6)
    );
    assert!(Validator::new(ValidatorConfig::new("", AUD), keys.clone()).is_err());
    assert!(Validator::new(ValidatorConfig::new(ISS, ""), keys.clone()).is_err());
    let mut c = ValidatorConfig::new(ISS, AUD);
    c.max_token_len = 100_000;
    assert_eq!(Validator::new(c, keys).unwrap_err(), ConfigError::SizeCap);
}

#[test]
fn size_cap_comes_first() {
    let keys = keyset();
    let huge = "a".repeat(64 * 1024);
    let err = validator(&keys)
        .validate(&huge, NOW, Expectation::any_tenant())
        .unwrap_err();
    assert_eq!(
        err,
        AuthError::TokenTooLarge {
            len: 64 * 1024,
            max: 4096
        }
    );
    assert_eq!(err.code(), "token_too_large");
}

#[test]
fn error_codes_are_distinct_and_only_tenant_and_room_are_403() {
    let all = [
        AuthError::TokenTooLarge { len: 1, max: 1 },
        AuthError::Malformed("x"),
        AuthError::NestingTooDeep { max: 1 },
        AuthError::AlgorithmNotAllowed,
        AuthError::KeyIdMissing,
        AuthError::KeyIdUnknown,
        AuthError::HeaderForbidden("jku"),
        AuthError::SignatureInvalid,
        AuthError::ClaimMissing("exp"),
        AuthError::ClaimInvalid("exp"),
        AuthError::Expired,
        AuthError::NotYetValid,
        AuthError::WrongAudience,
        AuthError::WrongIssuer,
        AuthError::WrongTenant,
        AuthError::WrongRoom,
        AuthError::Invalid,
    ];
    let codes: HashSet<&str> = all.iter().map(AuthError::code).collect();
    assert_eq!(codes.len(), all.len());
    for e in &all {
        let forbidden = matches!(e, AuthError::WrongTenant | AuthError::WrongRoom);
        assert_eq!(e.http_status(), if forbidden { 403 } else { 401 });
    }
    for code in [
        "token_expired",
        "token_invalid",
        "token_not_yet_valid",
        "wrong_tenant",
        "token_too_large",
    ] {
        assert!(codes.contains(code), "{code}");
    }
}
