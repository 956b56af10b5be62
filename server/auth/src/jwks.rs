//! The JSON Web Key Set (RFC 7517) of the published Ed25519 keys, in RFC 8037 form.

use crate::keys::KeySet;

impl KeySet {
    /// `{"keys":[{"kty":"OKP","crv":"Ed25519","x":..,"kid":..,"alg":"EdDSA","use":"sig"}, ..]}`,
    /// active key first. Only Ed25519 public keys: HS256 secrets and private parts never
    /// appear (an HS256-only development key set publishes an empty list).
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<serde_json::Value> = self.public_keys().map(|k| k.jwk()).collect();
        serde_json::json!({ "keys": keys })
    }
}
