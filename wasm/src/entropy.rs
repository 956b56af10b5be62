//! Randomness for sealing, drawn up front from the browser's CSPRNG.
//!
//! `hushpay_card::sealed::seal` takes the RNG as an input. Its `RngCore` cannot fail, but
//! `crypto.getRandomValues` can (in principle), so the wasm layer asks the browser for a
//! fixed pool of bytes first — a failure there is an ordinary error — and hands sealing an
//! [`EntropyPool`] that serves those bytes. Should sealing ever want more than the pool
//! holds, the pool marks itself exhausted and the seal is discarded: it never pads with
//! predictable bytes silently.

use hushpay_card::sealed::{CryptoRng, RngCore};
use zeroize::Zeroizing;

/// Bytes drawn per seal. One HPKE base-mode seal with X25519 uses 32 (the ephemeral key).
pub const POOL_LEN: usize = 128;

/// A one-shot RNG over bytes that came from a CSPRNG.
pub struct EntropyPool {
    bytes: Zeroizing<[u8; POOL_LEN]>,
    used: usize,
    exhausted: bool,
}

impl std::fmt::Debug for EntropyPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntropyPool")
            .field("used", &self.used)
            .field("exhausted", &self.exhausted)
            .finish_non_exhaustive()
    }
}

impl EntropyPool {
    /// A pool over `bytes`, which must come from a cryptographically secure source.
    pub fn new(bytes: [u8; POOL_LEN]) -> EntropyPool {
        EntropyPool {
            bytes: Zeroizing::new(bytes),
            used: 0,
            exhausted: false,
        }
    }

    /// True if a caller asked for more bytes than the pool held.
    pub fn exhausted(&self) -> bool {
        self.exhausted
    }
}

impl RngCore for EntropyPool {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0u8; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }

    fn next_u64(&mut self) -> u64 {
        let mut b = [0u8; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }

    fn fill_bytes(&mut self, dest: &mut [u8]) {
        let end = self.used.saturating_add(dest.len());
        match self.bytes.get(self.used..end) {
            Some(src) => {
                dest.copy_from_slice(src);
                self.used = end;
            }
            None => {
                // Never reached by one seal; the caller checks `exhausted` and refuses.
                dest.fill(0);
                self.exhausted = true;
            }
        }
    }
}

impl CryptoRng for EntropyPool {}

/// Fills a pool from `crypto.getRandomValues` (wasm32 in a browser only).
#[cfg(target_arch = "wasm32")]
pub fn from_browser() -> Result<EntropyPool, wasm_bindgen::JsValue> {
    use wasm_bindgen::prelude::*;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = crypto, js_name = getRandomValues, catch)]
        fn get_random_values(buf: &mut [u8]) -> Result<JsValue, JsValue>;
    }

    let mut bytes = [0u8; POOL_LEN];
    get_random_values(&mut bytes)?;
    let pool = EntropyPool::new(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    Ok(pool)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_bytes_once_then_refuses() {
        let mut bytes = [0u8; POOL_LEN];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut pool = EntropyPool::new(bytes);
        let mut a = [0u8; 100];
        pool.fill_bytes(&mut a);
        assert_eq!(a[99], 99);
        assert!(!pool.exhausted());
        assert_eq!(pool.next_u32(), u32::from_le_bytes([100, 101, 102, 103]));
        let mut b = [7u8; 32];
        pool.fill_bytes(&mut b);
        assert!(pool.exhausted());
        assert!(!format!("{pool:?}").contains("101"));
    }
}
