//! Conversions between the records' integer types and PostgreSQL `BIGINT` columns, checked
//! both ways: an out-of-range value is a [`StoreError::Corrupt`], never a wrap-around.

use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

use crate::StoreError;

/// A statement parameter.
pub(super) type Param<'a> = &'a (dyn ToSql + Sync);

/// A `u64` (sequence numbers, counters, limits) as a `BIGINT`.
pub(super) fn to_i64(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} out of range")))
}

/// Reads a `BIGINT` column into an unsigned type, refusing out-of-range values.
pub(super) fn unsigned<T: TryFrom<i64>>(
    row: &Row,
    index: usize,
    what: &str,
) -> Result<T, StoreError> {
    let v: i64 = row.try_get(index)?;
    T::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} out of range")))
}

/// Reads a nullable `BIGINT` column into an unsigned type.
pub(super) fn unsigned_opt<T: TryFrom<i64>>(
    row: &Row,
    index: usize,
    what: &str,
) -> Result<Option<T>, StoreError> {
    let v: Option<i64> = row.try_get(index)?;
    v.map(|v| T::try_from(v).map_err(|_| StoreError::Corrupt(format!("{what} out of range"))))
        .transpose()
}
