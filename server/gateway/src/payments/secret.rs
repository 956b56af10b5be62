//! Client secrets of card-form and link payments: `pcs_` + 32 base62 characters (about 190
//! bits), shown once at creation, stored as a SHA-256 hash, compared in constant time.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// A fresh client secret.
pub fn generate() -> Zeroizing<String> {
    Zeroizing::new(format!("pcs_{}", crate::ids::base62(32)))
}

/// The stored form: lower-case hex SHA-256.
pub fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// True when `presented` hashes to `stored` (constant-time comparison).
pub fn matches(presented: &str, stored: &str) -> bool {
    presented.starts_with("pcs_")
        && presented.len() <= 64
        && bool::from(hash(presented).as_bytes().ct_eq(stored.as_bytes()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn secrets_have_their_shape_and_only_their_hash_matches() {
        let s = generate();
        assert!(s.starts_with("pcs_") && s.len() == 36);
        assert!(crate::ids::is_base62(&s[4..]));
        let h = hash(&s);
        assert!(matches(&s, &h));
        assert!(!matches(&generate(), &h));
        assert!(!matches(&h, &h), "the hash itself is not a secret");
        assert!(!matches("", &h));
    }
}
