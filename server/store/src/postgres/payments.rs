//! The payment and webhook tables on PostgreSQL: payments, the outbox, endpoints, deliveries
//! and their log. Functions over the store's pool, and the [`crate::PaymentStore`] and
//! [`crate::WebhookStore`] impls that call them; the multi-statement writes run in one
//! transaction each.

use async_trait::async_trait;
use tokio_postgres::{GenericClient, Row};

use super::PgStore;
use super::convert::{Param, to_i64, unsigned, unsigned_opt};
use crate::{
    DeliveryAttempt, DeliveryLease, DeliveryRecord, DeliveryStatus, OutboxEvent, PaymentRecord,
    PaymentStore, StoreError, TenantId, UnixTime, WebhookEndpointRecord, WebhookFormat,
    WebhookStore,
};

const PAYMENT_COLUMNS: &str = "id, tenant_id, idempotency_key, request_hash, state, document, \
                               client_secret_hash, created_at, updated_at, version, expires_at";
const ENDPOINT_COLUMNS: &str =
    "id, tenant_id, url, key_version, secret_ciphertext, created_at, deleted_at, format";
const DELIVERY_COLUMNS: &str =
    "event_id, endpoint_id, tenant_id, attempts, status, next_attempt_at";
const LOG_COLUMNS: &str = "event_id, endpoint_id, tenant_id, attempt, at, status_code, error, \
                           status, next_attempt_at";

fn status(row: &Row, i: usize) -> Result<DeliveryStatus, StoreError> {
    let s: String = row.try_get(i)?;
    DeliveryStatus::parse(&s).ok_or_else(|| StoreError::Corrupt("delivery status".into()))
}

fn payment_from_row(row: &Row) -> Result<PaymentRecord, StoreError> {
    Ok(PaymentRecord {
        id: row.try_get(0)?,
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        idempotency_key: row.try_get(2)?,
        request_hash: row.try_get(3)?,
        state: row.try_get(4)?,
        document: row.try_get(5)?,
        client_secret_hash: row.try_get(6)?,
        created_at: row.try_get(7)?,
        updated_at: row.try_get(8)?,
        version: unsigned(row, 9, "version")?,
        expires_at: row.try_get(10)?,
    })
}

fn event_from_row(row: &Row) -> Result<OutboxEvent, StoreError> {
    Ok(OutboxEvent {
        id: row.try_get(0)?,
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        event_type: row.try_get(2)?,
        payload: row.try_get(3)?,
        created_at: row.try_get(4)?,
        fhir_payload: row.try_get(5)?,
    })
}

fn endpoint_from_row(row: &Row) -> Result<WebhookEndpointRecord, StoreError> {
    Ok(WebhookEndpointRecord {
        id: row.try_get(0)?,
        tenant: TenantId::new(row.try_get::<_, String>(1)?),
        url: row.try_get(2)?,
        key_version: unsigned(row, 3, "key_version")?,
        secret_ciphertext: row.try_get(4)?,
        created_at: row.try_get(5)?,
        deleted_at: row.try_get(6)?,
        format: {
            let s: String = row.try_get(7)?;
            WebhookFormat::parse(&s)
                .ok_or_else(|| StoreError::Corrupt("webhook endpoint format".into()))?
        },
    })
}

fn delivery_from_row(row: &Row) -> Result<DeliveryRecord, StoreError> {
    Ok(DeliveryRecord {
        event_id: row.try_get(0)?,
        endpoint_id: row.try_get(1)?,
        tenant: TenantId::new(row.try_get::<_, String>(2)?),
        attempts: unsigned(row, 3, "attempts")?,
        status: status(row, 4)?,
        next_attempt_at: row.try_get(5)?,
    })
}

fn log_from_row(row: &Row) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        event_id: row.try_get(0)?,
        endpoint_id: row.try_get(1)?,
        tenant: TenantId::new(row.try_get::<_, String>(2)?),
        attempt: unsigned(row, 3, "attempt")?,
        at: row.try_get(4)?,
        status_code: unsigned_opt(row, 5, "status_code")?,
        error: row.try_get(6)?,
        status: status(row, 7)?,
        next_attempt_at: row.try_get(8)?,
    })
}

