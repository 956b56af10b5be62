//! When each peer next needs time: a min-heap with lazy deletion, so that setting a peer's
//! deadline and finding the due ones cost O(log n) however many peers an endpoint holds.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Deadlines by peer slot (`usize`). Each slot has at most one live deadline; older entries of
/// the heap are skipped when they surface.
#[derive(Debug, Default)]
pub struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    /// The live deadline of each slot.
    current: Vec<Option<Instant>>,
}

impl Deadlines {
    /// Sets (or moves) `slot`'s deadline.
    pub fn set(&mut self, slot: usize, at: Instant) {
        if self.current.len() <= slot {
            self.current.resize(slot + 1, None);
        }
        if self.current[slot] == Some(at) {
            return;
        }
        self.current[slot] = Some(at);
        self.heap.push(Reverse((at, slot)));
    }

    /// Forgets `slot`'s deadline (a peer removed).
    pub fn clear(&mut self, slot: usize) {
        if let Some(c) = self.current.get_mut(slot) {
            *c = None;
        }
    }

    /// A slot whose deadline is `now` or earlier (its deadline forgotten), or `None`.
    pub fn pop_due(&mut self, now: Instant) -> Option<usize> {
        while let Some(&Reverse((at, slot))) = self.heap.peek() {
            if at > now {
                return None;
            }
            self.heap.pop();
            if self.current.get(slot).copied().flatten() == Some(at) {
                self.current[slot] = None;
                return Some(slot);
            }
        }
        None
    }

    /// The earliest live deadline.
    pub fn earliest(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, slot))) = self.heap.peek() {
            if self.current.get(slot).copied().flatten() == Some(at) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_latest_setting_wins_and_due_slots_come_in_order() {
        let t0 = Instant::now(); // test clock
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        d.set(3, ms(30));
        d.set(1, ms(10));
        d.set(2, ms(20));
        d.set(1, ms(25)); // moved later: the 10 ms entry is stale
        d.set(2, ms(20)); // unchanged
        d.clear(3);
        assert_eq!(d.earliest(), Some(ms(20)));
        assert_eq!(d.pop_due(ms(15)), None);
        assert_eq!(d.pop_due(ms(40)), Some(2));
        assert_eq!(d.pop_due(ms(40)), Some(1));
        assert_eq!(d.pop_due(ms(40)), None, "slot 3 was cleared");
        assert_eq!(d.earliest(), None);
    }

    proptest::proptest! {
        /// Against a plain map: the same slots come due at the same instants.
        #[test]
        fn agrees_with_a_plain_map(ops in proptest::collection::vec((0usize..6, 0u64..100, 0u8..4), 0..200)) {
            let t0 = Instant::now(); // test clock
            let ms = |n| t0 + Duration::from_millis(n);
            let mut d = Deadlines::default();
            let mut model: std::collections::BTreeMap<usize, Instant> = Default::default();
            let mut now = 0;
            for (slot, n, op) in ops {
                match op {
                    0 | 1 => { d.set(slot, ms(now + n)); model.insert(slot, ms(now + n)); }
                    2 => { d.clear(slot); model.remove(&slot); }
                    _ => {
                        now += n;
                        let mut due: Vec<usize> = std::iter::from_fn(|| d.pop_due(ms(now))).collect();
                        due.sort_unstable();
                        let want: Vec<usize> = model.iter().filter(|(_, at)| **at <= ms(now)).map(|(s, _)| *s).collect();
                        model.retain(|_, at| *at > ms(now));
                        proptest::prop_assert_eq!(due, want);
                    }
                }
                proptest::prop_assert_eq!(d.earliest(), model.values().min().copied());
            }
        }
    }
}
