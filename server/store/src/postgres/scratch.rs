//! [`ScratchSchema`]: a uniquely named, empty schema on a real PostgreSQL server, dropped
//! (with everything in it) when the value is dropped — how tests, benchmarks and the crash
//! loop use PostgreSQL without touching anyone else's rows.

use std::sync::atomic::{AtomicU64, Ordering};

use super::PgUrl;
use crate::StoreError;

/// The server tests use unless `HUSHPAY_TEST_POSTGRES` names another.
pub const DEFAULT_TEST_SERVER: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A throwaway schema. [`ScratchSchema::url`] selects it through the connection's
/// `search_path`, so a [`super::PgStore`] opened on that URL creates its tables inside it.
#[derive(Debug)]
pub struct ScratchSchema {
    server: String,
    name: String,
    url: String,
}

impl ScratchSchema {
    /// Creates `hushpay_<tag>_<pid>_<nanos>_<n>` on the server named by
    /// `HUSHPAY_TEST_POSTGRES` (default [`DEFAULT_TEST_SERVER`]).
    pub async fn create(tag: &str) -> Result<ScratchSchema, StoreError> {
        let server = std::env::var("HUSHPAY_TEST_POSTGRES")
            .unwrap_or_else(|_| DEFAULT_TEST_SERVER.to_owned());
        ScratchSchema::create_on(&server, tag).await
    }

    /// Creates a scratch schema on `server` (a URL without `options`).
    pub async fn create_on(server: &str, tag: &str) -> Result<ScratchSchema, StoreError> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let tag: String = tag
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(20)
            .collect::<String>()
            .to_ascii_lowercase();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let name = format!(
            "hushpay_{tag}_{}_{nanos}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        run(server, &format!("CREATE SCHEMA {name}")).await?;
        let sep = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{sep}options=-csearch_path%3D{name}");
        Ok(ScratchSchema {
            server: server.to_owned(),
            name,
            url,
        })
    }

    /// The schema's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A connection URL whose `search_path` is this schema.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every table of the schema with its rows rendered as PostgreSQL's row text (`bytea` as
    /// `\\x` hex), for tracer scans of what the database holds.
    pub async fn table_contents(&self) -> Result<Vec<(String, String)>, StoreError> {
        let url = PgUrl::parse(&self.server)?;
        let (client, connection) = url.config().connect(url.tls()).await?;
        let driver = tokio::spawn(connection);
        let result = async {
            let tables = client
                .query(
                    "SELECT table_name::text FROM information_schema.tables
                     WHERE table_schema = $1 ORDER BY 1",
                    &[&self.name],
                )
                .await?;
            let mut out = Vec::new();
            for row in tables {
                let table: String = row.try_get(0)?;
                let sql = format!(
                    "SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM {}.\"{table}\" t",
                    self.name
                );
                let text: String = client.query_one(&sql, &[]).await?.try_get(0)?;
                out.push((table, text));
            }
            Ok::<_, tokio_postgres::Error>(out)
        }
        .await;
        drop(client);
        let _ = driver.await;
        Ok(result?)
    }

    /// [`ScratchSchema::url`], parsed.
    pub fn pg_url(&self) -> Result<PgUrl, StoreError> {
        PgUrl::parse(&self.url)
    }
}

impl Drop for ScratchSchema {
    /// Drops the schema on a helper thread with its own runtime (a `Drop` cannot await, and
    /// may run inside or outside a tokio runtime).
    fn drop(&mut self) {
        let (server, sql) = (
            self.server.clone(),
            format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name),
        );
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            rt.block_on(run(&server, &sql))
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: scratch schema {} was not dropped", self.name);
        }
    }
}

/// Runs one statement on a fresh connection.
async fn run(server: &str, sql: &str) -> Result<(), StoreError> {
    let url = PgUrl::parse(server)?;
    let (client, connection) = url.config().connect(url.tls()).await?;
    let driver = tokio::spawn(connection);
    let result = client.batch_execute(sql).await;
    drop(client);
    let _ = driver.await;
    Ok(result?)
}
