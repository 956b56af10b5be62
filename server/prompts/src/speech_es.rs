//! Spanish amounts and digit strings as prompt names of the Spanish set
//! ([`crate::prompt::SPANISH_PROMPT_NAMES`]): "doce dólares con cincuenta centavos",
//! "cuatro dos cuatro dos".
//!
//! Spanish number grammar, as spoken here: one word up to 29 (*veintiuno*), then tens *y*
//! units (*treinta y dos*); *cien* alone but *ciento* before more (*ciento cinco*), and a word
//! for each hundred (*doscientos*, *quinientos*); *mil*, never *un mil*, but *veintiún mil*;
//! *un millón*, *dos millones*; *uno* shortens to *un* (*veintiuno* to *veintiún*) before a
//! noun (*un dólar*, *treinta y un dólares*, *veintiún mil*), and a round million takes *de*
//! (*un millón de dólares*). Dollars and euros are spoken with their words (masculine nouns);
//! other currencies as a number *coma* two digits, as in English. Amounts up to 999 999 999
//! major units; digits one by one; other characters skipped.

/// Number words for `n` (< 10^9). `before_noun`: the last word agrees with a masculine noun
/// that follows (*un*, *veintiún*).
pub fn number(n: u64, before_noun: bool) -> Vec<&'static str> {
    let mut out = Vec::new();
    if n == 0 {
        out.push("n0");
        return out;
    }
    let n = n.min(999_999_999);
    let (millions, thousands, rest) = (n / 1_000_000, n / 1000 % 1000, n % 1000);
    match millions {
        0 => {}
        1 => out.extend(["un", "millon"]),
        m => {
            below_thousand(m, true, &mut out);
            out.push("millones");
        }
    }
    match thousands {
        0 => {}
        1 => out.push("mil"),
        t => {
            below_thousand(t, true, &mut out);
            out.push("mil");
        }
    }
    below_thousand(rest, before_noun, &mut out);
    out
}

fn below_thousand(n: u64, short: bool, out: &mut Vec<&'static str>) {
    let (hundreds, rest) = (n / 100, n % 100);
    match (hundreds, rest) {
        (0, _) => {}
        (1, 0) => out.push("cien"),
        (1, _) => out.push("ciento"),
        (h, _) => out.push(HUNDREDS[h as usize]),
    }
    let unit = |u: u64| {
        if short && u == 1 {
            "un"
        } else {
            UNITS[u as usize]
        }
    };
    match rest {
        0 => {}
        21 if short => out.push("veintiun"),
        1..30 => out.push(unit(rest)),
        _ => {
            out.push(TENS[(rest / 10) as usize]);
            if !rest.is_multiple_of(10) {
                out.push("y");
                out.push(unit(rest % 10));
            }
        }
    }
}

const UNITS: [&str; 30] = [
    "n0", "n1", "n2", "n3", "n4", "n5", "n6", "n7", "n8", "n9", "n10", "n11", "n12", "n13", "n14",
    "n15", "n16", "n17", "n18", "n19", "n20", "n21", "n22", "n23", "n24", "n25", "n26", "n27",
    "n28", "n29",
];
const TENS: [&str; 10] = [
    "", "", "n20", "n30", "n40", "n50", "n60", "n70", "n80", "n90",
];
const HUNDREDS: [&str; 10] = [
    "", "", "n200", "n300", "n400", "n500", "n600", "n700", "n800", "n900",
];

/// Each ASCII digit of `digits` as its word (*uno*, never *un*); other characters skipped.
pub fn digits(digits: &str) -> Vec<&'static str> {
    digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| UNITS[usize::from(b - b'0')])
        .collect()
}

/// (major singular, major plural, minor singular, minor plural) for the currencies with words.
fn unit_words(currency: &str) -> Option<[&'static str; 4]> {
    match currency {
        "USD" | "CAD" | "AUD" | "NZD" => Some(["dolar", "dolares", "centavo", "centavos"]),
        "EUR" => Some(["euro", "euros", "centimo", "centimos"]),
        _ => None,
    }
}

