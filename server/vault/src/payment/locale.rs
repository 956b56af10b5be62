//! A payment's locale: the language (and region) its patient is spoken to and shown pages in.
//!
//! What it promises: a locale is a BCP 47 tag of a language the gateway speaks
//! ([`LANGUAGES`]: IVR prompts, card form, pay page) and an optional region (`es`, `es-US`,
//! `es-419`, `en-GB`), normalised to the canonical case (`es-us` → `es-US`); anything else
//! (another language, scripts, variants, extensions) is refused rather than guessed at.

/// The languages the gateway has prompts and page strings for (ISO 639-1), the default
/// first. `hushpay_prompts::language::Language` and the web SDK's catalogues
/// (`web-sdk/src/i18n`) hold one entry for each; tests keep them in step.
pub const LANGUAGES: &[&str] = &["en", "es"];

/// The locale of a payment that names none.
pub const DEFAULT_LOCALE: &str = "en";

/// The canonical form of `tag` if it is `language[-region]` with a language of [`LANGUAGES`]
/// and a region of two letters or three digits.
pub fn normalize(tag: &str) -> Option<String> {
    let mut parts = tag.split('-');
    let language = parts.next()?.to_ascii_lowercase();
    if !LANGUAGES.contains(&language.as_str()) {
        return None;
    }
    let region = parts.next();
    if parts.next().is_some() {
        return None;
    }
    match region {
        None => Some(language),
        Some(r) if r.len() == 2 && r.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(format!("{language}-{}", r.to_ascii_uppercase()))
        }
        Some(r) if r.len() == 3 && r.bytes().all(|b| b.is_ascii_digit()) => {
            Some(format!("{language}-{r}"))
        }
        Some(_) => None,
    }
}

/// The language of a (normalised) locale: its primary subtag.
pub fn language(locale: &str) -> &str {
    locale.split('-').next().unwrap_or(DEFAULT_LOCALE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_and_region_normalised_others_refused() {
        assert_eq!(normalize("es").as_deref(), Some("es"));
        assert_eq!(normalize("ES-us").as_deref(), Some("es-US"));
        assert_eq!(normalize("es-419").as_deref(), Some("es-419"));
        assert_eq!(normalize("en-GB").as_deref(), Some("en-GB"));
        for bad in [
            "",
            "fr",
            "e",
            "es-",
            "-es",
            "es_US",
            "es-USA",
            "es-4a9",
            "zh-Hant-TW",
            "es-US-x",
            "en-\u{0}",
            "español",
        ] {
            assert_eq!(normalize(bad), None, "{bad:?}");
        }
        assert_eq!(language("es-US"), "es");
        assert_eq!(language("en"), "en");
    }
}
