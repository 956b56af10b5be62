//! Spoken amounts and digit strings as sequences of prompt names ([`crate::prompt`]): what the
//! IVR concatenates to say "twelve dollars and fifty cents" or "four two four two".
//!
//! What it promises: every name returned is in [`crate::prompt::PROMPT_NAMES`]; amounts up to
//! 999 999 999 major units are spoken in words, digits one by one; anything else (non-digit
//! characters) is skipped rather than guessed at.

/// Number words for `n` (< 10^9): "one hundred twenty three thousand four hundred five".
pub fn number(n: u64) -> Vec<&'static str> {
    let mut out = Vec::new();
    if n == 0 {
        out.push("n0");
        return out;
    }
    let n = n.min(999_999_999);
    for (scale, word) in [(1_000_000, Some("million")), (1_000, Some("thousand"))] {
        let group = n / scale % 1000;
        if group > 0 {
            below_thousand(group, &mut out);
            out.extend(word);
        }
    }
    below_thousand(n % 1000, &mut out);
    out
}

fn below_thousand(n: u64, out: &mut Vec<&'static str>) {
    if n >= 100 {
        out.push(UNITS[(n / 100) as usize]);
        out.push("hundred");
    }
    let rest = n % 100;
    if rest >= 20 {
        out.push(TENS[(rest / 10) as usize]);
        if !rest.is_multiple_of(10) {
            out.push(UNITS[(rest % 10) as usize]);
        }
    } else if rest > 0 {
        out.push(UNITS[rest as usize]);
    }
}

const UNITS: [&str; 20] = [
    "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10", "n11", "n12", "n13", "n14",
    "n15", "n16", "n17", "n18", "n19",
];
const TENS: [&str; 10] = [
    "", "", "n20", "n30", "n40", "n50", "n60", "n70", "n80", "n90",
];

/// Each ASCII digit of `digits` as its word ("n4", "n2", ...); other characters are skipped.
pub fn digits(digits: &str) -> Vec<&'static str> {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| UNITS[usize::from(b - b'0')])
        .collect()
}

/// Currencies whose minor unit is the major one (ISO 4217 exponent 0).
const ZERO_DECIMAL: &[&str] = &[
    "JPY", "KRW", "VND", "CLP", "ISK", "XAF", "XOF", "UGX", "PYG",
];

/// True for a currency whose minor unit is the major one.
pub fn is_zero_decimal(currency: &str) -> bool {
    ZERO_DECIMAL.contains(&currency)
}

/// (major singular, major plural, minor singular, minor plural) for the currencies with words.
fn unit_words(currency: &str) -> Option<[&'static str; 4]> {
    match currency {
        "USD" | "CAD" | "AUD" | "NZD" => Some(["dollar", "dollars", "cent", "cents"]),
        "GBP" => Some(["pound", "pounds", "penny", "pence"]),
        "EUR" => Some(["euro", "euros", "cent", "cents"]),
        _ => None,
    }
}

/// An amount in minor units: "twelve dollars and fifty cents", "one pound", "five euros and
/// one cent". Currencies without words are spoken as a number ("twelve point five zero").
pub fn amount(minor: u64, currency: &str) -> Vec<&'static str> {
    if is_zero_decimal(currency) {
        return number(minor);
    }
    let (major, cents) = (minor / 100, minor % 100);
    let Some([one, many, one_minor, many_minor]) = unit_words(currency) else {
        let mut out = number(major);
        out.push("point");
        out.extend(digits(&format!("{cents:02}")));
        return out;
    };
    let mut out = Vec::new();
    if major > 0 || cents == 0 {
        out.extend(number(major));
        out.push(if major == 1 { one } else { many });
    }
    if cents > 0 {
        if major > 0 {
            out.push("and");
        }
        out.extend(number(cents));
        out.push(if cents == 1 { one_minor } else { many_minor });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prompt::PROMPT_NAMES;

    fn said(names: &[&str]) -> String {
        names
            .iter()
            .map(|n| n.strip_prefix('n').unwrap_or(n))
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn numbers() {
        assert_eq!(said(&number(0)), "0");
        assert_eq!(said(&number(7)), "7");
        assert_eq!(said(&number(40)), "40");
        assert_eq!(said(&number(99)), "90 9");
        assert_eq!(said(&number(105)), "1 hundred 5");
        assert_eq!(said(&number(12_019)), "12 thousand 19");
        assert_eq!(
            said(&number(1_000_000_001)),
            "9 hundred 90 9 million 9 hundred 90 9 thousand 9 hundred 90 9"
        );
        assert_eq!(said(&number(2_000_300)), "2 million 3 hundred");
    }

    #[test]
    fn amounts() {
        assert_eq!(said(&amount(1250, "USD")), "12 dollars and 50 cents");
        assert_eq!(said(&amount(100, "GBP")), "1 pound");
        assert_eq!(said(&amount(1, "GBP")), "1 penny");
        assert_eq!(said(&amount(0, "EUR")), "0 euros");
        assert_eq!(said(&amount(501, "EUR")), "5 euros and 1 cent");
        assert_eq!(said(&amount(1250, "CHF")), "12 point 5 0");
        assert_eq!(said(&amount(1250, "JPY")), "1 thousand 2 hundred 50");
    }

    #[test]
    fn digit_strings_and_every_name_is_a_prompt() {
        assert_eq!(said(&digits("4 2-4x2")), "4 2 4 2");
        let mut all = digits("0123456789");
        for n in [0, 13, 99, 100, 1_234_567_891] {
            all.extend(number(n));
        }
        for c in ["USD", "GBP", "EUR", "CHF", "JPY"] {
            for m in [0, 1, 100, 101, 250, 9_999_999] {
                all.extend(amount(m, c));
            }
        }
        for name in all {
            assert!(PROMPT_NAMES.contains(&name), "{name}");
        }
    }
}
