//! Card brand detection by IIN (issuer identification number) ranges.
//!
//! # The table
//!
//! Ranges follow the public IIN table for ISO/IEC 7812 card numbers (as maintained on
//! Wikipedia's "Payment card number" page and used by Stripe and Braintree's
//! `credit-card-type`), restricted to narrow, well-documented ranges:
//!
//! | brand       | IIN ranges                                              | lengths | CVC |
//! |-------------|---------------------------------------------------------|---------|-----|
//! | Visa        | 4                                                       | 13, 16, 19 | 3 |
//! | Mastercard  | 51–55, 2221–2720                                        | 16      | 3   |
//! | Amex        | 34, 37                                                  | 15      | 4   |
//! | Discover    | 6011, 644–649, 65, 622126–622925 (UnionPay co-branded)  | 16–19   | 3   |
//! | Diners Club | 300–305, 3095, 36, 38–39                                | 14–19   | 3   |
//! | JCB         | 3528–3589                                               | 16–19   | 3   |
//! | UnionPay    | 62, 81                                                  | 16–19   | 3   |
//! | Maestro     | 5018, 5020, 5038, 5893, 6304, 6759, 6761–6763, 676770, 676774 | 12–19 | 3 |
//!
//! When several ranges match, the longest (most specific) prefix wins, so 622126–622925
//! is Discover rather than UnionPay. Maestro's very wide historical ranges (50, 56–69)
//! are deliberately left out: they would swallow other brands' numbers.
//!
//! # Potentially valid
//!
//! [`candidates`] answers the "as you type" question with the semantics of Braintree's
//! `card-validator`: which brands could a number starting with these digits still
//! belong to? A range `[lo, hi]` of `k` digits is a candidate for a prefix `p` of `n`
//! digits if `n >= k` and the first `k` digits of `p` lie in the range, or `n < k` and
//! some `k`-digit number starting with `p` lies in the range; and `p` is not already
//! longer than the brand's longest number.

use std::fmt;

/// A card brand (scheme). Detected from the IIN, never trusted from input.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Brand {
    Visa,
    Mastercard,
    Amex,
    Discover,
    DinersClub,
    Jcb,
    UnionPay,
    Maestro,
}

/// An inclusive IIN range; both bounds have the same number of digits.
struct Range {
    lo: u32,
    hi: u32,
    digits: u32,
}

const fn r(lo: u32, hi: u32, digits: u32) -> Range {
    Range { lo, hi, digits }
}

/// (brand, ranges). Order does not matter: the longest matching range wins.
const TABLE: &[(Brand, &[Range])] = &[
    (Brand::Visa, &[r(4, 4, 1)]),
    (Brand::Mastercard, &[r(51, 55, 2), r(2221, 2720, 4)]),
    (Brand::Amex, &[r(34, 34, 2), r(37, 37, 2)]),
    (
        Brand::Discover,
        &[
            r(6011, 6011, 4),
            r(644, 649, 3),
            r(65, 65, 2),
            r(622126, 622925, 6),
        ],
    ),
    (
        Brand::DinersClub,
        &[r(300, 305, 3), r(3095, 3095, 4), r(36, 36, 2), r(38, 39, 2)],
    ),
    (Brand::Jcb, &[r(3528, 3589, 4)]),
    (Brand::UnionPay, &[r(62, 62, 2), r(81, 81, 2)]),
    (
        Brand::Maestro,
        &[
            r(5018, 5018, 4),
            r(5020, 5020, 4),
            r(5038, 5038, 4),
            r(5893, 5893, 4),
            r(6304, 6304, 4),
            r(6759, 6759, 4),
            r(6761, 6763, 4),
            r(676770, 676770, 6),
            r(676774, 676774, 6),
        ],
    ),
];

/// Every brand, in a stable order.
pub const ALL: &[Brand] = &[
    Brand::Visa,
    Brand::Mastercard,
    Brand::Amex,
    Brand::Discover,
    Brand::DinersClub,
    Brand::Jcb,
    Brand::UnionPay,
    Brand::Maestro,
];

