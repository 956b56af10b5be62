//! TLS to PostgreSQL: `sslmode` and `sslrootcert` from the connection string, with libpq's
//! meanings, over rustls with the ring provider.
//!
//! | `sslmode`            | TLS                      | the server's certificate                     |
//! |----------------------|--------------------------|----------------------------------------------|
//! | `disable`            | never                    | —                                            |
//! | `prefer` (default)   | when the server offers it| not checked                                  |
//! | `require`            | always                   | not checked (any certificate is accepted)    |
//! | `verify-full`        | always                   | chain to a trusted root, and the host name   |
//!
//! `require` and `prefer` encrypt, and the handshake proves the server holds the key of the
//! certificate it shows, but nothing proves whose certificate that is
//! ([`danger::AcceptAnyServerCertificate`]): they stop a passive listener, not an active man
//! in the middle. `prefer` also falls back to plain text when the server declines TLS, so
//! neither it nor `disable` counts as TLS for a server beyond this machine
//! ([`SslMode::insists_on_tls`]).
//!
//! `verify-full` trusts the PEM certificates of `sslrootcert=FILE` (the CA that signed the
//! server's certificate, or a self-signed server certificate itself), or the system's roots
//! when `sslrootcert` is absent or `system` (libpq's default file, `~/.postgresql/root.crt`,
//! is not read). `sslrootcert` with any other mode is refused rather than silently unused.
//! `verify-ca` (chain without host name), `allow`, and client certificates (`sslcert`,
//! `sslkey`) are not supported.

mod connect;
mod danger;
pub(crate) mod params;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

pub use connect::{PgTlsConnect, PgTlsConnector, PgTlsStream};

use crate::StoreError;

/// libpq's `sslmode`, the values this store supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SslMode {
    /// Plain text.
    Disable,
    /// TLS when the server offers it, plain text otherwise; the certificate is not checked.
    #[default]
    Prefer,
    /// Always TLS; the certificate is not checked.
    Require,
    /// Always TLS; the certificate chains to a trusted root and names the host.
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<SslMode, StoreError> {
        match value {
            "disable" => Ok(SslMode::Disable),
            "prefer" => Ok(SslMode::Prefer),
            "require" => Ok(SslMode::Require),
            "verify-full" => Ok(SslMode::VerifyFull),
            "allow" | "verify-ca" => Err(invalid(format!(
                "sslmode={value} is not supported: use verify-full (or require)"
            ))),
            _ => Err(invalid(
                "sslmode must be disable, prefer, require or verify-full".into(),
            )),
        }
    }

    /// The name in a connection string.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyFull => "verify-full",
        }
    }

    /// Whether every connection is encrypted (`require`, `verify-full`): `prefer` falls back
    /// to plain text when the server, or a man in the middle, declines TLS.
    pub fn insists_on_tls(self) -> bool {
        matches!(self, SslMode::Require | SslMode::VerifyFull)
    }

    /// The driver's mode: it negotiates TLS; the verifier decides what is checked.
    fn driver_mode(self) -> tokio_postgres::config::SslMode {
        match self {
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyFull => tokio_postgres::config::SslMode::Require,
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The roots `verify-full` trusts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCertificates {
    /// The operating system's trust store.
    System,
    /// The PEM certificates of one file (`sslrootcert=FILE`).
    File(PathBuf),
}

/// The TLS side of one connection string: its mode and the connector that enforces it.
#[derive(Debug, Clone)]
pub(crate) struct TlsSettings {
    pub mode: SslMode,
    pub roots: Option<RootCertificates>,
    pub connector: PgTlsConnector,
}

impl TlsSettings {
    /// Reads `sslmode` and `sslrootcert` (as written, decoded) and loads the roots, so a
    /// missing or unreadable CA file is an error at start-up, not at the first query.
    pub(crate) fn new(
        sslmode: Option<&str>,
        sslrootcert: Option<&str>,
    ) -> Result<TlsSettings, StoreError> {
        let mode = sslmode.map_or(Ok(SslMode::default()), SslMode::parse)?;
        let roots = match (mode, sslrootcert) {
            (SslMode::VerifyFull, None | Some("system")) => Some(RootCertificates::System),
            (SslMode::VerifyFull, Some("")) => return Err(invalid("sslrootcert is empty".into())),
            (SslMode::VerifyFull, Some(file)) => Some(RootCertificates::File(file.into())),
            (_, None) => None,
            (_, Some(_)) => {
                return Err(invalid(format!(
                    "sslrootcert is only used with sslmode=verify-full (sslmode={mode} would \
                     not check the certificate against it)"
                )));
            }
        };
        // ring, as the rest of the workspace's rustls (never the process-wide default).
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| StoreError::Backend(format!("TLS configuration: {e}")))?;
        let (mut config, checks) = match &roots {
            Some(roots) => (
                builder
                    .with_root_certificates(root_store(roots)?)
                    .with_no_client_auth(),
                match roots {
                    RootCertificates::System => "sslmode=verify-full, system roots".to_owned(),
                    RootCertificates::File(path) => {
                        format!("sslmode=verify-full, sslrootcert {}", path.display())
                    }
                },
            ),
            None => (
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(
                        danger::AcceptAnyServerCertificate::new(provider),
                    ))
                    .with_no_client_auth(),
                format!("sslmode={mode}, certificate not checked"),
            ),
        };
        // PostgreSQL 17 checks the protocol name on TLS connections; older servers ignore it.
        config.alpn_protocols = vec![b"postgresql".to_vec()];
        Ok(TlsSettings {
            mode,
            roots,
            connector: PgTlsConnector::new(config, checks),
        })
    }

    /// Sets the driver's side of the mode on `config`.
    pub(crate) fn apply(&self, config: &mut tokio_postgres::Config) {
        config.ssl_mode(self.mode.driver_mode());
    }
}

fn root_store(roots: &RootCertificates) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    match roots {
        RootCertificates::File(path) => {
            let shown = path.display();
            let pem = std::fs::read(path)
                .map_err(|e| invalid(format!("cannot read sslrootcert {shown}: {e}")))?;
            let certs = CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid(format!("sslrootcert {shown}: not PEM ({e})")))?;
            if certs.is_empty() {
                return Err(invalid(format!(
                    "sslrootcert {shown} holds no PEM certificate"
                )));
            }
            for cert in certs {
                store
                    .add(cert)
                    .map_err(|e| invalid(format!("sslrootcert {shown}: {e}")))?;
            }
        }
        RootCertificates::System => {
            let found = rustls_native_certs::load_native_certs();
            let (added, _unparsable) = store.add_parsable_certificates(found.certs);
            if added == 0 {
                return Err(invalid(
                    "sslmode=verify-full found no system root certificates: install the \
                     system's CA certificates or set sslrootcert=FILE"
                        .into(),
                ));
            }
        }
    }
    Ok(store)
}

/// An invalid connection string (the message never repeats the string: it may hold a
/// password).
fn invalid(reason: String) -> StoreError {
    StoreError::Backend(format!("invalid PostgreSQL URL: {reason}"))
}
