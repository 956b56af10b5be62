//! The refunds table: the limit check and the insert in one `IMMEDIATE` transaction (the
//! database's write lock, held by one writer at a time, across processes too).

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
use crate::{OutboxEvent, RefundInsert, RefundRecord, RefundStore, StoreError, TenantId};

const REFUND_COLUMNS: &str = "id, tenant_id, payment_id, idempotency_key, request_hash, amount, \
                              state, document, created_at, updated_at";

fn to_i64(n: u64) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt("amount out of range".into()))
}

fn refund_from_row(row: &Row<'_>) -> rusqlite::Result<RefundRecord> {
    let amount: i64 = row.get(5)?;
    Ok(RefundRecord {
        id: row.get(0)?,
        tenant: TenantId::new(row.get::<_, String>(1)?),
        payment_id: row.get(2)?,
        idempotency_key: row.get(3)?,
        request_hash: row.get(4)?,
        amount: u64::try_from(amount).map_err(|_| {
            rusqlite::Error::InvalidColumnType(5, "amount".into(), rusqlite::types::Type::Integer)
        })?,
        state: row.get(6)?,
        document: row.get(7)?,
        created_at: row.get(8)?,
        updated_at: row.get(9)?,
    })
}

fn insert_refund(
    c: &mut Connection,
    r: &RefundRecord,
    limit: u64,
) -> Result<RefundInsert, StoreError> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let theirs: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM payments WHERE id = ?1 AND tenant_id = ?2",
            params![r.payment_id, r.tenant.as_str()],
            |row| row.get(0),
        )
        .optional()?;
    if theirs.is_none() {
        return Err(StoreError::Conflict(format!(
            "no payment {} of tenant {}",
            r.payment_id, r.tenant
        )));
    }
    let refunded: i64 = tx.query_row(
        "SELECT COALESCE(SUM(amount), 0) FROM refunds WHERE payment_id = ?1 AND state != 'failed'",
        params![r.payment_id],
        |row| row.get(0),
    )?;
    let refunded = u64::try_from(refunded).unwrap_or(0);
    if refunded.saturating_add(r.amount) > limit {
        return Ok(RefundInsert::Exceeds { refunded });
    }
    tx.execute(
        &format!(
            "INSERT INTO refunds ({REFUND_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            r.id,
            r.tenant.as_str(),
            r.payment_id,
            r.idempotency_key,
            r.request_hash,
            to_i64(r.amount)?,
            r.state,
            r.document,
            r.created_at,
            r.updated_at
        ],
    )?;
    tx.commit()?;
    Ok(RefundInsert::Inserted)
}

fn finish_refund(
    c: &mut Connection,
    r: &RefundRecord,
    events: &[OutboxEvent],
) -> Result<bool, StoreError> {
    let tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE refunds SET state = ?3, document = ?4, updated_at = ?5
         WHERE id = ?1 AND tenant_id = ?2 AND state = 'pending'",
        params![r.id, r.tenant.as_str(), r.state, r.document, r.updated_at],
    )?;
    if n != 1 {
        return Ok(false);
    }
    super::payments::enqueue(&tx, events)?;
    tx.commit()?;
    Ok(true)
}

fn one(
    c: &mut Connection,
    sql: &str,
    p: &[&dyn rusqlite::ToSql],
) -> Result<Option<RefundRecord>, StoreError> {
    Ok(c.prepare_cached(sql)?
        .query_row(p, refund_from_row)
        .optional()?)
}

fn refunds_of(c: &mut Connection, payment_id: &str) -> Result<Vec<RefundRecord>, StoreError> {
    let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id = ?1 ORDER BY rowid");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![payment_id], refund_from_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

#[async_trait]
impl RefundStore for SqliteStore {
    async fn insert_refund(
        &self,
        refund: &RefundRecord,
        limit: u64,
    ) -> Result<RefundInsert, StoreError> {
        let r = refund.clone();
        self.with(move |c| insert_refund(c, &r, limit)).await
    }

    async fn finish_refund(
        &self,
        refund: &RefundRecord,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError> {
        let (r, e) = (refund.clone(), events.to_vec());
        self.with(move |c| finish_refund(c, &r, &e)).await
    }

    async fn refund(&self, id: &str) -> Result<Option<RefundRecord>, StoreError> {
        let id = id.to_owned();
        self.with(move |c| {
            let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE id = ?1");
            one(c, &sql, &[&id])
        })
        .await
    }

    async fn refund_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<RefundRecord>, StoreError> {
        let (t, k) = (tenant.as_str().to_owned(), key.to_owned());
        self.with(move |c| {
            let sql = format!(
                "SELECT {REFUND_COLUMNS} FROM refunds WHERE tenant_id = ?1 AND idempotency_key = ?2"
            );
            one(c, &sql, &[&t, &k])
        })
        .await
    }

    async fn refunds_of(&self, payment_id: &str) -> Result<Vec<RefundRecord>, StoreError> {
        let id = payment_id.to_owned();
        self.with(move |c| refunds_of(c, &id)).await
    }
}