/// Separator positions (digit counts before which a space goes) for the usual 4-4-4-4[-3].
const GAPS_4_4_4_4: &[usize] = &[4, 8, 12, 16];
/// Amex 4-6-5 and Diners 14-digit 4-6-4.
const GAPS_4_6: &[usize] = &[4, 10];

impl Brand {
    /// Stable lower-case identifier (`"visa"`, `"mastercard"`, `"amex"`, `"discover"`,
    /// `"diners"`, `"jcb"`, `"unionpay"`, `"maestro"`), as used in events and tokens.
    pub fn id(self) -> &'static str {
        match self {
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
            Brand::Amex => "amex",
            Brand::Discover => "discover",
            Brand::DinersClub => "diners",
            Brand::Jcb => "jcb",
            Brand::UnionPay => "unionpay",
            Brand::Maestro => "maestro",
        }
    }

    /// Human-readable name.
    pub fn display_name(self) -> &'static str {
        match self {
            Brand::Visa => "Visa",
            Brand::Mastercard => "Mastercard",
            Brand::Amex => "American Express",
            Brand::Discover => "Discover",
            Brand::DinersClub => "Diners Club",
            Brand::Jcb => "JCB",
            Brand::UnionPay => "UnionPay",
            Brand::Maestro => "Maestro",
        }
    }

    /// Valid card number lengths, ascending.
    pub fn lengths(self) -> &'static [usize] {
        match self {
            Brand::Visa => &[13, 16, 19],
            Brand::Mastercard => &[16],
            Brand::Amex => &[15],
            Brand::Discover | Brand::Jcb | Brand::UnionPay => &[16, 17, 18, 19],
            Brand::DinersClub => &[14, 15, 16, 17, 18, 19],
            Brand::Maestro => &[12, 13, 14, 15, 16, 17, 18, 19],
        }
    }

    /// The longest valid number length.
    pub fn max_length(self) -> usize {
        self.lengths().last().copied().unwrap_or(19)
    }

    /// Number of CVC digits (Amex "CID": 4; all others 3).
    pub fn cvc_length(self) -> usize {
        match self {
            Brand::Amex => 4,
            _ => 3,
        }
    }

    /// Display grouping for a number of `len` digits: the digit counts before which a
    /// space is inserted. Amex is 4-6-5; a 14-digit Diners is 4-6-4; others 4-4-4-4[-3].
    pub fn gaps(self, len: usize) -> &'static [usize] {
        match self {
            Brand::Amex => GAPS_4_6,
            Brand::DinersClub if len <= 14 => GAPS_4_6,
            _ => GAPS_4_4_4_4,
        }
    }
}

impl fmt::Display for Brand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// Grouping used when no brand is known yet.
pub fn default_gaps() -> &'static [usize] {
    GAPS_4_4_4_4
}

/// The value of the first `k` digits (values `0..=9`), or `None` if fewer than `k`.
fn leading_value(digits: &[u8], k: usize) -> Option<u32> {
    let head = digits.get(..k)?;
    Some(head.iter().fold(0u32, |acc, &d| acc * 10 + u32::from(d)))
}

/// How a range relates to a digit prefix.
enum Fit {
    /// The prefix is at least as long as the range and lies in it: specificity = digits.
    Full(u32),
    /// The prefix is shorter than the range and some continuation lies in it.
    Partial,
    No,
}

fn fit(range: &Range, digits: &[u8]) -> Fit {
    let k = range.digits as usize;
    if digits.len() >= k {
        match leading_value(digits, k) {
            Some(v) if (range.lo..=range.hi).contains(&v) => Fit::Full(range.digits),
            _ => Fit::No,
        }
    } else {
        let n = digits.len();
        let Some(p) = leading_value(digits, n) else {
            return Fit::No;
        };
        let scale = 10u32.pow((k - n) as u32);
        let (lo, hi) = (p * scale, p * scale + scale - 1);
        if lo <= range.hi && hi >= range.lo {
            Fit::Partial
        } else {
            Fit::No
        }
    }
}

