//! PostgreSQL errors as [`StoreError`]s.
//!
//! Messages carry the SQLSTATE and the server's primary message only: never the `DETAIL`
//! line, which quotes the values of the offending row. Other errors carry the driver's text
//! and its causes (the I/O or TLS error behind "error performing TLS handshake"), which name
//! types, hosts and certificates, never values.

use crate::StoreError;

/// `SQLSTATE: message` for a database error, the driver's text and its causes otherwise.
pub(super) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.code().code(), db.message());
    }
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        // Class 23 is "integrity constraint violation" (unique, foreign key, check, not
        // null): the same cases SQLite reports as a constraint violation.
        match e.code() {
            Some(code) if code.code().starts_with("23") => StoreError::Conflict(describe(&e)),
            _ => StoreError::Backend(describe(&e)),
        }
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::Backend(describe(&e)),
            other => StoreError::Backend(format!("connection pool: {other}")),
        }
    }
}
