//! Shared fixtures: a fixed test key, signer and validator.

use std::sync::Arc;

use hushpay_auth::{
    KeyOrigin, KeySet, MintRequest, Role, Signer, SignerConfig, SigningKey, Validator,
    ValidatorConfig,
};

pub const ISS: &str = "https://hushpay.test";
pub const AUD: &str = "hushpay";
pub const NOW: u64 = 1_800_000_000;

pub fn test_key(seed: u8) -> SigningKey {
    SigningKey::from_seed(&[seed; 32], KeyOrigin::Development)
}

pub fn keyset() -> Arc<KeySet> {
    Arc::new(KeySet::new(test_key(1)))
}

pub fn signer(keys: &Arc<KeySet>) -> Signer {
    Signer::new(SignerConfig::new(ISS, AUD), keys.clone()).unwrap()
}

pub fn validator(keys: &Arc<KeySet>) -> Validator {
    Validator::new(ValidatorConfig::new(ISS, AUD), keys.clone()).unwrap()
}

pub fn request(role: Role) -> MintRequest {
    MintRequest {
        tenant: "tenant-a".into(),
        identity: "user-1".into(),
        room: "room-1".into(),
        role,
        grants: None,
        ttl: None,
        api_key_id: None,
    }
}