pub(super) async fn insert_payment(s: &PgStore, p: &PaymentRecord) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    );
    let params: [Param<'_>; 11] = [
        &p.id,
        &p.tenant.as_str(),
        &p.idempotency_key,
        &p.request_hash,
        &p.state,
        &p.document,
        &p.client_secret_hash,
        &p.created_at,
        &p.updated_at,
        &to_i64(p.version, "version")?,
        &p.expires_at,
    ];
    s.execute(&sql, &params).await.map(drop)
}

pub(super) async fn payment(s: &PgStore, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = $1");
    super::first(&s.query(&sql, &[&id]).await?, payment_from_row)
}

pub(super) async fn payment_by_idempotency_key(
    s: &PgStore,
    tenant: &TenantId,
    key: &str,
) -> Result<Option<PaymentRecord>, StoreError> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = $1 AND idempotency_key = $2"
    );
    super::first(
        &s.query(&sql, &[&tenant.as_str(), &key]).await?,
        payment_from_row,
    )
}

/// Inserts events and their deliveries (one per live endpoint of the event's tenant) with
/// `c`, inside the caller's transaction.
pub(super) async fn enqueue(
    c: &impl GenericClient,
    events: &[OutboxEvent],
) -> Result<(), StoreError> {
    let insert_event = c
        .prepare(
            "INSERT INTO outbox_events (id, tenant_id, event_type, payload, created_at,
                                        fhir_payload)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .await?;
    let fan_out = c
        .prepare(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id, tenant_id, attempts, status,
                                             next_attempt_at)
             SELECT $1, id, tenant_id, 0, 'pending', $3 FROM webhook_endpoints
             WHERE tenant_id = $2 AND deleted_at IS NULL
               AND (format = 'standard-webhooks' OR $4)
             ORDER BY ord",
        )
        .await?;
    for e in events {
        let tenant = e.tenant.as_str();
        c.execute(
            &insert_event,
            &[
                &e.id,
                &tenant,
                &e.event_type,
                &e.payload,
                &e.created_at,
                &e.fhir_payload,
            ],
        )
        .await?;
        c.execute(
            &fan_out,
            &[&e.id, &tenant, &e.created_at, &e.fhir_payload.is_some()],
        )
        .await?;
    }
    Ok(())
}

pub(super) async fn update_payment(
    s: &PgStore,
    p: &PaymentRecord,
    expected_version: u64,
    events: &[OutboxEvent],
) -> Result<bool, StoreError> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    let params: [Param<'_>; 8] = [
        &p.id,
        &p.tenant.as_str(),
        &p.state,
        &p.document,
        &p.updated_at,
        &to_i64(p.version, "version")?,
        &to_i64(expected_version, "version")?,
        &p.expires_at,
    ];
    let n = tx
        .execute(
            "UPDATE payments SET state = $3, document = $4, updated_at = $5, version = $6,
                                 expires_at = $8
             WHERE id = $1 AND tenant_id = $2 AND version = $7",
            &params,
        )
        .await?;
    if n != 1 {
        return Ok(false);
    }
    enqueue(&*tx, events).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn overdue_payments(
    s: &PgStore,
    now: UnixTime,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let limit = to_i64(limit as u64, "limit")?;
    let rows = s
        .query(
            "SELECT id FROM payments
             WHERE state IN ('requested', 'collecting', 'ready') AND expires_at <= $1
             ORDER BY expires_at, id COLLATE \"C\" LIMIT $2",
            &[&now, &limit],
        )
        .await?;
    rows.iter()
        .map(|r| r.try_get(0).map_err(StoreError::from))
        .collect()
}

pub(super) async fn insert_events(s: &PgStore, events: &[OutboxEvent]) -> Result<(), StoreError> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    enqueue(&*tx, events).await?;
    Ok(tx.commit().await?)
}

pub(super) async fn event(s: &PgStore, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
    let rows = s
        .query(
            "SELECT id, tenant_id, event_type, payload, created_at, fhir_payload
             FROM outbox_events WHERE id = $1",
            &[&id],
        )
        .await?;
    super::first(&rows, event_from_row)
}

