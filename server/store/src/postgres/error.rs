//! PostgreSQL errors as [`StoreError`]s.
//!
//! Messages carry the SQLSTATE and the server's primary message only: never the `DETAIL`
//! line, which quotes the values of the offending row.

use crate::StoreError;

/// `SQLSTATE: message` for a database error, the driver's text otherwise.
pub(super) fn describe(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    }
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
