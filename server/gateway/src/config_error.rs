//! [`ConfigError`]: what reading or validating the configuration found wrong. In a module of
//! its own so that the configuration sections (`[rtc]`, `[vault]`, ... beside the code they
//! configure) use it without importing `config.rs`, which imports every section.

use std::path::PathBuf;

use thiserror::Error;

/// Errors found while reading or validating configuration.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid config: {0}")]
    Parse(String),
    #[error("invalid environment override {var}: {reason}")]
    Env { var: String, reason: String },
    #[error("invalid setting `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
    #[error("refused in production mode: {0}")]
    Production(String),
}
