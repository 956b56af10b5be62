//! A leak *scanner* for tracer tests. It handles no card data of its own: tests give it
//! the tracer card numbers and CVCs they drove through the system, and it searches
//! every byte the system wrote (files, database pages, logs, captured frames) for them.
//!
//! Forms searched for each tracer (ASCII digits):
//!
//! * [`Form::Plain`]: the digits as ASCII;
//! * [`Form::Separated`]: with 1–2 separators (space, dash, dot, slash, tab) between
//!   any digits (`4111 1111-1111 1111`);
//! * [`Form::Utf16Le`], [`Form::Utf16Be`]: UTF-16 code units, separators allowed too;
//! * [`Form::JsonEscaped`]: some or all digits as `\u0034` escapes;
//! * [`Form::UrlEncoded`]: some or all digits as `%34`, separators as `+`/`%20`/`%2D`;
//! * [`Form::Base64`]: standard and URL-safe alphabets, all three byte alignments (the
//!   characters fully determined by the tracer, so it is found inside a longer base64
//!   text whatever precedes it);
//! * [`Form::HexLower`], [`Form::HexUpper`]: the ASCII bytes as hex;
//!
//! plus a generic net, [`luhn_runs`]: any run of 13–19 ASCII digits (bounded by
//! non-digits) that is Luhn-valid and has a known brand's prefix and length — or any
//! Luhn-valid run at all with [`Net::AnyLuhn`], which also flags millisecond timestamps
//! and other long numbers one time in ten.
//!
//! A tracer shorter than a card number (a CVC) is reported in the digit-text forms
//! (plain, separated, UTF-16, JSON- and URL-escaped) only where it stands alone: not
//! directly after or before an ASCII letter or digit. Three digits occur by chance inside
//! every timestamp, identifier and signature; `cvc=735` and `"735"` are what a leak looks
//! like. Hex and base64 needles are long enough to be searched everywhere.
//!
//! Hits carry the tracer's label, never its value, so a failing test prints no card data.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::{brand, luhn};

/// How a tracer was found.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Form {
    Plain,
    Separated,
    Utf16Le,
    Utf16Be,
    JsonEscaped,
    UrlEncoded,
    /// Base64 at byte alignment 0, 1 or 2 (either alphabet).
    Base64 {
        alignment: u8,
    },
    HexLower,
    HexUpper,
    /// In a memory image, one digit per array element ([`crate::memory_scan`]): `width` 1 for
    /// ASCII bytes, 4 for `char`s; `stride` bytes from one digit to the next.
    Strided {
        width: u8,
        stride: u8,
    },
    /// Found by the generic Luhn net, not as a tracer.
    LuhnRun,
}

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// Label of the tracer found; `None` for [`Form::LuhnRun`].
    pub tracer: Option<String>,
    pub form: Form,
    /// Byte offset in the scanned buffer.
    pub offset: usize,
}

/// Which runs the generic net reports.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Net {
    /// Luhn-valid, a known brand's IIN, and a length allowed for that brand.
    KnownBrands,
    /// Any Luhn-valid 13–19 digit run.
    AnyLuhn,
}

/// A tracer value could not be used.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TracerError {
    #[error("tracer must be 3 to 19 ASCII digits")]
    Invalid,
}

struct Tracer {
    label: String,
    digits: Vec<u8>,
}

/// The tracer values to look for, each with a label used in hits.
#[derive(Default)]
pub struct Tracers {
    tracers: Vec<Tracer>,
}

impl std::fmt::Debug for Tracers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let labels: Vec<&str> = self.tracers.iter().map(|t| t.label.as_str()).collect();
        f.debug_struct("Tracers").field("labels", &labels).finish()
    }
}

impl Tracers {
    pub fn new() -> Tracers {
        Tracers::default()
    }

    /// Add a tracer (a PAN or a CVC, ASCII digits without separators).
    pub fn add(&mut self, label: &str, digits: &str) -> Result<&mut Tracers, TracerError> {
        if !(3..=19).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TracerError::Invalid);
        }
        self.tracers.push(Tracer {
            label: label.to_owned(),
            digits: digits.as_bytes().to_vec(),
        });
        Ok(self)
    }

    /// (label, ASCII digits) of each tracer.
    pub(crate) fn entries(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.tracers
            .iter()
            .map(|t| (t.label.as_str(), t.digits.as_slice()))
    }
}