pub(super) async fn insert_webhook_endpoint(
    s: &PgStore,
    w: &WebhookEndpointRecord,
) -> Result<(), StoreError> {
    let sql = format!(
        "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    );
    let params: [Param<'_>; 8] = [
        &w.id,
        &w.tenant.as_str(),
        &w.url,
        &i64::from(w.key_version),
        &w.secret_ciphertext,
        &w.created_at,
        &w.deleted_at,
        &w.format.as_str(),
    ];
    s.execute(&sql, &params).await.map(drop)
}

pub(super) async fn webhook_endpoints(
    s: &PgStore,
    tenant: &TenantId,
) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
         WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY ord"
    );
    super::all(
        &s.query(&sql, &[&tenant.as_str()]).await?,
        endpoint_from_row,
    )
}

pub(super) async fn webhook_endpoint(
    s: &PgStore,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<WebhookEndpointRecord>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1 AND tenant_id = $2"
    );
    super::first(
        &s.query(&sql, &[&id, &tenant.as_str()]).await?,
        endpoint_from_row,
    )
}

pub(super) async fn delete_webhook_endpoint(
    s: &PgStore,
    tenant: &TenantId,
    id: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    let n = tx
        .execute(
            "UPDATE webhook_endpoints SET deleted_at = $3
             WHERE id = $1 AND tenant_id = $2 AND deleted_at IS NULL",
            &[&id, &tenant.as_str(), &at],
        )
        .await?;
    if n != 1 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL
         WHERE endpoint_id = $1 AND status = 'pending'",
        &[&id],
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// One statement: lock the due, unleased rows other claimers have not locked (`SKIP LOCKED`),
/// rank them per tenant, lease the chosen ones and return them in rounds. A row another
/// claimer leased meanwhile is re-checked against the lease condition before it is locked,
/// so it is never claimed twice.
pub(super) async fn claim_deliveries(
    s: &PgStore,
    lease: &DeliveryLease,
    per_tenant: usize,
    limit: usize,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let sql = format!(
        "WITH candidates AS (
           SELECT event_id, endpoint_id, tenant_id, next_attempt_at, ord FROM webhook_deliveries
           WHERE status = 'pending' AND next_attempt_at <= $1
             AND (lease_until IS NULL OR lease_until <= $1)
           FOR UPDATE SKIP LOCKED),
         picked AS (
           SELECT event_id, endpoint_id, rank FROM (
             SELECT event_id, endpoint_id, next_attempt_at, ord, ROW_NUMBER() OVER (
               PARTITION BY tenant_id ORDER BY next_attempt_at, ord) AS rank
             FROM candidates) ranked
           WHERE rank <= $2 ORDER BY rank, next_attempt_at, ord LIMIT $3),
         claimed AS (
           UPDATE webhook_deliveries d SET lease_owner = $4, lease_until = $5
           FROM picked WHERE d.event_id = picked.event_id AND d.endpoint_id = picked.endpoint_id
           RETURNING d.event_id, d.endpoint_id, d.tenant_id, d.attempts, d.status,
                     d.next_attempt_at, d.ord, picked.rank)
         SELECT {DELIVERY_COLUMNS} FROM claimed ORDER BY rank, next_attempt_at, ord"
    );
    let per_tenant = to_i64(per_tenant as u64, "per_tenant")?;
    let limit = to_i64(limit as u64, "limit")?;
    let params: [Param<'_>; 5] = [&lease.now, &per_tenant, &limit, &lease.owner, &lease.until];
    super::all(&s.query(&sql, &params).await?, delivery_from_row)
}

pub(super) async fn release_deliveries(
    s: &PgStore,
    owner: &str,
    deliveries: &[(String, String)],
) -> Result<u64, StoreError> {
    let (events, endpoints): (Vec<&str>, Vec<&str>) = deliveries
        .iter()
        .map(|(e, p)| (e.as_str(), p.as_str()))
        .unzip();
    s.execute(
        "UPDATE webhook_deliveries d SET lease_owner = NULL, lease_until = NULL
         FROM UNNEST($2::TEXT[], $3::TEXT[]) AS k(event_id, endpoint_id)
         WHERE d.event_id = k.event_id AND d.endpoint_id = k.endpoint_id
           AND d.lease_owner = $1",
        &[&owner, &events, &endpoints],
    )
    .await
}

pub(super) async fn defer_deliveries(
    s: &PgStore,
    tenant: &TenantId,
    endpoint_id: &str,
    until: UnixTime,
) -> Result<u64, StoreError> {
    s.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = $3
         WHERE tenant_id = $1 AND endpoint_id = $2 AND status = 'pending'
           AND next_attempt_at < $3",
        &[&tenant.as_str(), &endpoint_id, &until],
    )
    .await
}

