//! The masker's memory of recent keys, used only to merge a key heard both in-band and as an
//! RFC 4733 event into one digit.
//!
//! Keys are card digits in secure mode, so the memory is bounded and wiped: a fixed number of
//! slots, each key's value overwritten when it leaves the merge window (or when the masker asks
//! to forget everything), never left behind in a reallocated or popped buffer.

use std::time::{Duration, Instant};

use crate::Digit;
use crate::masker::{DigitEvent, DigitSource};

/// Slots kept; keys arrive at most ~10 a second and stay for a few merge windows.
const SLOTS: usize = 16;

/// The empty slot's key byte (not a key: keys are ASCII `0-9*#A-D`).
const EMPTY: u8 = 0;

/// A key's ASCII byte (keys are ASCII, so it never is `EMPTY`).
fn byte(d: Digit) -> u8 {
    u8::try_from(d.as_char()).unwrap_or(b'?')
}

/// Recent keys, wiped on expiry.
pub(crate) struct RecentKeys {
    /// The key of each slot as its ASCII byte, `EMPTY` when free.
    keys: [u8; SLOTS],
    /// When and how each slot's key came (not secret).
    spans: [(DigitSource, Instant, Instant); SLOTS],
    /// The slot the next key overwrites when none is free (the oldest).
    next: usize,
}

impl RecentKeys {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            keys: [EMPTY; SLOTS],
            spans: [(DigitSource::InBand, now, now); SLOTS],
            next: 0,
        }
    }

    /// True if `ev` is the same key as a remembered one from the other source, within
    /// `window` of it.
    pub(crate) fn is_duplicate(&self, ev: &DigitEvent, window: Duration) -> bool {
        self.keys
            .iter()
            .zip(&self.spans)
            .any(|(&k, &(source, start, end))| {
                k != EMPTY
                    && k == byte(ev.digit)
                    && source != ev.source
                    && start <= ev.end + window
                    && ev.start <= end + window
            })
    }

    /// Remembers `ev`, in a free slot or over the oldest.
    pub(crate) fn push(&mut self, ev: &DigitEvent) {
        let slot = self
            .keys
            .iter()
            .position(|&k| k == EMPTY)
            .unwrap_or(self.next);
        self.keys[slot] = byte(ev.digit);
        self.spans[slot] = (ev.source, ev.start, ev.end);
        self.next = (slot + 1) % SLOTS;
    }

    /// Wipes the keys that ended at or before `before`.
    pub(crate) fn expire(&mut self, before: Instant) {
        for (k, &(_, _, end)) in self.keys.iter_mut().zip(&self.spans) {
            if end <= before {
                *k = EMPTY;
            }
        }
    }

    /// When the oldest remembered key leaves a memory of `keep`: the masker wakes then to
    /// wipe it even if no packet comes.
    pub(crate) fn next_expiry(&self, keep: Duration) -> Option<Instant> {
        self.keys
            .iter()
            .zip(&self.spans)
            .filter(|&(&k, _)| k != EMPTY)
            .map(|(_, &(_, _, end))| end + keep)
            .min()
    }

    /// Wipes every key.
    pub(crate) fn clear(&mut self) {
        self.keys = [EMPTY; SLOTS];
    }

    /// Keys remembered now (tests).
    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys.iter().filter(|&&k| k != EMPTY).count()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn key(c: char, source: DigitSource, start: Instant, ms: u64) -> DigitEvent {
        DigitEvent {
            digit: Digit::from_char(c).unwrap(),
            source,
            start,
            end: start + Duration::from_millis(ms),
        }
    }

    #[test]
    fn merges_the_other_source_within_the_window_only() {
        let t0 = Instant::now();
        let w = Duration::from_millis(300);
        let mut r = RecentKeys::new(t0);
        r.push(&key('5', DigitSource::Rfc4733, t0, 80));
        assert!(r.is_duplicate(&key('5', DigitSource::InBand, t0, 70), w));
        assert!(!r.is_duplicate(&key('5', DigitSource::Rfc4733, t0, 70), w));
        assert!(!r.is_duplicate(&key('6', DigitSource::InBand, t0, 70), w));
        let late = t0 + Duration::from_secs(1);
        assert!(!r.is_duplicate(&key('5', DigitSource::InBand, late, 70), w));
    }

    #[test]
    fn expired_keys_are_wiped_from_memory() {
        let t0 = Instant::now();
        let mut r = RecentKeys::new(t0);
        for (i, c) in "4111111111111111".chars().enumerate() {
            r.push(&key(
                c,
                DigitSource::Rfc4733,
                t0 + Duration::from_millis(200 * i as u64),
                80,
            ));
        }
        assert_eq!(r.len(), 16);
        let due = r.next_expiry(Duration::from_secs(1)).unwrap();
        assert_eq!(due, t0 + Duration::from_millis(80 + 1000));
        r.expire(t0 + Duration::from_secs(10));
        assert_eq!(r.next_expiry(Duration::from_secs(1)), None);
        assert_eq!(r.len(), 0);
        assert!(
            r.keys.iter().all(|&k| k == EMPTY),
            "no key byte is left behind"
        );
    }

    #[test]
    fn bounded_whatever_arrives() {
        let t0 = Instant::now();
        let mut r = RecentKeys::new(t0);
        for i in 0..100_000u64 {
            r.push(&key(
                '7',
                DigitSource::InBand,
                t0 + Duration::from_millis(i),
                1,
            ));
        }
        assert_eq!(r.len(), SLOTS);
        r.clear();
        assert_eq!(r.len(), 0);
    }
}