/// Search `bytes` for every tracer in every form, plus the generic net.
pub fn scan(tracers: &Tracers, bytes: &[u8], net: Net) -> Vec<Hit> {
    let mut hits = Vec::new();
    for t in &tracers.tracers {
        let mut push = |form: Form, offset: usize| {
            hits.push(Hit {
                tracer: Some(t.label.clone()),
                form,
                offset,
            });
        };
        let short = t.digits.len() < SHORT_TRACER;
        let counts =
            |form: Form, start: usize, end: usize| !short || stands_alone(bytes, form, start, end);
        for offset in find_all(bytes, &t.digits) {
            if counts(Form::Plain, offset, offset + t.digits.len()) {
                push(Form::Plain, offset);
            }
        }
        for (form, grammar) in GRAMMARS {
            for (start, end) in find_tokens(bytes, &t.digits, grammar) {
                if counts(*form, start, end) {
                    push(*form, start);
                }
            }
        }
        for (form, needle) in hex_needles(&t.digits) {
            for offset in find_all(bytes, needle.as_bytes()) {
                push(form, offset);
            }
        }
        for (alignment, needle) in base64_needles(&t.digits) {
            for offset in find_all(bytes, needle.as_bytes()) {
                push(Form::Base64 { alignment }, offset);
            }
        }
    }
    hits.extend(luhn_runs(bytes, net));
    hits.sort_by_key(|h| h.offset);
    hits.dedup_by(|a, b| a.offset == b.offset && a.form == b.form && a.tracer == b.tracer);
    hits
}

/// Tracers with fewer digits than this (CVCs) count in text forms only where they stand
/// alone (see the module doc).
const SHORT_TRACER: usize = 12;

/// Whether the text match `start..end` has no ASCII letter or digit directly before or
/// after it, reading UTF-16 code units for the UTF-16 forms.
fn stands_alone(bytes: &[u8], form: Form, start: usize, end: usize) -> bool {
    let unit = |at: Option<usize>| -> Option<u8> {
        let at = at?;
        match form {
            Form::Utf16Le => match bytes.get(at..at.checked_add(2)?)? {
                [c, 0] => Some(*c),
                _ => None,
            },
            Form::Utf16Be => match bytes.get(at..at.checked_add(2)?)? {
                [0, c] => Some(*c),
                _ => None,
            },
            _ => bytes.get(at).copied(),
        }
    };
    let width = match form {
        Form::Utf16Le | Form::Utf16Be => 2,
        _ => 1,
    };
    let before = unit(start.checked_sub(width));
    let after = unit(Some(end));
    !before.is_some_and(|c| c.is_ascii_alphanumeric())
        && !after.is_some_and(|c| c.is_ascii_alphanumeric())
}

/// The generic net: Luhn-valid runs of 13–19 ASCII digits bounded by non-digits.
pub fn luhn_runs(bytes: &[u8], net: Net) -> Vec<Hit> {
    let mut hits = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            i += 1;
        }
        let run = &bytes[start..i];
        if (13..=19).contains(&run.len()) && luhn::is_valid_ascii(run) && net_accepts(run, net) {
            hits.push(Hit {
                tracer: None,
                form: Form::LuhnRun,
                offset: start,
            });
        }
    }
    hits
}

fn net_accepts(run: &[u8], net: Net) -> bool {
    match net {
        Net::AnyLuhn => true,
        Net::KnownBrands => {
            let values: Vec<u8> = run.iter().map(|b| b - b'0').collect();
            brand::detect(&values).is_some_and(|b| b.lengths().contains(&run.len()))
        }
    }
}

fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// How one encoding writes a digit and a separator; `special` marks forms that must use
/// at least one non-plain token (so plain text is not reported twice).
struct Grammar {
    digit: fn(u8) -> Vec<Vec<u8>>,
    separators: &'static [&'static [u8]],
    needs_special: bool,
}

