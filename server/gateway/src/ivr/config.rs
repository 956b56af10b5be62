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
//! ```
//!
//! The default English prompts (prompts/en, made by scripts/make-prompts.sh) are built into the
//! binary, so a gateway without `[ivr]` speaks them. Any prompt may be replaced; names are
//! those of [`hushpay_prompts::prompt::PROMPT_NAMES`], and a file in `prompts_dir` or a key in
//! `[ivr.prompts]` that names no prompt is refused at start-up (a typo must not silently
//! leave the default in place). Every prompt is encoded once, at start-up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hushpay_prompts::prompt::{PROMPT_NAMES, PromptSet};
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

/// The default English prompt set, built in: one file a name of
/// [`hushpay_prompts::with_prompt_names`].
pub const DEFAULT_PROMPTS: &[(&str, &[u8])] = hushpay_prompts::with_prompt_names!(default_prompts);

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
        if let Some(unknown) = self
            .prompts
            .keys()
            .find(|k| !PROMPT_NAMES.contains(&k.as_str()))
        {
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
    /// Reads the replacements and encodes the whole set (defaults, then `prompts_dir`, then
    /// `[ivr.prompts]`).
    pub fn load_prompts(&self) -> Result<Arc<PromptSet>, ConfigError> {
        let mut files: Vec<(String, Vec<u8>)> = Vec::new();
        if let Some(dir) = &self.prompts_dir {
            let entries = std::fs::read_dir(dir).map_err(|source| ConfigError::Read {
                path: dir.clone(),
                source,
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|source| ConfigError::Read {
                        path: dir.clone(),
                        source,
                    })?
                    .path();
                let Some(name) = path
                    .extension()
                    .is_some_and(|e| e == "wav")
                    .then(|| path.file_stem().and_then(|s| s.to_str()))
                    .flatten()
                else {
                    continue;
                };
                if !PROMPT_NAMES.contains(&name) {
                    return Err(invalid(
                        "ivr.prompts_dir",
                        format!("{} names no prompt", path.display()),
                    ));
                }
                files.push((name.to_owned(), read(&path)?));
            }
        }
        for (name, path) in &self.prompts {
            files.push((name.clone(), read(path)?));
        }
        let sources = DEFAULT_PROMPTS
            .iter()
            .map(|(n, b)| (*n, *b))
            .chain(files.iter().map(|(n, b)| (n.as_str(), b.as_slice())));
        PromptSet::encode(sources)
            .map(Arc::new)
            .map_err(|e| invalid("ivr.prompts", e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hushpay_media::wav::Wav;

    #[test]
    fn the_built_in_set_is_every_prompt_once() {
        let names: Vec<_> = DEFAULT_PROMPTS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, PROMPT_NAMES);
        IvrConfig::default().load_prompts().unwrap();
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
        let set = raw.validate().unwrap().load_prompts().unwrap();
        assert_eq!(set.clip("hold").unwrap().frames(), 50);
        assert_eq!(set.clip("n1").unwrap().frames(), 50);

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
