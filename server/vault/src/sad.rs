//! Sensitive authentication data (the CVC): in memory only, single use, with a TTL.
//!
//! PCI DSS 3.3.1: SAD is never stored after authorization, not even encrypted. The CVC is
//! held in a [`Cvc`] (zeroized on drop) under a key such as a token or payment id, handed out
//! once by [`SadStore::take`], and dropped when it expires. Nothing here touches a store.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hushpay_card::Cvc;

/// Default time a CVC may wait for its authorization.
pub const DEFAULT_SAD_TTL: Duration = Duration::from_secs(5 * 60);

/// In-memory, single-use CVC holder.
#[derive(Debug)]
pub struct SadStore {
    ttl: Duration,
    items: Mutex<HashMap<String, (Instant, Cvc)>>,
}

impl Default for SadStore {
    fn default() -> Self {
        SadStore::new(DEFAULT_SAD_TTL)
    }
}

impl SadStore {
    /// A store whose entries live `ttl`.
    pub fn new(ttl: Duration) -> SadStore {
        SadStore {
            ttl,
            items: Mutex::new(HashMap::new()),
        }
    }

    /// Holds `cvc` under `key`, replacing (and zeroizing) any previous one.
    pub fn put(&self, key: &str, cvc: Cvc) {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.retain(|_, (at, _)| at.elapsed() < self.ttl);
        items.insert(key.to_owned(), (Instant::now(), cvc));
    }

    /// Takes the CVC out: it is gone from the store afterwards. `None` when absent or expired.
    pub fn take(&self, key: &str) -> Option<Cvc> {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        let (at, cvc) = items.remove(key)?;
        (at.elapsed() < self.ttl).then_some(cvc)
    }

    /// CVCs held now, expired or not (nothing is purged by asking).
    pub fn held(&self) -> usize {
        self.items.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Drops every expired entry; returns how many are left.
    pub fn purge_expired(&self) -> usize {
        let mut items = self.items.lock().unwrap_or_else(|p| p.into_inner());
        items.retain(|_, (at, _)| at.elapsed() < self.ttl);
        items.len()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cvc_is_taken_once_and_expires() {
        let sad = SadStore::new(Duration::from_millis(50));
        sad.put("tok_a", Cvc::parse("123", None).unwrap());
        assert_eq!(sad.take("tok_a").unwrap().expose_digits(), "123");
        assert!(sad.take("tok_a").is_none(), "single use");
        sad.put("tok_b", Cvc::parse("456", None).unwrap());
        std::thread::sleep(Duration::from_millis(80));
        assert!(sad.take("tok_b").is_none(), "expired");
        sad.put("tok_c", Cvc::parse("789", None).unwrap());
        std::thread::sleep(Duration::from_millis(80));
        assert_eq!(sad.purge_expired(), 0);
        assert!(!format!("{sad:?}").contains("789"));
    }
}