const MAX_SEPARATORS: usize = 2;

const GRAMMARS: &[(Form, Grammar)] = &[
    (
        Form::Separated,
        Grammar {
            digit: |d| vec![vec![d]],
            separators: &[b" ", b"-", b".", b"/", b"\t"],
            needs_special: true,
        },
    ),
    (
        Form::Utf16Le,
        Grammar {
            digit: |d| vec![vec![d, 0]],
            separators: &[b" \0", b"-\0"],
            needs_special: false,
        },
    ),
    (
        Form::Utf16Be,
        Grammar {
            digit: |d| vec![vec![0, d]],
            separators: &[b"\0 ", b"\0-"],
            needs_special: false,
        },
    ),
    (
        Form::JsonEscaped,
        Grammar {
            digit: |d| vec![vec![d], [b"\\u003".as_slice(), &[d]].concat()],
            separators: &[b" ", b"-", b"\\u0020", b"\\u002d", b"\\u002D"],
            needs_special: true,
        },
    ),
    (
        Form::UrlEncoded,
        Grammar {
            digit: |d| vec![vec![d], [b"%3".as_slice(), &[d]].concat()],
            separators: &[b"+", b"-", b"%20", b"%2D", b"%2d"],
            needs_special: true,
        },
    ),
];

/// Where `digits` appear written with `grammar`'s tokens: (start, end) byte offsets.
fn find_tokens(hay: &[u8], digits: &[u8], grammar: &Grammar) -> Vec<(usize, usize)> {
    // Token table per ASCII digit, built once per scan (not per offset).
    let table: Vec<Vec<Vec<u8>>> = (b'0'..=b'9').map(grammar.digit).collect();
    let tokens_of = |d: u8| {
        table
            .get(usize::from(d.wrapping_sub(b'0')))
            .map(Vec::as_slice)
    };
    let firsts: Vec<u8> = digits
        .first()
        .and_then(|&d| tokens_of(d))
        .unwrap_or(&[])
        .iter()
        .filter_map(|t| t.first().copied())
        .collect();
    let mut out = Vec::new();
    for start in 0..hay.len() {
        if !firsts.contains(&hay[start]) {
            continue;
        }
        if let Some((special, end)) = match_at(hay, start, digits, grammar, &tokens_of)
            && (special || !grammar.needs_special)
        {
            out.push((start, end));
        }
    }
    out
}

/// Match `digits` at `start`; `Some((used_special, end))` on success.
fn match_at<'t>(
    hay: &[u8],
    start: usize,
    digits: &[u8],
    grammar: &Grammar,
    tokens_of: &impl Fn(u8) -> Option<&'t [Vec<u8>]>,
) -> Option<(bool, usize)> {
    let mut p = start;
    let mut special = false;
    for (i, &d) in digits.iter().enumerate() {
        if i > 0 {
            let mut seps = 0;
            while seps < MAX_SEPARATORS {
                match grammar.separators.iter().find(|s| hay[p..].starts_with(s)) {
                    Some(s) => {
                        p += s.len();
                        seps += 1;
                        special = true;
                    }
                    None => break,
                }
            }
        }
        let (k, token) = tokens_of(d)?
            .iter()
            .enumerate()
            .find(|(_, t)| hay[p..].starts_with(t))?;
        special |= k > 0;
        p += token.len();
    }
    Some((special, p))
}

fn hex_needles(digits: &[u8]) -> [(Form, String); 2] {
    let lower: String = digits.iter().map(|b| format!("{b:02x}")).collect();
    let upper = lower.to_ascii_uppercase();
    [(Form::HexLower, lower), (Form::HexUpper, upper)]
}

