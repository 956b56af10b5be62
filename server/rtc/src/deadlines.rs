//! When each peer next needs time: a min-heap with lazy deletion, so that setting a peer's
//! deadline and finding the due ones cost O(log n) however many peers an endpoint holds.
//!
//! A peer's deadline moves on almost every datagram (str0m recomputes it after each input),
//! usually later. A move later pushes nothing: the slot's entry already in the heap surfaces
//! early and is then pushed again at the slot's current deadline. Only a move earlier pushes,
//! so the heap stays near one entry per peer instead of one per datagram.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Deadlines by peer slot (`usize`). Each slot has at most one live deadline.
#[derive(Debug, Default)]
pub struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    /// The live deadline of each slot.
    current: Vec<Option<Instant>>,
    /// The earliest entry each slot has in the heap (its others are stale and skipped).
    queued: Vec<Option<Instant>>,
}

impl Deadlines {
    /// Sets (or moves) `slot`'s deadline.
    pub fn set(&mut self, slot: usize, at: Instant) {
        if self.current.len() <= slot {
            self.current.resize(slot + 1, None);
            self.queued.resize(slot + 1, None);
        }
        self.current[slot] = Some(at);
        if self.queued[slot].is_none_or(|q| at < q) {
            self.queued[slot] = Some(at);
            self.heap.push(Reverse((at, slot)));
        }
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
            if let Some(current) = self.surface() {
                if current <= now {
                    self.current[slot] = None;
                    return Some(slot);
                }
                self.requeue(slot, current);
            }
        }
        None
    }

    /// The earliest live deadline.
    pub fn next(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, slot))) = self.heap.peek() {
            if self.queued.get(slot).copied().flatten() == Some(at)
                && self.current[slot] == Some(at)
            {
                return Some(at);
            }
            if let Some(current) = self.surface() {
                self.requeue(slot, current);
            }
        }
        None
    }

    /// Pops the heap's top entry; the slot's current deadline if the entry was its queued one
    /// and the slot still has a deadline (the caller runs it or queues it again).
    fn surface(&mut self) -> Option<Instant> {
        let Reverse((at, slot)) = self.heap.pop()?;
        if self.queued[slot] != Some(at) {
            return None; // superseded by an earlier entry
        }
        self.queued[slot] = None;
        self.current[slot]
    }

    fn requeue(&mut self, slot: usize, at: Instant) {
        self.queued[slot] = Some(at);
        self.heap.push(Reverse((at, slot)));
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
        assert_eq!(d.next(), Some(ms(20)));
        assert_eq!(d.pop_due(ms(15)), None);
        assert_eq!(d.pop_due(ms(40)), Some(2));
        assert_eq!(d.pop_due(ms(40)), Some(1));
        assert_eq!(d.pop_due(ms(40)), None, "slot 3 was cleared");
        assert_eq!(d.next(), None);
    }

    #[test]
    fn moving_later_pushes_nothing_and_the_later_deadline_still_fires() {
        let t0 = Instant::now(); // test clock
        let ms = |n| t0 + Duration::from_millis(n);
        let mut d = Deadlines::default();
        d.set(0, ms(10));
        d.set(1, ms(15));
        for n in 11..1000 {
            d.set(0, ms(n)); // later and later: one entry for slot 0 all along
        }
        assert_eq!(d.heap.len(), 2);
        assert_eq!(
            d.next(),
            Some(ms(15)),
            "slot 0's stale 10 ms entry is not its deadline"
        );
        assert_eq!(d.pop_due(ms(500)), Some(1));
        assert_eq!(d.pop_due(ms(500)), None, "slot 0 is due at 999 ms");
        d.set(0, ms(20)); // earlier again: pushed
        assert_eq!(d.next(), Some(ms(20)));
        assert_eq!(d.pop_due(ms(20)), Some(0));
        assert_eq!(
            d.pop_due(ms(2000)),
            None,
            "its 999 ms deadline was replaced"
        );
        assert_eq!(d.next(), None);
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
                proptest::prop_assert_eq!(d.next(), model.values().min().copied());
            }
        }
    }
}
