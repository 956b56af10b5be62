//! `[ivr]` configuration and the prompt set it loads.
//!
//! ```toml
//! [ivr]
//! prompts_dir = "/etc/hushpay/prompts"  # <name>.wav here replaces that default prompt
//! entry_timeout_secs = 10               # time to key an entry after the prompts (1-120)
//! confirm_attempts = 3                  # confirmation asked this often (1-5)
//! hold_audio = true                     # the agent hears the `hold` prompt looped; false: silence
//!
//! [ivr.prompts]                         # single prompts by path (win over prompts_dir)
//! hold = "/etc/hushpay/hold-music.wav"
//! "es/hold" = "/etc/hushpay/espera.wav"  # <language>/<name>: another language's prompt
//! ```
//!
//! The default prompts of every language (prompts/en, prompts/es, made by
//! scripts/make-prompts.sh) are built into the binary, so a gateway without `[ivr]` speaks
//! them; a payment's `locale` picks the language ([`PromptSets::for_locale`]). Any prompt may be
//! replaced: English ones by `<name>.wav` in `prompts_dir` or `<name>` in `[ivr.prompts]`,
//! another language's by `<code>/<name>.wav` in `prompts_dir` (`es/hold.wav`) or
//! `"<code>/<name>"` in `[ivr.prompts]`; names are those of
//! [`hushpay_prompts::language::Language::prompt_names`], and a file or key that names no
//! prompt is refused at start-up (a typo must not silently leave the default in place). Every
//! prompt is encoded once, at the first IVR payment.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hushpay_prompts::language::Language;
use hushpay_prompts::prompt::PromptSet;
use serde::Deserialize;

use super::flow::IvrSettings;
use crate::config_error::ConfigError;

macro_rules! default_prompts {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"), "/../../prompts/en/", $name, ".wav"
        )) as &[u8])),*]
    };
}

macro_rules! default_spanish_prompts {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"), "/../../prompts/es/", $name, ".wav"
        )) as &[u8])),*]
    };
}

/// The default English prompt set, built in: one file a name of
/// [`hushpay_prompts::with_prompt_names`].
pub const DEFAULT_PROMPTS: &[(&str, &[u8])] = hushpay_prompts::with_prompt_names!(default_prompts);

/// The default Spanish prompt set, built in: one file a name of
/// [`hushpay_prompts::with_spanish_prompt_names`].
pub const DEFAULT_SPANISH_PROMPTS: &[(&str, &[u8])] =
    hushpay_prompts::with_spanish_prompt_names!(default_spanish_prompts);

/// The built-in prompts of `language`.
pub fn default_prompts(language: Language) -> &'static [(&'static str, &'static [u8])] {
    match language {
        Language::Spanish => DEFAULT_SPANISH_PROMPTS,
        _ => DEFAULT_PROMPTS,
    }
}

/// The language and prompt name of an `[ivr.prompts]` key or a file under `prompts_dir`
/// (`hold`: English; `es/hold`: Spanish), if it names a prompt.
fn prompt_key(key: &str) -> Option<(Language, &str)> {
    let (language, name) = match key.split_once('/') {
        Some((code, name)) => (
            Language::ALL.iter().copied().find(|l| l.code() == code)?,
            name,
        ),
        None => (Language::English, key),
    };
    language
        .prompt_names()
        .contains(&name)
        .then_some((language, name))
}

/// The encoded prompt set of every language.
#[derive(Debug, Clone)]
pub struct PromptSets {
    sets: Vec<Arc<PromptSet>>,
}

impl PromptSets {
    /// The set of `language`.
    pub fn language(&self, language: Language) -> &Arc<PromptSet> {
        self.sets
            .iter()
            .find(|s| s.language() == language)
            .unwrap_or(&self.sets[0])
    }

    /// The set a payment's (validated) locale picks; English for an unknown one.
    pub fn for_locale(&self, locale: &str) -> &Arc<PromptSet> {
        self.language(Language::from_locale(locale).unwrap_or(Language::English))
    }
}

/// `[ivr]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawIvr {
    pub prompts_dir: Option<PathBuf>,
    #[serde(default)]
    pub prompts: BTreeMap<String, PathBuf>,
    pub entry_timeout_secs: Option<u64>,
    pub confirm_attempts: Option<u8>,
    pub hold_audio: Option<bool>,
}

