//! Extending 16-bit RTP sequence numbers and 32-bit timestamps to 64 bits across wrap-around.

/// Extends a wrapping counter of `BITS` bits to `u64` by choosing the value closest to the last one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Extender<const BITS: u32> {
    last: Option<u64>,
}

/// Sequence-number extender.
pub type SeqExtender = Extender<16>;
/// Timestamp extender.
pub type TsExtender = Extender<32>;

impl<const BITS: u32> Extender<BITS> {
    /// A fresh extender.
    pub fn new() -> Self {
        Self { last: None }
    }

    /// The extended value of `value`; the reference moves forward only.
    pub fn extend(&mut self, value: u64) -> u64 {
        let ext = self.peek(value);
        if self.last.is_none_or(|l| ext > l) {
            self.last = Some(ext);
        }
        ext
    }

    /// The extended value of `value` without moving the reference.
    pub fn peek(&self, value: u64) -> u64 {
        let range = 1u64 << BITS;
        let value = value & (range - 1);
        let Some(last) = self.last else {
            // Start one cycle up so that early reordering cannot go below zero.
            return range + value;
        };
        let base = last & !(range - 1);
        let candidates = [base.wrapping_sub(range), base, base + range];
        let mut best = base + value;
        let mut best_dist = u64::MAX;
        for c in candidates {
            let v = c.wrapping_add(value);
            if c > last.saturating_add(range) {
                continue;
            }
            let dist = v.abs_diff(last);
            if dist < best_dist {
                best = v;
                best_dist = dist;
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_forward_and_backward() {
        let mut e = SeqExtender::new();
        let a = e.extend(65534);
        let b = e.extend(65535);
        let c = e.extend(0);
        let d = e.extend(1);
        assert_eq!((b - a, c - b, d - c), (1, 1, 1));
        assert_eq!(e.extend(65535), b, "late packet from before the wrap");
        let mut t = TsExtender::new();
        let x = t.extend(u64::from(u32::MAX - 100));
        let y = t.extend(860);
        assert_eq!(y - x, 961);
    }
}