/// An amount in minor units: "doce dólares con cincuenta centavos", "un dólar", "un millón de
/// dólares". Currencies without words: "doce coma cinco cero".
pub fn amount(minor: u64, currency: &str) -> Vec<&'static str> {
    if crate::speech::is_zero_decimal(currency) {
        return number(minor, false);
    }
    let (major, cents) = (minor / 100, minor % 100);
    let Some([one, many, one_minor, many_minor]) = unit_words(currency) else {
        let mut out = number(major, false);
        out.push("coma");
        out.extend(digits(&format!("{cents:02}")));
        return out;
    };
    let mut out = Vec::new();
    if major > 0 || cents == 0 {
        out.extend(number(major, true));
        if major >= 1_000_000 && major.is_multiple_of(1_000_000) {
            out.push("de");
        }
        out.push(if major == 1 { one } else { many });
    }
    if cents > 0 {
        if major > 0 {
            out.push("con");
        }
        out.extend(number(cents, true));
        out.push(if cents == 1 { one_minor } else { many_minor });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The words as written (the prompt files' texts in scripts/make-prompts.sh).
    fn said(names: &[&str]) -> String {
        const WORDS: [&str; 30] = [
            "cero",
            "uno",
            "dos",
            "tres",
            "cuatro",
            "cinco",
            "seis",
            "siete",
            "ocho",
            "nueve",
            "diez",
            "once",
            "doce",
            "trece",
            "catorce",
            "quince",
            "dieciséis",
            "diecisiete",
            "dieciocho",
            "diecinueve",
            "veinte",
            "veintiuno",
            "veintidós",
            "veintitrés",
            "veinticuatro",
            "veinticinco",
            "veintiséis",
            "veintisiete",
            "veintiocho",
            "veintinueve",
        ];
        names
            .iter()
            .map(|n| match *n {
                "n30" => "treinta",
                "n40" => "cuarenta",
                "n50" => "cincuenta",
                "n60" => "sesenta",
                "n70" => "setenta",
                "n80" => "ochenta",
                "n90" => "noventa",
                "n200" => "doscientos",
                "n300" => "trescientos",
                "n400" => "cuatrocientos",
                "n500" => "quinientos",
                "n600" => "seiscientos",
                "n700" => "setecientos",
                "n800" => "ochocientos",
                "n900" => "novecientos",
                "millon" => "millón",
                "veintiun" => "veintiún",
                "dolar" => "dólar",
                "dolares" => "dólares",
                "centimo" => "céntimo",
                "centimos" => "céntimos",
                w => w
                    .strip_prefix('n')
                    .and_then(|d| d.parse::<usize>().ok())
                    .map_or(w, |i| WORDS[i]),
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn numbers_alone() {
        let n = |n| said(&number(n, false));
        assert_eq!(n(0), "cero");
        assert_eq!(n(1), "uno");
        assert_eq!(n(16), "dieciséis");
        assert_eq!(n(21), "veintiuno");
        assert_eq!(n(29), "veintinueve");
        assert_eq!(n(30), "treinta");
        assert_eq!(n(31), "treinta y uno");
        assert_eq!(n(99), "noventa y nueve");
        assert_eq!(n(100), "cien");
        assert_eq!(n(101), "ciento uno");
        assert_eq!(n(115), "ciento quince");
        assert_eq!(n(200), "doscientos");
        assert_eq!(n(555), "quinientos cincuenta y cinco");
        assert_eq!(n(1000), "mil");
        assert_eq!(n(1001), "mil uno");
        assert_eq!(n(2021), "dos mil veintiuno");
        assert_eq!(n(21_000), "veintiún mil");
        assert_eq!(n(31_000), "treinta y un mil");
        assert_eq!(n(100_000), "cien mil");
        assert_eq!(n(101_000), "ciento un mil");
        assert_eq!(n(1_000_000), "un millón");
        assert_eq!(n(1_100_000), "un millón cien mil");
        assert_eq!(n(21_000_000), "veintiún millones");
        assert_eq!(n(2_000_300), "dos millones trescientos");
        assert_eq!(
            n(1_000_000_001),
            "novecientos noventa y nueve millones novecientos noventa y nueve mil novecientos noventa y nueve"
        );
    }

    #[test]
    fn amounts_agree_with_the_currency() {
        assert_eq!(
            said(&amount(1250, "USD")),
            "doce dólares con cincuenta centavos"
        );
        assert_eq!(said(&amount(100, "USD")), "un dólar");
        assert_eq!(said(&amount(101, "USD")), "un dólar con un centavo");
        assert_eq!(said(&amount(2100, "USD")), "veintiún dólares");
        assert_eq!(
            said(&amount(3121, "USD")),
            "treinta y un dólares con veintiún centavos"
        );
        assert_eq!(said(&amount(10_000, "USD")), "cien dólares");
        assert_eq!(
            said(&amount(4250, "USD")),
            "cuarenta y dos dólares con cincuenta centavos"
        );
        assert_eq!(said(&amount(0, "USD")), "cero dólares");
        assert_eq!(said(&amount(5, "USD")), "cinco centavos");
        assert_eq!(said(&amount(100_000_000, "USD")), "un millón de dólares");
        assert_eq!(said(&amount(300_000_000, "EUR")), "tres millones de euros");
        assert_eq!(
            said(&amount(120_000_000, "USD")),
            "un millón doscientos mil dólares"
        );
        assert_eq!(said(&amount(501, "EUR")), "cinco euros con un céntimo");
        assert_eq!(said(&amount(1250, "CHF")), "doce coma cinco cero");
        assert_eq!(said(&amount(2101, "GBP")), "veintiuno coma cero uno");
        assert_eq!(said(&amount(1021, "JPY")), "mil veintiuno");
    }

    #[test]
    fn digits_are_said_one_by_one_in_full() {
        assert_eq!(said(&digits("4 1-2x1")), "cuatro uno dos uno");
    }
}