/// The brand of a number whose first digits are `digits` (values `0..=9`), if its IIN
/// is fully determined: the brand of the longest range that the digits fully match,
/// provided no longer range of another brand could still match as more digits come.
pub fn detect(digits: &[u8]) -> Option<Brand> {
    if digits.iter().any(|&d| d > 9) {
        return None;
    }
    decided(digits)
}

/// Brands a number beginning with `digits` could still turn out to be (see the module
/// docs). An empty prefix yields every brand; a prefix longer than a brand's longest
/// number excludes that brand.
pub fn candidates(digits: &[u8]) -> Vec<Brand> {
    if digits.iter().any(|&d| d > 9) {
        return Vec::new();
    }
    TABLE
        .iter()
        .filter(|(brand, ranges)| {
            digits.len() <= brand.max_length()
                && ranges
                    .iter()
                    .any(|range| !matches!(fit(range, digits), Fit::No))
        })
        .map(|(brand, _)| *brand)
        .filter(|brand| {
            // A shorter range of another brand is overridden by a longer, fully matching one
            // (622126–622925 excludes UnionPay's 62 once the six digits are known).
            decided(digits).is_none_or(|w| w == *brand)
        })
        .collect()
}

/// The brand of the most specific fully matching range, unless another brand still has
/// a longer range that the digits could grow into: "62" is UnionPay, but "6221" could
/// still become Discover (622126–622925), so it stays undecided.
fn decided(digits: &[u8]) -> Option<Brand> {
    let mut best: Option<(u32, Brand)> = None;
    for (brand, ranges) in TABLE {
        for range in ranges.iter() {
            if let Fit::Full(spec) = fit(range, digits)
                && best.is_none_or(|(s, _)| spec > s)
            {
                best = Some((spec, *brand));
            }
        }
    }
    let (spec, brand) = best?;
    let pending_other = TABLE.iter().any(|(b, ranges)| {
        *b != brand
            && ranges
                .iter()
                .any(|rg| rg.digits > spec && matches!(fit(rg, digits), Fit::Partial))
    });
    if pending_other { None } else { Some(brand) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn v(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    #[test]
    fn detects_public_test_cards() {
        let cases = [
            ("4111111111111111", Brand::Visa),
            ("4222222222222", Brand::Visa),
            ("5555555555554444", Brand::Mastercard),
            ("2223003122003222", Brand::Mastercard),
            ("2720990000000000", Brand::Mastercard),
            ("378282246310005", Brand::Amex),
            ("341111111111111", Brand::Amex),
            ("6011111111111117", Brand::Discover),
            ("6445644564456445", Brand::Discover),
            ("6500000000000002", Brand::Discover),
            ("6221260000000000", Brand::Discover),
            ("6229250000000000", Brand::Discover),
            ("30569309025904", Brand::DinersClub),
            ("3095000000000000", Brand::DinersClub),
            ("36227206271667", Brand::DinersClub),
            ("38520000023237", Brand::DinersClub),
            ("3530111333300000", Brand::Jcb),
            ("3589000000000000", Brand::Jcb),
            ("6200000000000005", Brand::UnionPay),
            ("6221250000000000", Brand::UnionPay),
            ("6229260000000000", Brand::UnionPay),
            ("8171999927660000", Brand::UnionPay),
            ("6759649826438453", Brand::Maestro),
            ("5018000000000000", Brand::Maestro),
            ("6763000000000000", Brand::Maestro),
            ("6767700000000000", Brand::Maestro),
        ];
        for (number, brand) in cases {
            assert_eq!(detect(&v(number)), Some(brand), "{number}");
        }
    }

    #[test]
    fn range_edges() {
        assert_eq!(detect(&v("2220999999999999")), None);
        assert_eq!(detect(&v("2721000000000000")), None);
        assert_eq!(detect(&v("5099")), None);
        assert_eq!(detect(&v("5600")), None);
        assert_eq!(detect(&v("306")), None);
        assert_eq!(detect(&v("3527")), None);
        assert_eq!(detect(&v("3590")), None);
        assert_eq!(detect(&v("643")), None);
        assert_eq!(detect(&v("6012")), None);
        assert_eq!(detect(&v("35")), None, "JCB needs four digits");
        assert_eq!(detect(&v("1234")), None);
        assert_eq!(detect(&[]), None);
    }

    #[test]
    fn undecided_until_longer_range_settles() {
        // 62 is UnionPay, but 622126..622925 is Discover.
        assert_eq!(detect(&v("62")), None);
        assert_eq!(detect(&v("6221")), None);
        assert_eq!(detect(&v("62212")), None);
        assert_eq!(detect(&v("622125")), Some(Brand::UnionPay));
        assert_eq!(detect(&v("622126")), Some(Brand::Discover));
        assert_eq!(detect(&v("620")), Some(Brand::UnionPay));
        assert_eq!(detect(&v("623")), Some(Brand::UnionPay));
        // 6767 is not Maestro, 676770 is.
        assert_eq!(detect(&v("6767")), None);
    }

    #[test]
    fn candidates_while_typing() {
        assert_eq!(candidates(&[]).len(), ALL.len());
        assert_eq!(candidates(&v("4")), vec![Brand::Visa]);
        let five = candidates(&v("5"));
        assert!(five.contains(&Brand::Mastercard) && five.contains(&Brand::Maestro));
        let two = candidates(&v("2"));
        assert_eq!(two, vec![Brand::Mastercard]);
        assert_eq!(candidates(&v("22")), vec![Brand::Mastercard]);
        assert_eq!(candidates(&v("220")), Vec::<Brand>::new());
        let three = candidates(&v("3"));
        for b in [Brand::Amex, Brand::DinersClub, Brand::Jcb] {
            assert!(three.contains(&b));
        }
        assert_eq!(candidates(&v("35")), vec![Brand::Jcb]);
        let sixtwo = candidates(&v("62"));
        assert!(sixtwo.contains(&Brand::Discover) && sixtwo.contains(&Brand::UnionPay));
        assert_eq!(candidates(&v("622126")), vec![Brand::Discover]);
        assert_eq!(candidates(&v("1")), Vec::<Brand>::new());
        assert_eq!(candidates(&v("9")), Vec::<Brand>::new());
        // Too long for Mastercard (16) once it reaches 17 digits.
        assert_eq!(candidates(&v("55555555555544441")), Vec::<Brand>::new());
    }

    #[test]
    fn brand_properties() {
        assert_eq!(Brand::Amex.cvc_length(), 4);
        assert_eq!(Brand::Visa.cvc_length(), 3);
        assert_eq!(Brand::Amex.gaps(15), &[4, 10]);
        assert_eq!(Brand::DinersClub.gaps(14), &[4, 10]);
        assert_eq!(Brand::DinersClub.gaps(16), &[4, 8, 12, 16]);
        assert_eq!(Brand::Visa.max_length(), 19);
        assert_eq!(Brand::Mastercard.max_length(), 16);
        assert_eq!(Brand::DinersClub.to_string(), "diners");
        for b in ALL {
            assert!(!b.lengths().is_empty());
            assert!(b.lengths().windows(2).all(|w| w[0] < w[1]));
            assert!(!b.display_name().is_empty());
        }
    }

    proptest! {
        /// A detected brand is always one of the candidates, and detection is stable:
        /// once decided, appending digits never changes the brand.
        #[test]
        fn detection_is_consistent(digits in prop::collection::vec(0u8..10, 0..20)) {
            if let Some(b) = detect(&digits) {
                if digits.len() <= b.max_length() {
                    prop_assert!(candidates(&digits).contains(&b));
                }
                for extra in 0u8..10 {
                    let mut longer = digits.clone();
                    longer.push(extra);
                    prop_assert_eq!(detect(&longer), Some(b));
                }
            }
        }

        /// Candidates shrink as digits are appended.
        #[test]
        fn candidates_are_monotone(digits in prop::collection::vec(0u8..10, 0..20), extra in 0u8..10) {
            let before = candidates(&digits);
            let mut longer = digits.clone();
            longer.push(extra);
            for b in candidates(&longer) {
                prop_assert!(before.contains(&b), "{b:?} appeared");
            }
        }
    }
}
