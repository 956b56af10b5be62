//! Call pairs: peer `2k` forwards to `2k + 1` and back, one audio stream each way.

/// The peer that hears `peer`.
pub fn partner(peer: usize) -> usize {
    peer ^ 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_are_even_odd_neighbours() {
        assert_eq!(partner(0), 1);
        assert_eq!(partner(1), 0);
        assert_eq!(partner(6), 7);
        assert_eq!(partner(7), 6);
    }
}
