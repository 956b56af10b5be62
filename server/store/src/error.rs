use thiserror::Error;

/// What a [`crate::Store`] operation can fail with.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A record with the same unique key exists.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed (I/O, corruption, connection). The message never contains record data.
    #[error("storage backend error: {0}")]
    Backend(String),
    /// A schema migration failed or the database is newer than this build.
    #[error("migration failed: {0}")]
    Migration(String),
    /// A stored value could not be decoded (a corrupt or foreign row).
    #[error("corrupt record: {0}")]
    Corrupt(String),
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match &e {
            rusqlite::Error::SqliteFailure(f, msg)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                StoreError::Conflict(msg.clone().unwrap_or_else(|| "constraint violation".into()))
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}