/// The validated `[ivr]` section (files are read by [`IvrConfig::load_prompts`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IvrConfig {
    pub prompts_dir: Option<PathBuf>,
    pub prompts: BTreeMap<String, PathBuf>,
    pub settings: IvrSettings,
    pub hold_audio: bool,
}

impl Default for IvrConfig {
    fn default() -> Self {
        Self {
            prompts_dir: None,
            prompts: BTreeMap::new(),
            settings: IvrSettings::default(),
            hold_audio: true,
        }
    }
}

fn invalid(key: &'static str, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

impl RawIvr {
    pub fn validate(self) -> Result<IvrConfig, ConfigError> {
        let entry = self.entry_timeout_secs.unwrap_or(10);
        if !(1..=120).contains(&entry) {
            return Err(invalid("ivr.entry_timeout_secs", "must be 1 to 120"));
        }
        let confirm_attempts = self.confirm_attempts.unwrap_or(3);
        if !(1..=5).contains(&confirm_attempts) {
            return Err(invalid("ivr.confirm_attempts", "must be 1 to 5"));
        }
        if let Some(unknown) = self.prompts.keys().find(|k| prompt_key(k).is_none()) {
            return Err(invalid(
                "ivr.prompts",
                format!("`{}` is not a prompt name", unknown.escape_debug()),
            ));
        }
        Ok(IvrConfig {
            prompts_dir: self.prompts_dir,
            prompts: self.prompts,
            settings: IvrSettings {
                entry_timeout: Duration::from_secs(entry),
                confirm_attempts,
            },
            hold_audio: self.hold_audio.unwrap_or(true),
        })
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

impl IvrConfig {
    /// Reads the replacements and encodes every language's set.
    pub fn load_prompts(&self) -> Result<Arc<PromptSets>, ConfigError> {
        let sets = Language::ALL
            .iter()
            .map(|&l| self.load_language(l))
            .collect::<Result<_, _>>()?;
        Ok(Arc::new(PromptSets { sets }))
    }

    /// Reads the replacements of `language` and encodes its whole set (defaults, then
    /// `prompts_dir` (`prompts_dir/<code>` for a language other than English), then
    /// `[ivr.prompts]`).
    pub fn load_language(&self, language: Language) -> Result<Arc<PromptSet>, ConfigError> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(dir) = &self.prompts_dir {
            let dir = match language {
                Language::English => dir.clone(),
                other => dir.join(other.code()),
            };
            if language == Language::English || dir.is_dir() {
                files.extend(read_dir(&dir, language)?);
            }
        }
        for (key, path) in &self.prompts {
            if let Some((l, name)) = prompt_key(key)
                && l == language
            {
                files.push((name.to_owned(), read(path)?));
            }
        }
        let sources = default_prompts(language)
            .iter()
            .map(|(n, b)| (*n, *b))
            .chain(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
        PromptSet::encode_for(language, sources)
            .map(Arc::new)
            .map_err(|e| invalid("ivr.prompts", format!("{}: {e}", language.code())))
    }
}

/// The `<name>.wav` files of `dir` (other files and directories are skipped).
fn read_dir(dir: &Path, language: Language) -> Result<Vec<(String, Vec<u8>)>, ConfigError> {
    let read_error = |source| ConfigError::Read {
        path: dir.to_owned(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_error)? {
        let path = entry.map_err(read_error)?.path();
        let Some(name) = path
            .extension()
            .is_some_and(|e| e == "wav")
            .then(|| path.file_stem().and_then(|s| s.to_str()))
            .flatten()
        else {
            continue;
        };
        if !language.prompt_names().contains(&name) {
            return Err(invalid(
                "ivr.prompts_dir",
                format!("{} names no prompt", path.display()),
            ));
        }
        files.push((name.to_owned(), read(&path)?));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hushpay_media::wav::Wav;

    #[test]
    fn the_built_in_sets_are_every_prompt_once_in_every_language() {
        for &language in Language::ALL {
            let names: Vec<_> = default_prompts(language).iter().map(|(n, _)| *n).collect();
            assert_eq!(names, language.prompt_names());
        }
        let sets = IvrConfig::default().load_prompts().unwrap();
        assert_eq!(sets.for_locale("es-US").language(), Language::Spanish);
        assert_eq!(sets.for_locale("en").language(), Language::English);
        assert!(sets.for_locale("es").clip("veintiun").is_some());
        // The vault accepts exactly the languages that have prompts.
        let codes: Vec<_> = Language::ALL.iter().map(|l| l.code()).collect();
        assert_eq!(codes, hushpay_vault::payment::locale::LANGUAGES);
    }

    #[test]
    fn replacements_by_dir_and_by_path_and_typos_refused() {
        let dir = std::env::temp_dir().join(format!("hushpay-ivr-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let long = Wav {
            rate: 16_000,
            samples: vec![1000; 16_000],
        };
        std::fs::write(dir.join("hold.wav"), long.to_bytes()).unwrap();
        std::fs::write(dir.join("notes.txt"), b"ignored").unwrap();
        let raw = RawIvr {
            prompts_dir: Some(dir.clone()),
            prompts: BTreeMap::from([("n1".to_owned(), dir.join("hold.wav"))]),
            ..RawIvr::default()
        };
        let set = raw
            .validate()
            .unwrap()
            .load_language(Language::English)
            .unwrap();
        assert_eq!(set.clip("hold").unwrap().frames(), 50);
        assert_eq!(set.clip("n1").unwrap().frames(), 50);

        // Another language's replacements: prompts_dir/<code>/ and "<code>/<name>" keys.
        std::fs::create_dir_all(dir.join("es")).unwrap();
        std::fs::write(dir.join("es").join("veintiun.wav"), long.to_bytes()).unwrap();
        let raw = RawIvr {
            prompts_dir: Some(dir.clone()),
            prompts: BTreeMap::from([("es/hold".to_owned(), dir.join("hold.wav"))]),
            ..RawIvr::default()
        };
        let sets = raw.validate().unwrap().load_prompts().unwrap();
        let es = sets.language(Language::Spanish);
        assert_eq!(es.clip("veintiun").unwrap().frames(), 50);
        assert_eq!(es.clip("hold").unwrap().frames(), 50);
        assert!(
            sets.language(Language::English)
                .clip("hold")
                .unwrap()
                .frames()
                == 50
        );
        std::fs::write(dir.join("es").join("dollars.wav"), long.to_bytes()).unwrap();
        let raw = RawIvr {
            prompts_dir: Some(dir.clone()),
            ..RawIvr::default()
        };
        let err = raw.validate().unwrap().load_prompts().unwrap_err();
        assert!(err.to_string().contains("dollars.wav"), "{err}");
        std::fs::remove_dir_all(dir.join("es")).unwrap();
        for typo in ["es/dollars", "fr/hold", "es/"] {
            let raw = RawIvr {
                prompts: BTreeMap::from([(typo.to_owned(), PathBuf::from("x.wav"))]),
                ..RawIvr::default()
            };
            assert!(raw.validate().is_err(), "{typo}");
        }

        std::fs::write(dir.join("hodl.wav"), long.to_bytes()).unwrap();
        let raw = RawIvr {
            prompts_dir: Some(dir.clone()),
            ..RawIvr::default()
        };
        let err = raw.validate().unwrap().load_prompts().unwrap_err();
        assert!(err.to_string().contains("hodl.wav"), "{err}");
        std::fs::remove_file(dir.join("hodl.wav")).unwrap();

        std::fs::write(dir.join("n2.wav"), b"RIFF junk").unwrap();
        let raw = RawIvr {
            prompts_dir: Some(dir.clone()),
            ..RawIvr::default()
        };
        let err = raw.validate().unwrap().load_prompts().unwrap_err();
        assert!(err.to_string().contains("n2"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();

        let typo = RawIvr {
            prompts: BTreeMap::from([("holdd".to_owned(), PathBuf::from("x.wav"))]),
            ..RawIvr::default()
        };
        assert!(typo.validate().unwrap_err().to_string().contains("holdd"));
        let bad = RawIvr {
            entry_timeout_secs: Some(0),
            ..RawIvr::default()
        };
        assert!(bad.validate().is_err());
        let missing = RawIvr {
            prompts: BTreeMap::from([("hold".to_owned(), PathBuf::from("/nonexistent.wav"))]),
            ..RawIvr::default()
        };
        assert!(missing.validate().unwrap().load_prompts().is_err());
    }
}
