//! The driver's TLS hooks ([`MakeTlsConnect`], [`TlsConnect`], [`TlsStream`]) over
//! tokio-rustls: what [`super::TlsSettings`] hands to `tokio_postgres` and the pool.
//!
//! No channel binding is offered (`tls-server-end-point`): SCRAM authentication runs without
//! it, as it does over a connection without TLS.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect, TlsStream};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::ClientConfig;
use tokio_rustls::rustls::pki_types::ServerName;

/// Makes one [`PgTlsConnect`] per connection, for the host being connected to.
#[derive(Clone)]
pub struct PgTlsConnector {
    config: Arc<ClientConfig>,
    /// How the server is checked, for error messages (`sslmode=verify-full, CA file ...`).
    checks: Arc<str>,
}

impl std::fmt::Debug for PgTlsConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgTlsConnector({})", self.checks)
    }
}

impl PgTlsConnector {
    pub(super) fn new(config: ClientConfig, checks: String) -> PgTlsConnector {
        PgTlsConnector {
            config: Arc::new(config),
            checks: checks.into(),
        }
    }
}

impl<S> MakeTlsConnect<S> for PgTlsConnector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type TlsConnect = PgTlsConnect;
    type Error = io::Error;

    /// `domain` is the `host` of the connection string (empty for a Unix socket, over which
    /// the driver never starts TLS).
    fn make_tls_connect(&mut self, domain: &str) -> Result<PgTlsConnect, io::Error> {
        Ok(PgTlsConnect {
            connector: TlsConnector::from(Arc::clone(&self.config)),
            name: ServerName::try_from(domain.to_owned()).map_err(|_| domain.to_owned()),
            checks: Arc::clone(&self.checks),
        })
    }
}

/// One TLS handshake with the host a connection was opened to.
pub struct PgTlsConnect {
    connector: TlsConnector,
    /// The host's name, or the host as written when it is no DNS name nor IP address.
    name: Result<ServerName<'static>, String>,
    checks: Arc<str>,
}

impl std::fmt::Debug for PgTlsConnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PgTlsConnect({:?}, {})", self.name, self.checks)
    }
}

impl<S> TlsConnect<S> for PgTlsConnect
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = PgTlsStream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<PgTlsStream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = self.name.map_err(|host| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "host `{host}` is no DNS name or IP address to check a certificate \
                         against ({})",
                        self.checks
                    ),
                )
            })?;
            self.connector
                .connect(name, stream)
                .await
                .map(PgTlsStream)
                .map_err(|e| io::Error::new(e.kind(), format!("{e} ({})", self.checks)))
        })
    }
}

/// A connection to PostgreSQL inside TLS.
#[derive(Debug)]
pub struct PgTlsStream<S>(tokio_rustls::client::TlsStream<S>);

impl<S: AsyncRead + AsyncWrite + Unpin> TlsStream for PgTlsStream<S> {
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for PgTlsStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for PgTlsStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
