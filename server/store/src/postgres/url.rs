//! [`PgUrl`]: a parsed, validated PostgreSQL connection string whose `Debug` and `Display`
//! never show the password.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use crate::StoreError;

/// How long opening a connection may take before the store reports the server unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL connection string (`postgres://user@host:port/db?options=...` or the
/// `key=value` form), parsed once.
#[derive(Clone)]
pub struct PgUrl {
    config: tokio_postgres::Config,
}

impl PgUrl {
    /// Parses a connection string. Only `postgres://` and `postgresql://` URLs and the
    /// `key=value` form are accepted; the error never repeats the string (it may hold a
    /// password).
    pub fn parse(url: &str) -> Result<PgUrl, StoreError> {
        let mut config = tokio_postgres::Config::from_str(url)
            .map_err(|e| StoreError::Backend(format!("invalid PostgreSQL URL: {e}")))?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::Backend(
                "invalid PostgreSQL URL: no host".into(),
            ));
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("hushpay");
        Ok(PgUrl { config })
    }

    pub(super) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match self.config.get_hosts().first() {
            Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(tokio_postgres::config::Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        write!(
            f,
            "postgres://{}@{host}:{port}/{}",
            self.config.get_user().unwrap_or(""),
            self.config.get_dbname().unwrap_or("")
        )
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

impl PartialEq for PgUrl {
    /// Equal when they name the same server, database and user (tests of config parsing).
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
            && self.config.get_options() == other.config.get_options()
    }
}

impl Eq for PgUrl {}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn never_shows_the_password() {
        let url = PgUrl::parse("postgres://alice:s3cr3t-pw@db.example:6543/vault").unwrap();
        for shown in [format!("{url}"), format!("{url:?}")] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("db.example:6543/vault"), "{shown}");
        }
    }

    #[test]
    fn refuses_garbage_without_echoing_it() {
        let err = PgUrl::parse("postgres://alice:pw@host:notaport/db").unwrap_err();
        assert!(!err.to_string().contains("pw@"), "{err}");
        assert!(PgUrl::parse("postgres:///db").is_err(), "no host");
    }
}