/// For each alignment, the base64 characters that depend only on the tracer's bytes,
/// in both alphabets.
fn base64_needles(digits: &[u8]) -> Vec<(u8, String)> {
    let mut out = Vec::new();
    for alignment in 0..3u8 {
        let k = usize::from(alignment);
        let mut input = vec![0u8; k];
        input.extend_from_slice(digits);
        // Characters before `skip` mix in the prefix bytes; characters from `end` on
        // mix in whatever follows the tracer.
        let skip = [0, 2, 3][k];
        let end = input.len() * 8 / 6;
        for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
            let encoded = engine.encode(&input);
            if let Some(needle) = encoded.get(skip..end) {
                out.push((alignment, needle.to_owned()));
            }
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PAN: &str = "4111111111111111";
    const CVC: &str = "737";

    fn tracers() -> Tracers {
        let mut t = Tracers::new();
        t.add("pan", PAN).unwrap().add("cvc", CVC).unwrap();
        t
    }

    fn forms(bytes: &[u8]) -> Vec<(Option<String>, Form)> {
        scan(&tracers(), bytes, Net::KnownBrands)
            .into_iter()
            .map(|h| (h.tracer, h.form))
            .collect()
    }

    fn has(bytes: &[u8], label: &str, form: Form) -> bool {
        forms(bytes).contains(&(Some(label.to_owned()), form))
    }

    fn utf16(s: &str, le: bool) -> Vec<u8> {
        s.encode_utf16()
            .flat_map(|u| if le { u.to_le_bytes() } else { u.to_be_bytes() })
            .collect()
    }

    #[test]
    fn finds_every_form() {
        assert!(has(b"log: card=4111111111111111;", "pan", Form::Plain));
        assert!(has(b"x 4111 1111-1111 1111 y", "pan", Form::Separated));
        assert!(has(
            b"x 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1",
            "pan",
            Form::Separated
        ));
        assert!(has(
            &utf16("pan=4111111111111111", true),
            "pan",
            Form::Utf16Le
        ));
        assert!(has(
            &utf16("pan=4111 1111 1111 1111", false),
            "pan",
            Form::Utf16Be
        ));
        assert!(has(
            br#"{"n":"\u0034\u0031\u0031\u0031111111111111"}"#,
            "pan",
            Form::JsonEscaped
        ));
        assert!(has(
            br#"{"c":"\u0037\u0033\u0037"}"#,
            "cvc",
            Form::JsonEscaped
        ));
        assert!(has(
            b"GET /?pan=%34%31%31%311111+1111%201111%2D1111",
            "pan",
            Form::UrlEncoded
        ));
        assert!(has(
            b"34313131313131313131313131313131",
            "pan",
            Form::HexLower
        ));
        assert!(has(b"0x373337", "cvc", Form::HexLower));
        assert!(!has(
            b"3431313131313131313131313131313",
            "pan",
            Form::HexLower
        ));
        assert!(has(b"CVC 737", "cvc", Form::Plain));
    }

    #[test]
    fn finds_base64_at_every_alignment() {
        for prefix in ["", "a", "ab", "abc", "{\"x\":1,"] {
            for suffix in ["", "z", "zz", "\"}"] {
                let text = format!("{prefix}{PAN}{suffix}");
                for engine in [&base64::engine::general_purpose::STANDARD, &URL_SAFE_NO_PAD] {
                    let encoded = engine.encode(text.as_bytes());
                    let found = forms(encoded.as_bytes()).iter().any(|(l, f)| {
                        l.as_deref() == Some("pan") && matches!(f, Form::Base64 { .. })
                    });
                    assert!(found, "prefix {prefix:?} suffix {suffix:?}");
                }
            }
        }
    }

    #[test]
    fn a_short_tracer_counts_only_standing_alone() {
        for leak in [
            &b"CVC 737"[..],
            b"cvc=737&x",
            br#"{"cvc":"737"}"#,
            br#"{"cvc":737}"#,
            b"7 3 7",
            br#""\u0037\u0033\u0037""#,
        ] {
            assert!(
                forms(leak).iter().any(|(l, _)| l.as_deref() == Some("cvc")),
                "{}",
                String::from_utf8_lossy(leak)
            );
        }
        assert!(has(&utf16("cvc 737;", true), "cvc", Form::Utf16Le));
        assert!(has(&utf16("cvc 737;", false), "cvc", Form::Utf16Be));
        for chance in [
            &b"\"created_at\":1796737120"[..],
            b"tok_Xq737",
            b"evt_737ab",
            b"pay_01J737",
            b"t=17967371,v1=ab",
        ] {
            assert!(
                !forms(chance)
                    .iter()
                    .any(|(l, _)| l.as_deref() == Some("cvc")),
                "{}",
                String::from_utf8_lossy(chance)
            );
        }
        assert!(!has(&utf16("ts=17371", true), "cvc", Form::Utf16Le));
        // The PAN, being long, is found even inside a longer token.
        assert!(has(b"x4111111111111111y", "pan", Form::Plain));
    }

    #[test]
    fn hex_upper() {
        assert!(has(
            b"DATA:34313131313131313131313131313131",
            "pan",
            Form::HexUpper
        ));
    }

    #[test]
    fn luhn_net() {
        let hits = luhn_runs(
            b"a 5555555555554444 b 4111111111111112 c 12345678903",
            Net::KnownBrands,
        );
        assert_eq!(
            hits,
            vec![Hit {
                tracer: None,
                form: Form::LuhnRun,
                offset: 2
            }]
        );
        // 13-digit millisecond timestamp that happens to be Luhn-valid: only AnyLuhn flags it.
        let ts = b"ts=1732780800006";
        assert!(luhn::is_valid_ascii(&ts[3..]));
        assert!(luhn_runs(ts, Net::KnownBrands).is_empty());
        assert_eq!(luhn_runs(ts, Net::AnyLuhn).len(), 1);
        // Longer runs are not split.
        assert!(luhn_runs(b"14111111111111111", Net::AnyLuhn).is_empty());
        // Tokens (tok_ + base62) never trip it.
        assert!(luhn_runs(b"tok_4x9ZkQ2mN7pR", Net::AnyLuhn).is_empty());
    }

    #[test]
    fn clean_buffers_have_no_hits() {
        let clean =
            br#"{"token":"tok_8fJ2kLm","brand":"visa","last4":"1111","exp":"12/28","id":"pay_42"}"#;
        assert!(scan(&tracers(), clean, Net::KnownBrands).is_empty());
        assert!(scan(&tracers(), b"", Net::AnyLuhn).is_empty());
    }

    #[test]
    fn hits_print_no_tracer_value() {
        let hits = scan(&tracers(), PAN.as_bytes(), Net::KnownBrands);
        assert!(!hits.is_empty());
        assert!(!format!("{hits:?} {:?}", tracers()).contains(PAN));
    }

    #[test]
    fn scans_megabytes_quickly() {
        // Pseudo-random bytes, many of them digits, zeros and backslashes.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let data: Vec<u8> = (0..2_000_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                const ALPHABET: &[u8] = b"0123456789%\\\0 -abcdef";
                ALPHABET[(x % ALPHABET.len() as u64) as usize]
            })
            .collect();
        let started = std::time::Instant::now();
        let _ = scan(&tracers(), &data, Net::KnownBrands);
        // Generous bound for a debug build on a shared 2-core machine.
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
    }

    #[test]
    fn bad_tracers() {
        let mut t = Tracers::new();
        assert_eq!(t.add("x", "12").err(), Some(TracerError::Invalid));
        assert_eq!(t.add("x", "4111 1111").err(), Some(TracerError::Invalid));
        assert_eq!(
            t.add("x", &"1".repeat(20)).err(),
            Some(TracerError::Invalid)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
            let _ = scan(&tracers(), &bytes, Net::AnyLuhn);
        }

        /// A tracer embedded in random bytes is always found in plain and base64 form.
        #[test]
        fn embedded_tracer_is_found(pre in prop::collection::vec(any::<u8>(), 0..20), post in prop::collection::vec(any::<u8>(), 0..20)) {
            let mut data = pre.clone();
            data.extend_from_slice(PAN.as_bytes());
            data.extend_from_slice(&post);
            prop_assert!(scan(&tracers(), &data, Net::KnownBrands).iter().any(|h| h.form == Form::Plain && h.offset == pre.len()));
            let encoded = base64::engine::general_purpose::STANDARD.encode(&data);
            let found = scan(&tracers(), encoded.as_bytes(), Net::KnownBrands)
                .iter()
                .any(|h| matches!(h.form, Form::Base64 { .. }));
            prop_assert!(found);
        }
    }
}
