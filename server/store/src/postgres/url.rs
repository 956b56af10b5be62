//! [`PgUrl`]: a parsed, validated PostgreSQL connection string whose `Debug` and `Display`
//! never show the password, with its TLS settings (`sslmode`, `sslrootcert`: [`super::tls`]).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use tokio_postgres::config::Host;

use super::tls::{PgTlsConnector, RootCertificates, SslMode, TlsSettings, params};
use crate::StoreError;

/// How long opening a connection may take before the store reports the server unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A PostgreSQL connection string (`postgres://user@host:port/db?options=...` or the
/// `key=value` form), parsed once.
#[derive(Clone)]
pub struct PgUrl {
    config: tokio_postgres::Config,
    tls: TlsSettings,
}

impl PgUrl {
    /// Parses a connection string. Only `postgres://` and `postgresql://` URLs and the
    /// `key=value` form are accepted; the error never repeats the string (it may hold a
    /// password). With `sslmode=verify-full` the root certificates are loaded here, so a
    /// missing or unreadable `sslrootcert` file is an error now, not at the first query.
    pub fn parse(url: &str) -> Result<PgUrl, StoreError> {
        let split = params::split(url).map_err(|e| {
            StoreError::Backend(format!(
                "invalid PostgreSQL URL: {} is not valid percent-encoded UTF-8",
                e.0
            ))
        })?;
        let mut config = tokio_postgres::Config::from_str(&split.rest).map_err(|e| {
            let why = std::error::Error::source(&e).map_or(String::new(), |s| format!(": {s}"));
            StoreError::Backend(format!("invalid PostgreSQL URL: {e}{why}"))
        })?;
        if config.get_hosts().is_empty() {
            return Err(StoreError::Backend(
                "invalid PostgreSQL URL: no host".into(),
            ));
        }
        let tls = TlsSettings::new(split.sslmode.as_deref(), split.sslrootcert.as_deref())?;
        tls.apply(&mut config);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        config.application_name("hushpay");
        Ok(PgUrl { config, tls })
    }

    pub(super) fn config(&self) -> &tokio_postgres::Config {
        &self.config
    }

    /// The TLS connector every connection of this URL goes through (it enforces the mode).
    pub(super) fn tls(&self) -> PgTlsConnector {
        self.tls.connector.clone()
    }

    /// The `sslmode` (libpq's default, `prefer`, when the string names none).
    pub fn ssl_mode(&self) -> SslMode {
        self.tls.mode
    }

    /// The roots `verify-full` trusts (`None` with any other mode).
    pub fn root_certificates(&self) -> Option<&RootCertificates> {
        self.tls.roots.as_ref()
    }

    /// The hosts reached across a network: every host that is neither a Unix socket nor a
    /// loopback address (`localhost`, `127.0.0.0/8`, `::1`; a `hostaddr` decides over its
    /// host's name). Empty when the server is on this machine.
    pub fn network_hosts(&self) -> Vec<String> {
        let hosts = self.config.get_hosts();
        let addrs = self.config.get_hostaddrs();
        (0..hosts.len().max(addrs.len()))
            .filter_map(|i| match (hosts.get(i), addrs.get(i)) {
                (host, Some(addr)) => (!addr.is_loopback()).then(|| match host {
                    Some(Host::Tcp(name)) => format!("{name} ({addr})"),
                    _ => addr.to_string(),
                }),
                #[cfg(unix)]
                (Some(Host::Unix(_)), None) => None,
                (Some(Host::Tcp(name)), None) => (!is_loopback_name(name)).then(|| name.clone()),
                (None, None) => None,
            })
            .collect()
    }
}

fn is_loopback_name(name: &str) -> bool {
    name.eq_ignore_ascii_case("localhost")
        || name
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            #[cfg(unix)]
            Some(Host::Unix(p)) => p.display().to_string(),
            None => String::new(),
        };
        let port = self.config.get_ports().first().copied().unwrap_or(5432);
        write!(
            f,
            "postgres://{}@{host}:{port}/{}",
            self.config.get_user().unwrap_or(""),
            self.config.get_dbname().unwrap_or("")
        )?;
        if self.tls.mode != SslMode::default() {
            write!(f, "?sslmode={}", self.tls.mode)?;
        }
        Ok(())
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

