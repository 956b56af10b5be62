//! [`Expiry`]: a card expiry month and year.
//!
//! The crate has no clock: "today" is an argument wherever expiry is checked. A card is
//! valid through the last day of its expiry month.

use std::fmt;

use thiserror::Error;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// How far in the future an expiry may lie (Braintree and most issuers: under 20 years).
pub const MAX_YEARS_AHEAD: u16 = 20;

/// Why an expiry is not acceptable.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ExpiryError {
    #[error("expiry date is not in MM/YY or MM/YYYY form")]
    Format,
    #[error("expiry month must be 1 to 12")]
    Month,
    #[error("expiry year is out of range")]
    Year,
    #[error("card has expired")]
    Expired,
    #[error("expiry date is more than {MAX_YEARS_AHEAD} years ahead")]
    TooFarAhead,
}

/// A calendar month, used for "today" (the caller reads its own clock).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct YearMonth {
    /// Four-digit year, e.g. 2026.
    pub year: u16,
    /// 1..=12.
    pub month: u8,
}

impl YearMonth {
    fn index(self) -> u32 {
        u32::from(self.year) * 12 + u32::from(self.month.saturating_sub(1))
    }
}

/// A card expiry (month 1–12, four-digit year 2000–2099).
#[derive(Clone, PartialEq, Eq, Hash, Zeroize, ZeroizeOnDrop)]
pub struct Expiry {
    month: u8,
    year: u16,
}

impl Expiry {
    /// Build from a month (1–12) and a two-digit (`28`) or four-digit (`2028`) year.
    pub fn new(month: u8, year: u16) -> Result<Expiry, ExpiryError> {
        if !(1..=12).contains(&month) {
            return Err(ExpiryError::Month);
        }
        let year = match year {
            0..=99 => 2000 + year,
            2000..=2099 => year,
            _ => return Err(ExpiryError::Year),
        };
        Ok(Expiry { month, year })
    }

    /// Parse what a person types: `MM/YY`, `MM / YY`, `MM/YYYY`, `MM-YY`, `MMYY`,
    /// `MMYYYY` (and a one-digit month before a separator, `4/28`).
    pub fn parse(input: &str) -> Result<Expiry, ExpiryError> {
        let trimmed = input.trim();
        if trimmed.len() > 16 || !trimmed.is_ascii() {
            return Err(ExpiryError::Format);
        }
        let (month, year) = match trimmed.find(['/', '-']) {
            Some(i) => (trimmed[..i].trim(), trimmed[i + 1..].trim()),
            None if trimmed.len() == 4 || trimmed.len() == 6 => trimmed.split_at(2),
            None => return Err(ExpiryError::Format),
        };
        let ok_digits = |s: &str, lens: &[usize]| {
            lens.contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
        };
        if !ok_digits(month, &[1, 2]) || !ok_digits(year, &[2, 4]) {
            return Err(ExpiryError::Format);
        }
        let month: u8 = month.parse().map_err(|_| ExpiryError::Format)?;
        let year: u16 = year.parse().map_err(|_| ExpiryError::Format)?;
        if (100..2000).contains(&year) {
            return Err(ExpiryError::Year);
        }
        Expiry::new(month, year)
    }

    /// 1..=12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// Four-digit year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// True once the expiry month has passed: a card expiring 04/2026 is still valid on
    /// any day of April 2026 and expired from May 2026.
    pub fn is_expired(&self, today: YearMonth) -> bool {
        self.as_year_month().index() < today.index()
    }

    /// [`Expiry::is_expired`] plus the "not absurdly far ahead" rule, as one check.
    pub fn check(&self, today: YearMonth) -> Result<(), ExpiryError> {
        if self.is_expired(today) {
            return Err(ExpiryError::Expired);
        }
        if self.as_year_month().index() > today.index() + u32::from(MAX_YEARS_AHEAD) * 12 {
            return Err(ExpiryError::TooFarAhead);
        }
        Ok(())
    }

    fn as_year_month(&self) -> YearMonth {
        YearMonth {
            year: self.year,
            month: self.month,
        }
    }
}

impl fmt::Debug for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Expiry({:02}/{})", self.month, self.year)
    }
}

/// `MM/YY`, the form shown to agents with the masked card metadata.
impl fmt::Display for Expiry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}/{:02}", self.month, self.year % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const TODAY: YearMonth = YearMonth {
        year: 2026,
        month: 11,
    };

    #[test]
    fn parses_common_forms() {
        for input in [
            "12/28", "12 / 28", "12/2028", "12-28", "1228", "122028", " 12/28 ",
        ] {
            let e = Expiry::parse(input).unwrap();
            assert_eq!((e.month(), e.year()), (12, 2028), "{input}");
        }
        let e = Expiry::parse("4/27").unwrap();
        assert_eq!((e.month(), e.year()), (4, 2027));
        assert_eq!(e.to_string(), "04/27");
        assert_eq!(format!("{e:?}"), "Expiry(04/2027)");
    }

    #[test]
    fn rejects_bad_forms() {
        assert_eq!(Expiry::parse(""), Err(ExpiryError::Format));
        assert_eq!(Expiry::parse("13/28"), Err(ExpiryError::Month));
        assert_eq!(Expiry::parse("00/28"), Err(ExpiryError::Month));
        assert_eq!(Expiry::parse("12/1999"), Err(ExpiryError::Year));
        assert_eq!(Expiry::parse("12/2100"), Err(ExpiryError::Year));
        assert_eq!(Expiry::parse("1/2/28"), Err(ExpiryError::Format));
        assert_eq!(Expiry::parse("12/287"), Err(ExpiryError::Format));
        assert_eq!(Expiry::parse("12345"), Err(ExpiryError::Format));
        assert_eq!(Expiry::parse("ab/cd"), Err(ExpiryError::Format));
        assert_eq!(Expiry::parse("１２/２８"), Err(ExpiryError::Format));
        assert_eq!(Expiry::new(0, 28), Err(ExpiryError::Month));
        assert_eq!(Expiry::new(5, 1999), Err(ExpiryError::Year));
    }

    #[test]
    fn expiry_is_end_of_month() {
        assert!(!Expiry::new(11, 2026).unwrap().is_expired(TODAY));
        assert!(Expiry::new(10, 2026).unwrap().is_expired(TODAY));
        assert!(!Expiry::new(1, 2027).unwrap().is_expired(TODAY));
        assert!(Expiry::new(12, 2025).unwrap().is_expired(TODAY));
        assert_eq!(
            Expiry::new(10, 26).unwrap().check(TODAY),
            Err(ExpiryError::Expired)
        );
        assert_eq!(Expiry::new(11, 2046).unwrap().check(TODAY), Ok(()));
        assert_eq!(
            Expiry::new(12, 2046).unwrap().check(TODAY),
            Err(ExpiryError::TooFarAhead)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = Expiry::parse(&s);
        }

        #[test]
        fn display_roundtrips(month in 1u8..=12, year in 2000u16..2100) {
            let e = Expiry::new(month, year).unwrap();
            prop_assert_eq!(Expiry::parse(&e.to_string()).unwrap(), e.clone());
            prop_assert_eq!(Expiry::parse(&format!("{month}/{year}")).unwrap(), e);
        }

        #[test]
        fn expired_is_monotone(month in 1u8..=12, year in 2000u16..2100, tm in 1u8..=12, ty in 2000u16..2100) {
            let e = Expiry::new(month, year).unwrap();
            let today = YearMonth { year: ty, month: tm };
            prop_assert_eq!(e.is_expired(today), (year, month) < (ty, tm));
        }
    }
}