pub(super) async fn record_delivery_attempt(
    s: &PgStore,
    a: &DeliveryAttempt,
) -> Result<bool, StoreError> {
    let mut client = s.client().await?;
    let tx = client.transaction().await?;
    let (attempt, status) = (i64::from(a.attempt), a.status.as_str());
    let n = tx
        .execute(
            "UPDATE webhook_deliveries SET attempts = $4, status = $5, next_attempt_at = $6,
                                          lease_owner = NULL, lease_until = NULL
             WHERE event_id = $1 AND endpoint_id = $2 AND tenant_id = $3",
            &[
                &a.event_id,
                &a.endpoint_id,
                &a.tenant.as_str(),
                &attempt,
                &status,
                &a.next_attempt_at,
            ],
        )
        .await?;
    if n != 1 {
        return Ok(false);
    }
    let sql = format!(
        "INSERT INTO webhook_delivery_log ({LOG_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    );
    let params: [Param<'_>; 9] = [
        &a.event_id,
        &a.endpoint_id,
        &a.tenant.as_str(),
        &attempt,
        &a.at,
        &a.status_code.map(i64::from),
        &a.error,
        &status,
        &a.next_attempt_at,
    ];
    tx.execute(&sql, &params).await?;
    tx.commit().await?;
    Ok(true)
}

pub(super) async fn delivery_log(
    s: &PgStore,
    tenant: &TenantId,
    endpoint_id: &str,
    limit: usize,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    let sql = format!(
        "SELECT {LOG_COLUMNS} FROM webhook_delivery_log
         WHERE tenant_id = $1 AND endpoint_id = $2 ORDER BY seq DESC LIMIT $3"
    );
    let rows = s
        .query(
            &sql,
            &[
                &tenant.as_str(),
                &endpoint_id,
                &to_i64(limit as u64, "limit")?,
            ],
        )
        .await?;
    super::all(&rows, log_from_row)
}

#[async_trait]
impl PaymentStore for PgStore {
    async fn insert_payment(&self, payment: &PaymentRecord) -> Result<(), StoreError> {
        insert_payment(self, payment).await
    }

    async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        payment(self, id).await
    }

    async fn payment_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        payment_by_idempotency_key(self, tenant, key).await
    }

    async fn update_payment(
        &self,
        payment: &PaymentRecord,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError> {
        update_payment(self, payment, expected_version, events).await
    }

    async fn overdue_payments(
        &self,
        now: UnixTime,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        overdue_payments(self, now, limit).await
    }

    async fn insert_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError> {
        insert_events(self, events).await
    }

    async fn event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
        event(self, id).await
    }
}

#[async_trait]
impl WebhookStore for PgStore {
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpointRecord,
    ) -> Result<(), StoreError> {
        insert_webhook_endpoint(self, endpoint).await
    }

    async fn webhook_endpoints(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
        webhook_endpoints(self, tenant).await
    }

    async fn webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>, StoreError> {
        webhook_endpoint(self, tenant, id).await
    }

    async fn delete_webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        delete_webhook_endpoint(self, tenant, id, at).await
    }

    async fn claim_deliveries(
        &self,
        lease: &DeliveryLease,
        per_tenant: usize,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        claim_deliveries(self, lease, per_tenant, limit).await
    }

    async fn release_deliveries(
        &self,
        owner: &str,
        deliveries: &[(String, String)],
    ) -> Result<u64, StoreError> {
        release_deliveries(self, owner, deliveries).await
    }

    async fn defer_deliveries(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        until: UnixTime,
    ) -> Result<u64, StoreError> {
        defer_deliveries(self, tenant, endpoint_id, until).await
    }

    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt) -> Result<bool, StoreError> {
        record_delivery_attempt(self, attempt).await
    }

    async fn delivery_log(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        delivery_log(self, tenant, endpoint_id, limit).await
    }
}
