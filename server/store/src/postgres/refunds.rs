//! The refunds table on PostgreSQL. A refund is inserted in a transaction that first locks
//! its payment's row (`SELECT ... FOR UPDATE`): refunds of one payment, from any node, take
//! turns, and each adds up the others (committed before it got the lock) before it goes in.

use async_trait::async_trait;
use tokio_postgres::Row;

use super::PgStore;
use super::convert::{Param, to_i64, unsigned};
use crate::{OutboxEvent, RefundInsert, RefundRecord, RefundStore, StoreError, TenantId};

const REFUND_COLUMNS: &str = "id, tenant_id, payment_id, idempotency_key, request_hash, amount, \
                              state, document, created_at, updated_at";

fn refund_from_row(row: &Row) -> Result<RefundRecord, StoreError> {
    Ok(RefundRecord {
        id: row.try_get(0)?,
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        payment_id: row.try_get(2)?,
        idempotency_key: row.try_get(3)?,
        request_hash: row.try_get(4)?,
        amount: unsigned(row, 5, "amount")?,
        state: row.try_get(6)?,
        document: row.try_get(7)?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
    })
}

async fn insert_refund(
    s: &PgStore,
    r: &RefundRecord,
    limit: u64,
) -> Result<RefundInsert, StoreError> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    let locked = tx
        .query(
            "SELECT 1 FROM payments WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
            &[&r.payment_id, &r.tenant.as_str()],
        )
        .await?;
    if locked.is_empty() {
        return Err(StoreError::Conflict(format!(
            "no payment {} of tenant {}",
            r.payment_id, r.tenant
        )));
    }
    let row = tx
        .query_one(
            "SELECT COALESCE(SUM(amount), 0)::BIGINT FROM refunds
             WHERE payment_id = $1 AND state <> 'failed'",
            &[&r.payment_id],
        )
        .await?;
    let refunded: u64 = unsigned(&row, 0, "refunded")?;
    if refunded.saturating_add(r.amount) > limit {
        return Ok(RefundInsert::Exceeds { refunded });
    }
    let amount = to_i64(r.amount, "amount")?;
    let params: [Param<'_>; 10] = [
        &r.id,
        &r.tenant.as_str(),
        &r.payment_id,
        &r.idempotency_key,
        &r.request_hash,
        &amount,
        &r.state,
        &r.document,
        &r.created_at,
        &r.updated_at,
    ];
    tx.execute(
        &format!(
            "INSERT INTO refunds ({REFUND_COLUMNS})
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        &params,
    )
    .await?;
    tx.commit().await?;
    Ok(RefundInsert::Inserted)
}

async fn finish_refund(
    s: &PgStore,
    r: &RefundRecord,
    events: &[OutboxEvent],
) -> Result<bool, StoreError> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    let n = tx
        .execute(
            "UPDATE refunds SET state = $3, document = $4, updated_at = $5
             WHERE id = $1 AND tenant_id = $2 AND state = 'pending'",
            &[
                &r.id,
                &r.tenant.as_str(),
                &r.state,
                &r.document,
                &r.updated_at,
            ],
        )
        .await?;
    if n != 1 {
        return Ok(false);
    }
    if !events.is_empty() {
        super::payments::enqueue(&*tx, events).await?;
    }
    tx.commit().await?;
    Ok(true)
}

#[async_trait]
impl RefundStore for PgStore {
    async fn insert_refund(
        &self,
        refund: &RefundRecord,
        limit: u64,
    ) -> Result<RefundInsert, StoreError> {
        insert_refund(self, refund, limit).await
    }

    async fn finish_refund(
        &self,
        refund: &RefundRecord,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError> {
        finish_refund(self, refund, events).await
    }

    async fn refund(&self, id: &str) -> Result<Option<RefundRecord>, StoreError> {
        let sql = format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE id = $1");
        super::first(&self.query(&sql, &[&id]).await?, refund_from_row)
    }

    async fn refund_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<RefundRecord>, StoreError> {
        let sql = format!(
            "SELECT {REFUND_COLUMNS} FROM refunds WHERE tenant_id = $1 AND idempotency_key = $2"
        );
        super::first(
            &self.query(&sql, &[&tenant.as_str(), &key]).await?,
            refund_from_row,
        )
    }

    async fn refunds_of(&self, payment_id: &str) -> Result<Vec<RefundRecord>, StoreError> {
        let sql =
            format!("SELECT {REFUND_COLUMNS} FROM refunds WHERE payment_id = $1 ORDER BY ord");
        self.query(&sql, &[&payment_id])
            .await?
            .iter()
            .map(refund_from_row)
            .collect()
    }
}
