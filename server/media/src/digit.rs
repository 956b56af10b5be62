//! The 16 DTMF keys.

use std::fmt;

/// One DTMF key: `0`-`9`, `*`, `#`, `A`-`D`. Built only from valid input.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digit(u8);

/// Keys in RFC 4733 event-code order (codes 0-15).
const KEYS: &[u8; 16] = b"0123456789*#ABCD";

/// Keypad layout: row (low group) x column (high group).
pub(crate) const KEYPAD: [[u8; 4]; 4] = [*b"123A", *b"456B", *b"789C", *b"*0#D"];

impl Digit {
    /// All 16 keys in event-code order.
    pub fn all() -> impl Iterator<Item = Digit> {
        KEYS.iter().map(|&k| Digit(k))
    }

    /// From a character (`a`-`d` accepted in lower case).
    pub fn from_char(c: char) -> Option<Digit> {
        let up = c.to_ascii_uppercase();
        u8::try_from(up)
            .ok()
            .filter(|b| KEYS.contains(b))
            .map(Digit)
    }

    /// From an RFC 4733 event code (0-15); other codes are not keys.
    pub fn from_event_code(code: u8) -> Option<Digit> {
        KEYS.get(usize::from(code)).map(|&k| Digit(k))
    }

    /// The RFC 4733 event code (0-15).
    pub fn event_code(self) -> u8 {
        KEYS.iter().position(|&k| k == self.0).unwrap_or(0) as u8
    }

    /// From keypad row (0-3, low group) and column (0-3, high group).
    pub fn from_row_col(row: usize, col: usize) -> Option<Digit> {
        KEYPAD.get(row).and_then(|r| r.get(col)).map(|&k| Digit(k))
    }

    /// Keypad row and column (indices into [`crate::goertzel::LOW_FREQS`] / `HIGH_FREQS`).
    pub fn row_col(self) -> (usize, usize) {
        for (r, row) in KEYPAD.iter().enumerate() {
            if let Some(c) = row.iter().position(|&k| k == self.0) {
                return (r, c);
            }
        }
        (0, 0)
    }

    /// The character.
    pub fn as_char(self) -> char {
        char::from(self.0)
    }

    /// True for `0`-`9`.
    pub fn is_decimal(self) -> bool {
        self.0.is_ascii_digit()
    }
}

impl fmt::Debug for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digit({})", self.as_char())
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for (code, d) in Digit::all().enumerate() {
            assert_eq!(usize::from(d.event_code()), code);
            let (r, c) = d.row_col();
            assert_eq!(Digit::from_row_col(r, c), Some(d));
            assert_eq!(Digit::from_char(d.as_char()), Some(d));
        }
        assert_eq!(Digit::from_event_code(16), None);
        assert_eq!(Digit::from_char('x'), None);
    }
}
