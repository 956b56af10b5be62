//! The Luhn (mod 10) checksum used by payment card numbers (ISO/IEC 7812-1, annex B).
//!
//! Functions take digit *values* (`0..=9`), not ASCII bytes, so that callers which map
//! other scripts' digits (see [`crate::chat_scan`]) share one implementation. The
//! `_ascii` variants accept ASCII digit bytes.

/// Sum of the Luhn-weighted digits, processing from the rightmost digit.
///
/// `double_first` says whether the rightmost digit of `digits` is doubled (true when a
/// check digit will be appended after it). Returns `None` if any value is above 9.
fn weighted_sum(digits: &[u8], double_first: bool) -> Option<u32> {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        if d > 9 {
            return None;
        }
        let double = (i % 2 == 0) == double_first;
        let v = u32::from(d);
        sum += if double {
            let x = v * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            v
        };
    }
    Some(sum)
}

/// True if `digits` (values `0..=9`, check digit last) passes the Luhn check.
///
/// Sequences shorter than 2 digits, or with a value above 9, are never valid.
pub fn is_valid(digits: &[u8]) -> bool {
    if digits.len() < 2 {
        return false;
    }
    matches!(weighted_sum(digits, false), Some(s) if s.is_multiple_of(10))
}

/// Like [`is_valid`] for ASCII digits (`b'0'..=b'9'`); any other byte makes it invalid.
pub fn is_valid_ascii(ascii: &[u8]) -> bool {
    if ascii.len() < 2 || !ascii.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let mut sum = 0u32;
    for (i, &b) in ascii.iter().rev().enumerate() {
        let v = u32::from(b - b'0');
        sum += if i % 2 == 1 {
            let x = v * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            v
        };
    }
    sum.is_multiple_of(10)
}

/// The check digit (a value `0..=9`) that makes `payload ++ [check]` Luhn-valid.
///
/// Returns `None` for an empty payload or a value above 9.
pub fn check_digit(payload: &[u8]) -> Option<u8> {
    if payload.is_empty() {
        return None;
    }
    let sum = weighted_sum(payload, true)?;
    // sum % 10 < 10, so the cast cannot truncate.
    Some(((10 - sum % 10) % 10) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn values(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    const PUBLIC_TEST_CARDS: &[&str] = &[
        "4111111111111111",
        "4012888888881881",
        "4222222222222",
        "5555555555554444",
        "5105105105105100",
        "2223003122003222",
        "378282246310005",
        "371449635398431",
        "6011111111111117",
        "6011000990139424",
        "30569309025904",
        "38520000023237",
        "3530111333300000",
        "3566002020360505",
        "6200000000000005",
        "6759649826438453",
    ];

    #[test]
    fn public_test_cards_are_valid() {
        for card in PUBLIC_TEST_CARDS {
            assert!(is_valid(&values(card)), "{card}");
            assert!(is_valid_ascii(card.as_bytes()), "{card}");
        }
    }

    #[test]
    fn altered_test_cards_are_invalid() {
        assert!(!is_valid_ascii(b"4111111111111112"));
        assert!(!is_valid_ascii(b"5555555555554443"));
        assert!(!is_valid_ascii(b"378282246310006"));
    }

    #[test]
    fn known_check_digits() {
        assert_eq!(check_digit(&values("411111111111111")), Some(1));
        assert_eq!(check_digit(&values("555555555555444")), Some(4));
        assert_eq!(check_digit(&values("37828224631000")), Some(5));
        assert_eq!(check_digit(&values("7992739871")), Some(3));
    }

    #[test]
    fn degenerate_inputs() {
        assert!(!is_valid(&[]));
        assert!(!is_valid(&[0]));
        assert!(is_valid(&[0, 0]));
        assert!(!is_valid(&[1, 10]));
        assert!(!is_valid_ascii(b"41111111111111a1"));
        assert!(!is_valid_ascii(b""));
        assert_eq!(check_digit(&[]), None);
        assert_eq!(check_digit(&[4, 11]), None);
    }

    proptest! {
        #[test]
        fn appending_check_digit_makes_valid(payload in prop::collection::vec(0u8..10, 1..30)) {
            let c = check_digit(&payload).ok_or_else(|| TestCaseError::fail("no check digit"))?;
            prop_assert!(c <= 9);
            let mut full = payload.clone();
            full.push(c);
            prop_assert!(is_valid(&full));
            // Exactly one of the ten possible final digits is valid.
            let valid = (0..10u8).filter(|&d| { let mut v = payload.clone(); v.push(d); is_valid(&v) }).count();
            prop_assert_eq!(valid, 1);
        }

        #[test]
        fn single_digit_error_is_detected(payload in prop::collection::vec(0u8..10, 12..19), pos in any::<prop::sample::Index>(), delta in 1u8..10) {
            let mut full = payload.clone();
            full.push(check_digit(&payload).unwrap_or(0));
            let i = pos.index(full.len());
            full[i] = (full[i] + delta) % 10;
            prop_assert!(!is_valid(&full));
        }

        #[test]
        fn ascii_and_value_forms_agree(payload in prop::collection::vec(0u8..10, 0..25)) {
            let ascii: Vec<u8> = payload.iter().map(|d| d + b'0').collect();
            prop_assert_eq!(is_valid(&payload), is_valid_ascii(&ascii));
        }
    }
}
