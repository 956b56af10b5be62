//! One deadline per peer (or bot), kept in a heap so a loop with a thousand of them finds the
//! due ones in O(log n): [`Deadlines::set`] replaces a peer's deadline (the old heap entry goes
//! stale and is skipped when it surfaces), [`Deadlines::pop_due`] yields each peer whose current
//! deadline has come.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

/// Per-index deadlines.
#[derive(Debug, Default)]
pub struct Deadlines {
    heap: BinaryHeap<Reverse<(Instant, usize)>>,
    current: Vec<Option<Instant>>,
}

impl Deadlines {
    /// Sets `index`'s deadline to `at` (replacing any earlier one).
    pub fn set(&mut self, index: usize, at: Instant) {
        if self.current.len() <= index {
            self.current.resize(index + 1, None);
        }
        if self.current[index] == Some(at) {
            return;
        }
        self.current[index] = Some(at);
        self.heap.push(Reverse((at, index)));
    }

    /// Forgets `index`'s deadline.
    pub fn clear(&mut self, index: usize) {
        if let Some(c) = self.current.get_mut(index) {
            *c = None;
        }
    }

    /// The earliest current deadline.
    pub fn earliest(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, index))) = self.heap.peek().copied() {
            if self.current.get(index).copied().flatten() == Some(at) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    /// An index whose deadline is at or before `now` (its deadline is cleared), or `None`.
    pub fn pop_due(&mut self, now: Instant) -> Option<usize> {
        let at = self.earliest()?;
        if at > now {
            return None;
        }
        let Reverse((_, index)) = self.heap.pop()?;
        self.current[index] = None;
        Some(index)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn replaced_deadlines_do_not_fire() {
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let mut d = Deadlines::default();
        d.set(0, t0 + ms(10));
        d.set(1, t0 + ms(5));
        d.set(0, t0 + ms(20)); // replaces 10
        assert_eq!(d.earliest(), Some(t0 + ms(5)));
        assert_eq!(d.pop_due(t0 + ms(15)), Some(1));
        assert_eq!(d.pop_due(t0 + ms(15)), None, "0's old 10 ms entry is stale");
        assert_eq!(d.pop_due(t0 + ms(20)), Some(0));
        assert_eq!(d.pop_due(t0 + ms(100)), None);
        d.set(2, t0);
        d.clear(2);
        assert_eq!(d.earliest(), None);
    }
}
