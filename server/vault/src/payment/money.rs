//! Amounts in minor units as decimal numbers of the currency's major unit (ISO 4217 minor-unit
//! exponents), for documents that carry money as decimals (FHIR `Money.value`).

/// Currencies with no minor unit (ISO 4217 exponent 0).
const EXPONENT_0: &[&str] = &[
    "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
    "XAF", "XOF", "XPF",
];

/// Currencies with three decimals (ISO 4217 exponent 3).
const EXPONENT_3: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];

/// The number of decimals of `currency`'s minor unit: 0, 2 or 3.
pub fn minor_unit_exponent(currency: &str) -> u32 {
    if EXPONENT_0.contains(&currency) {
        0
    } else if EXPONENT_3.contains(&currency) {
        3
    } else {
        2
    }
}

/// `minor` units of `currency` as a decimal string of the major unit, with exactly the
/// currency's decimals: `4250 USD` → `"42.50"`, `500 JPY` → `"500"`, `1005 KWD` → `"1.005"`.
pub fn decimal(minor: u64, currency: &str) -> String {
    let exp = minor_unit_exponent(currency);
    if exp == 0 {
        return minor.to_string();
    }
    let scale = 10u64.pow(exp);
    format!(
        "{}.{:0width$}",
        minor / scale,
        minor % scale,
        width = exp as usize
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_follow_the_currency() {
        assert_eq!(decimal(4250, "USD"), "42.50");
        assert_eq!(decimal(5, "EUR"), "0.05");
        assert_eq!(decimal(0, "GBP"), "0.00");
        assert_eq!(decimal(500, "JPY"), "500");
        assert_eq!(decimal(1005, "KWD"), "1.005");
        assert_eq!(decimal(u64::MAX, "USD"), "184467440737095516.15");
    }
}
