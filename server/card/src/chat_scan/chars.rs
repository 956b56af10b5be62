//! Character classes for the chat scanner: Unicode decimal digits (general category
//! Nd), separators people put between digit groups, and invisible characters that are
//! skipped entirely.

/// The zero of every Unicode 15.0 `Nd` block. Each block is ten contiguous code points,
/// zero to nine (a Unicode stability guarantee for `Nd`), so the digit value of `c` is
/// `c - zero`. 68 blocks = all 680 `Nd` characters of Unicode 15.0. Generated from the
/// Unicode Character Database (`gc=Nd`, `nv=0`); sorted, for binary search.
const ND_ZEROS: &[u32] = &[
    0x0030, 0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6,
    0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80,
    0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0,
    0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0,
    0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60,
    0x16AC0, 0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0,
    0x1E950, 0x1FBF0,
];

/// The value of a Unicode decimal digit (any script), or `None`.
pub fn digit_value(c: char) -> Option<u8> {
    let cp = u32::from(c);
    if c.is_ascii() {
        return c.is_ascii_digit().then(|| (cp - 0x30) as u8);
    }
    let i = match ND_ZEROS.binary_search(&cp) {
        Ok(i) => i,
        Err(0) => return None,
        Err(i) => i - 1,
    };
    let offset = cp - ND_ZEROS[i];
    // offset < 10 checked, so the cast keeps the value.
    (offset < 10).then_some(offset as u8)
}

/// How the scanner treats a character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// A decimal digit with its value.
    Digit(u8),
    /// Whitespace or punctuation people use to group digits: it may stand between
    /// digits of one number (a few in a row at most).
    Separator,
    /// Invisible formatting or combining characters: skipped as if absent.
    Ignorable,
    /// Anything else ends a digit run.
    Break,
}

pub fn classify(c: char) -> Class {
    if let Some(d) = digit_value(c) {
        return Class::Digit(d);
    }
    if is_ignorable(c) {
        return Class::Ignorable;
    }
    if c.is_whitespace() || is_separator_punct(c) {
        return Class::Separator;
    }
    Class::Break
}

fn is_separator_punct(c: char) -> bool {
    matches!(
        c,
        // dashes and minus signs
        '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2043}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}'
        // dots and bullets
        | '.' | '\u{00B7}' | '\u{2022}' | '\u{2024}' | '\u{2027}' | '\u{3002}' | '\u{30FB}' | '\u{FF0E}' | '\u{FF61}'
        // slashes
        | '/' | '\\' | '\u{2044}' | '\u{2215}' | '\u{FF0F}' | '\u{FF3C}'
        // underscores
        | '_' | '\u{FF3F}'
        // commas
        | ',' | '\u{3001}' | '\u{FF0C}'
    )
}

/// Zero-width, bidi, joiner, variation-selector, tag and combining characters.
fn is_ignorable(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'                       // soft hyphen
        | '\u{0300}'..='\u{036F}'        // combining diacritical marks, grapheme joiner
        | '\u{061C}'                     // Arabic letter mark
        | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
        | '\u{17B4}' | '\u{17B5}'        // Khmer inherent vowels
        | '\u{180B}'..='\u{180F}'        // Mongolian selectors and vowel separator
        | '\u{200B}'..='\u{200F}'        // zero-width space/non-joiner/joiner, LRM, RLM
        | '\u{202A}'..='\u{202E}'        // bidi embeddings and overrides
        | '\u{2060}'..='\u{206F}'        // word joiner, invisible operators, bidi isolates
        | '\u{20D0}'..='\u{20FF}'        // combining marks for symbols (keycap U+20E3)
        | '\u{FE00}'..='\u{FE0F}'        // variation selectors
        | '\u{FE20}'..='\u{FE2F}'        // combining half marks
        | '\u{FEFF}'                     // byte order mark / zero-width no-break space
        | '\u{1D173}'..='\u{1D17A}'      // musical formatting
        | '\u{E0000}'..='\u{E0FFF}'      // tags and variation selectors supplement
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_block_is_ten_numeric_code_points() {
        assert_eq!(ND_ZEROS.len(), 68);
        assert!(
            ND_ZEROS.windows(2).all(|w| w[0] + 10 <= w[1]),
            "sorted, disjoint"
        );
        for &zero in ND_ZEROS {
            for v in 0..10u32 {
                let c = char::from_u32(zero + v).unwrap();
                assert!(c.is_numeric(), "U+{:04X}", zero + v);
                assert_eq!(digit_value(c), Some(v as u8), "U+{:04X}", zero + v);
            }
        }
    }

    #[test]
    fn samples_from_many_scripts() {
        for (s, v) in [
            ("7", 7),
            ("７", 7),
            ("٧", 7),
            ("۷", 7),
            ("७", 7),
            ("৭", 7),
            ("๗", 7),
            ("𝟕", 7),
            ("𝟩", 7),
            ("၇", 7),
            ("೭", 7),
            ("𞥗", 7),
            ("🯷", 7),
            ("꧗", 7),
            ("߇", 7),
        ] {
            let c = s.chars().next().unwrap();
            assert_eq!(digit_value(c), Some(v), "{s}");
        }
    }

    #[test]
    fn non_digits() {
        for c in [
            'a',
            '/',
            '¹',
            '½',
            '①',
            'Ⅻ',
            '〇',
            '\u{065F}',
            '\u{FF1A}',
            '\u{1D7CD}',
        ] {
            assert_eq!(digit_value(c), None, "{c}");
        }
    }

    #[test]
    fn classes() {
        assert_eq!(classify('4'), Class::Digit(4));
        for c in [
            ' ', '\t', '\n', '\u{00A0}', '\u{3000}', '-', '\u{2014}', '.', '/', '_', ',',
        ] {
            assert_eq!(classify(c), Class::Separator, "U+{:04X}", u32::from(c));
        }
        for c in [
            '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{20E3}',
            '\u{FE0F}',
        ] {
            assert_eq!(classify(c), Class::Ignorable, "U+{:04X}", u32::from(c));
        }
        for c in ['a', '+', '(', ')', ':', '#', '$', '€'] {
            assert_eq!(classify(c), Class::Break, "{c}");
        }
    }
}