impl PartialEq for PgUrl {
    /// Equal when they name the same server, database, user and TLS settings (tests of
    /// config parsing).
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
            && self.config.get_options() == other.config.get_options()
            && self.tls.roots == other.tls.roots
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

    fn parse_err(url: &str) -> String {
        PgUrl::parse(url).unwrap_err().to_string()
    }

    #[test]
    fn reads_sslmode_with_libpq_default_and_refuses_what_it_does_not_support() {
        let url = PgUrl::parse("postgres://u:pw@db.example/x").unwrap();
        assert_eq!(url.ssl_mode(), SslMode::Prefer);
        assert_eq!(url.to_string(), "postgres://u@db.example:5432/x");
        let url = PgUrl::parse("postgres://u:pw@db.example/x?sslmode=require").unwrap();
        assert_eq!(url.ssl_mode(), SslMode::Require);
        assert_eq!(
            url.to_string(),
            "postgres://u@db.example:5432/x?sslmode=require"
        );
        let url = PgUrl::parse("host=db.example user=u sslmode=verify-full").unwrap();
        assert_eq!(url.ssl_mode(), SslMode::VerifyFull);
        assert_eq!(url.root_certificates(), Some(&RootCertificates::System));
        for (mode, says) in [
            (
                "verify-ca",
                "sslmode=verify-ca is not supported: use verify-full",
            ),
            ("allow", "sslmode=allow is not supported"),
            (
                "on",
                "sslmode must be disable, prefer, require or verify-full",
            ),
        ] {
            let err = parse_err(&format!("postgres://u:s3cr3t@db/x?sslmode={mode}"));
            assert!(err.contains(says), "{err}");
            assert!(!err.contains("s3cr3t"), "{err}");
        }
    }

    #[test]
    fn sslrootcert_must_be_a_readable_pem_file_used_by_verify_full() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let err = parse_err(&format!(
            "postgres://db/x?sslmode=verify-full&sslrootcert={}",
            missing.display()
        ));
        assert!(
            err.contains("cannot read sslrootcert") && err.contains("missing.pem"),
            "{err}"
        );
        let not_pem = dir.path().join("not.pem");
        std::fs::write(&not_pem, "hello").unwrap();
        let err = parse_err(&format!(
            "host=db sslmode=verify-full sslrootcert={}",
            not_pem.display()
        ));
        assert!(err.contains("holds no PEM certificate"), "{err}");
        let err = parse_err("postgres://db/x?sslmode=require&sslrootcert=/etc/ssl/ca.pem");
        assert!(
            err.contains("sslrootcert is only used with sslmode=verify-full"),
            "{err}"
        );
        let err = parse_err("postgres://db/x?sslrootcert=/etc/ssl/ca.pem");
        assert!(err.contains("sslmode=prefer would not check"), "{err}");
    }

    #[test]
    fn tells_network_hosts_from_this_machine() {
        let hosts = |url: &str| PgUrl::parse(url).unwrap().network_hosts();
        for local in [
            "postgres://u@127.0.0.1/x",
            "postgres://u@localhost:5433/x",
            "postgres://u@[::1]/x",
            "host=/var/run/postgresql user=u",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/x",
            "host=db.example hostaddr=127.0.0.1 user=u",
        ] {
            assert_eq!(hosts(local), Vec::<String>::new(), "{local}");
        }
        assert_eq!(hosts("postgres://u@db.example/x"), ["db.example"]);
        assert_eq!(hosts("postgres://u@10.0.0.5/x"), ["10.0.0.5"]);
        assert_eq!(
            hosts("host=localhost hostaddr=10.0.0.5 user=u"),
            ["localhost (10.0.0.5)"]
        );
        assert_eq!(
            hosts("postgres://u@127.0.0.1,db2.example/x"),
            ["db2.example"]
        );
    }
}
