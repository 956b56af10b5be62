//! SIP over TLS (`[sip] tls_listen`): the server side of rustls (ring, TLS 1.2 and 1.3, no
//! client certificates: trunks are admitted by source address and digest as on UDP and TCP).
//! A connection that has not finished its handshake within [`HANDSHAKE_WAIT`] is dropped.

use std::sync::Arc;
use std::time::Duration;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::config::SipTls;

/// How long a client may take to complete the TLS handshake.
pub const HANDSHAKE_WAIT: Duration = Duration::from_secs(10);

/// The acceptor for `tls`: its certificate chain and key read from their PEM files.
pub fn acceptor(tls: &SipTls) -> std::io::Result<TlsAcceptor> {
    let bad = |what: &str, e: &dyn std::fmt::Display| {
        std::io::Error::new(std::io::ErrorKind::InvalidData, format!("sip.{what}: {e}"))
    };
    let certs = CertificateDer::pem_file_iter(&tls.cert_file)
        .map_err(|e| bad("tls_cert_file", &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad("tls_cert_file", &e))?;
    if certs.is_empty() {
        return Err(bad("tls_cert_file", &"no certificate in the file"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key_file).map_err(|e| bad("tls_key_file", &e))?;
    let config = ServerConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| bad("tls_listen", &e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| bad("tls_key_file", &e))?;
    Ok(TlsAcceptor::from(Arc::new(config)))
}
