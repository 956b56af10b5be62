//! Random identifiers: a type prefix plus base62 from the OS CSPRNG.

use rand::Rng;
use rand::rngs::OsRng;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `len` base62 characters (about 5.95 bits each).
pub fn base62(len: usize) -> String {
    let mut rng = OsRng;
    (0..len)
        .map(|_| BASE62[rng.gen_range(0..BASE62.len())] as char)
        .collect()
}

/// True when `s` is non-empty base62.
pub fn is_base62(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_base62_of_the_requested_length_and_distinct() {
        let a = base62(22);
        let b = base62(22);
        assert_eq!(a.len(), 22);
        assert!(is_base62(&a));
        assert_ne!(a, b);
        assert!(!is_base62(""));
        assert!(!is_base62("ab_c"));
    }
}
