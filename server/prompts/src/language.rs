//! The languages the IVR speaks: each has its own prompt names (the flow prompts, named alike,
//! and its own number and currency words) and its own way of saying amounts and digits.
//!
//! What it promises: a payment's BCP 47 locale (`es`, `es-US`, `en-GB`) picks a language by
//! its primary subtag, case-insensitively; every name a language's speech returns is one of
//! its prompt names. Adding a language is a variant here, a names macro in [`crate::prompt`],
//! a speech module and its `prompts/<code>` directory.

use crate::prompt::{PROMPT_NAMES, SPANISH_PROMPT_NAMES};
use crate::{speech, speech_es};

/// A language with a prompt set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Language {
    English,
    Spanish,
}

impl Language {
    /// Every language, the default first.
    pub const ALL: &'static [Language] = &[Language::English, Language::Spanish];

    /// The ISO 639-1 code (the primary subtag of a locale, the `prompts/<code>` directory).
    pub fn code(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::Spanish => "es",
        }
    }

    /// The language of a BCP 47 locale (`es-US` → Spanish), by its primary subtag.
    pub fn from_locale(locale: &str) -> Option<Language> {
        let primary = locale.split(['-', '_']).next()?;
        Language::ALL
            .iter()
            .copied()
            .find(|l| l.code().eq_ignore_ascii_case(primary))
    }

    /// Every prompt a set of this language must have.
    pub fn prompt_names(self) -> &'static [&'static str] {
        match self {
            Language::English => PROMPT_NAMES,
            Language::Spanish => SPANISH_PROMPT_NAMES,
        }
    }

    /// An amount in minor units of `currency`, as prompt names.
    pub fn amount(self, minor: u64, currency: &str) -> Vec<&'static str> {
        match self {
            Language::English => speech::amount(minor, currency),
            Language::Spanish => speech_es::amount(minor, currency),
        }
    }

    /// Each ASCII digit of `digits` as its word; other characters are skipped.
    pub fn digits(self, digits: &str) -> Vec<&'static str> {
        match self {
            Language::English => speech::digits(digits),
            Language::Spanish => speech_es::digits(digits),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_pick_a_language_by_primary_subtag() {
        assert_eq!(Language::from_locale("es"), Some(Language::Spanish));
        assert_eq!(Language::from_locale("es-US"), Some(Language::Spanish));
        assert_eq!(Language::from_locale("ES-419"), Some(Language::Spanish));
        assert_eq!(Language::from_locale("en-GB"), Some(Language::English));
        assert_eq!(Language::from_locale("fr"), None);
        assert_eq!(Language::from_locale(""), None);
        assert_eq!(Language::from_locale("esp"), None);
    }

    #[test]
    fn every_spoken_name_is_a_prompt_of_its_language() {
        for &lang in Language::ALL {
            let mut all = lang.digits("0123456789");
            for c in ["USD", "GBP", "EUR", "CHF", "JPY"] {
                for m in [
                    0,
                    1,
                    21,
                    100,
                    101,
                    2_100,
                    100_000,
                    210_000_000,
                    99_999_999_999,
                ] {
                    all.extend(lang.amount(m, c));
                }
            }
            for name in all {
                assert!(lang.prompt_names().contains(&name), "{lang:?}: {name}");
            }
        }
    }
}
