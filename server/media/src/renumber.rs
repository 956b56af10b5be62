//! Closing the holes that consumed packets (telephone events, refused payload types) leave in
//! the sequence space: output sequence = extended input sequence minus the number of consumed
//! packets before it. Reordering within the memory window is handled exactly.

use std::collections::VecDeque;

/// How many consumed sequence numbers are remembered individually.
const MEMORY: usize = 4096;

/// Renumbering state for one stream.
#[derive(Debug, Clone, Default)]
pub struct Renumber {
    /// Consumed extended sequence numbers, ascending.
    consumed: VecDeque<u64>,
    /// Consumed packets forgotten individually (all older than `consumed`).
    forgotten: u64,
}

impl Renumber {
    /// A fresh state.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that the packet with extended sequence `ext` is not forwarded.
    pub fn consume(&mut self, ext: u64) {
        let i = self.consumed.partition_point(|&c| c < ext);
        if self.consumed.get(i) == Some(&ext) {
            return;
        }
        self.consumed.insert(i, ext);
        if self.consumed.len() > MEMORY {
            self.consumed.pop_front();
            self.forgotten += 1;
        }
    }

    /// The output sequence number of a forwarded packet.
    pub fn output_seq(&self, ext: u64) -> u16 {
        let before = self.forgotten + self.consumed.partition_point(|&c| c < ext) as u64;
        (ext.wrapping_sub(before) & 0xffff) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closes_holes_even_when_reordered() {
        let mut r = Renumber::new();
        r.consume(12);
        r.consume(13);
        assert_eq!(r.output_seq(11), 11);
        assert_eq!(r.output_seq(14), 12);
        r.consume(10); // learned late
        assert_eq!(r.output_seq(11), 10);
        assert_eq!(r.output_seq(14), 11);
        assert_eq!(r.output_seq(65536 + 20), 17);
    }
}
