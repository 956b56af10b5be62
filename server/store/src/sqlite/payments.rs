//! The payment and webhook tables: payments, the outbox, endpoints, deliveries and their log.
//! Plain functions over a connection, and the [`crate::PaymentStore`] and
//! [`crate::WebhookStore`] impls that call them.

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Row, params};

use super::SqliteStore;
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

fn corrupt(what: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidColumnType(0, what.to_owned(), rusqlite::types::Type::Text)
}

fn to_i64(n: u64, what: &str) -> Result<i64, StoreError> {
    i64::try_from(n).map_err(|_| StoreError::Corrupt(format!("{what} out of range")))
}

fn status(row: &Row<'_>, i: usize) -> rusqlite::Result<DeliveryStatus> {
    let s: String = row.get(i)?;
    DeliveryStatus::parse(&s).ok_or_else(|| corrupt("status"))
}

fn payment_from_row(row: &Row<'_>) -> rusqlite::Result<PaymentRecord> {
    let version: i64 = row.get(9)?;
    Ok(PaymentRecord {
        id: row.get(0)?,
        tenant: TenantId::new(row.get::<_, String>(1)?),
        idempotency_key: row.get(2)?,
        request_hash: row.get(3)?,
        state: row.get(4)?,
        document: row.get(5)?,
        client_secret_hash: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        version: u64::try_from(version).map_err(|_| corrupt("version"))?,
        expires_at: row.get(10)?,
    })
}

fn endpoint_from_row(row: &Row<'_>) -> rusqlite::Result<WebhookEndpointRecord> {
    Ok(WebhookEndpointRecord {
        id: row.get(0)?,
        tenant: TenantId::new(row.get::<_, String>(1)?),
        url: row.get(2)?,
        key_version: row.get(3)?,
        secret_ciphertext: row.get(4)?,
        created_at: row.get(5)?,
        deleted_at: row.get(6)?,
        format: {
            let s: String = row.get(7)?;
            WebhookFormat::parse(&s).ok_or_else(|| corrupt("format"))?
        },
    })
}

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<DeliveryRecord> {
    Ok(DeliveryRecord {
        event_id: row.get(0)?,
        endpoint_id: row.get(1)?,
        tenant: TenantId::new(row.get::<_, String>(2)?),
        attempts: row.get(3)?,
        status: status(row, 4)?,
        next_attempt_at: row.get(5)?,
    })
}

fn log_from_row(row: &Row<'_>) -> rusqlite::Result<DeliveryAttempt> {
    Ok(DeliveryAttempt {
        event_id: row.get(0)?,
        endpoint_id: row.get(1)?,
        tenant: TenantId::new(row.get::<_, String>(2)?),
        attempt: row.get(3)?,
        at: row.get(4)?,
        status_code: row.get(5)?,
        error: row.get(6)?,
        status: status(row, 7)?,
        next_attempt_at: row.get(8)?,
    })
}

pub(super) fn insert_payment(c: &mut Connection, p: &PaymentRecord) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "INSERT INTO payments ({PAYMENT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
        ),
        params![
            p.id,
            p.tenant.as_str(),
            p.idempotency_key,
            p.request_hash,
            p.state,
            p.document,
            p.client_secret_hash,
            p.created_at,
            p.updated_at,
            to_i64(p.version, "version")?,
            p.expires_at
        ],
    )?;
    Ok(())
}

pub(super) fn payment(c: &mut Connection, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
    let sql = format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE id = ?1");
    Ok(c.prepare_cached(&sql)?
        .query_row(params![id], payment_from_row)
        .optional()?)
}

pub(super) fn payment_by_idempotency_key(
    c: &mut Connection,
    tenant: &TenantId,
    key: &str,
) -> Result<Option<PaymentRecord>, StoreError> {
    let sql = format!(
        "SELECT {PAYMENT_COLUMNS} FROM payments WHERE tenant_id = ?1 AND idempotency_key = ?2"
    );
    Ok(c.prepare_cached(&sql)?
        .query_row(params![tenant.as_str(), key], payment_from_row)
        .optional()?)
}

/// Inserts events and their deliveries inside the caller's transaction.
pub(super) fn enqueue(
    tx: &rusqlite::Transaction<'_>,
    events: &[OutboxEvent],
) -> Result<(), StoreError> {
    for e in events {
        tx.execute(
            "INSERT INTO outbox_events (id, tenant_id, event_type, payload, created_at,
                                        fhir_payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                e.id,
                e.tenant.as_str(),
                e.event_type,
                e.payload,
                e.created_at,
                e.fhir_payload
            ],
        )?;
        tx.execute(
            "INSERT INTO webhook_deliveries (event_id, endpoint_id, tenant_id, attempts, status,
                                             next_attempt_at)
             SELECT ?1, id, tenant_id, 0, 'pending', ?3 FROM webhook_endpoints
             WHERE tenant_id = ?2 AND deleted_at IS NULL
               AND (format = 'standard-webhooks' OR ?4)",
            params![
                e.id,
                e.tenant.as_str(),
                e.created_at,
                e.fhir_payload.is_some()
            ],
        )?;
    }
    Ok(())
}

pub(super) fn update_payment(
    c: &mut Connection,
    p: &PaymentRecord,
    expected_version: u64,
    events: &[OutboxEvent],
) -> Result<bool, StoreError> {
    let tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE payments SET state = ?3, document = ?4, updated_at = ?5, version = ?6,
                             expires_at = ?8
         WHERE id = ?1 AND tenant_id = ?2 AND version = ?7",
        params![
            p.id,
            p.tenant.as_str(),
            p.state,
            p.document,
            p.updated_at,
            to_i64(p.version, "version")?,
            to_i64(expected_version, "version")?,
            p.expires_at
        ],
    )?;
    if n != 1 {
        return Ok(false);
    }
    enqueue(&tx, events)?;
    tx.commit()?;
    Ok(true)
}

pub(super) fn overdue_payments(
    c: &mut Connection,
    now: UnixTime,
    limit: usize,
) -> Result<Vec<String>, StoreError> {
    let mut stmt = c.prepare_cached(
        "SELECT id FROM payments
         WHERE state IN ('requested', 'collecting', 'ready') AND expires_at <= ?1
         ORDER BY expires_at, id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, to_i64(limit as u64, "limit")?], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub(super) fn insert_events(c: &mut Connection, events: &[OutboxEvent]) -> Result<(), StoreError> {
    let tx = c.transaction()?;
    enqueue(&tx, events)?;
    tx.commit()?;
    Ok(())
}

pub(super) fn event(c: &mut Connection, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
    Ok(c.prepare_cached(
        "SELECT id, tenant_id, event_type, payload, created_at, fhir_payload FROM outbox_events
         WHERE id = ?1",
    )?
    .query_row(params![id], |r| {
        Ok(OutboxEvent {
            id: r.get(0)?,
            tenant: TenantId::new(r.get::<_, String>(1)?),
            event_type: r.get(2)?,
            payload: r.get(3)?,
            created_at: r.get(4)?,
            fhir_payload: r.get(5)?,
        })
    })
    .optional()?)
}

pub(super) fn insert_webhook_endpoint(
    c: &mut Connection,
    w: &WebhookEndpointRecord,
) -> Result<(), StoreError> {
    c.execute(
        &format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
        ),
        params![
            w.id,
            w.tenant.as_str(),
            w.url,
            w.key_version,
            w.secret_ciphertext,
            w.created_at,
            w.deleted_at,
            w.format.as_str()
        ],
    )?;
    Ok(())
}

pub(super) fn webhook_endpoints(
    c: &mut Connection,
    tenant: &TenantId,
) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints
         WHERE tenant_id = ?1 AND deleted_at IS NULL ORDER BY rowid"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![tenant.as_str()], endpoint_from_row)?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

pub(super) fn webhook_endpoint(
    c: &mut Connection,
    tenant: &TenantId,
    id: &str,
) -> Result<Option<WebhookEndpointRecord>, StoreError> {
    let sql = format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = ?1 AND tenant_id = ?2"
    );
    Ok(c.prepare_cached(&sql)?
        .query_row(params![id, tenant.as_str()], endpoint_from_row)
        .optional()?)
}

pub(super) fn delete_webhook_endpoint(
    c: &mut Connection,
    tenant: &TenantId,
    id: &str,
    at: UnixTime,
) -> Result<bool, StoreError> {
    let tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE webhook_endpoints SET deleted_at = ?3
         WHERE id = ?1 AND tenant_id = ?2 AND deleted_at IS NULL",
        params![id, tenant.as_str(), at],
    )?;
    if n != 1 {
        return Ok(false);
    }
    tx.execute(
        "UPDATE webhook_deliveries SET status = 'failed', next_attempt_at = NULL
         WHERE endpoint_id = ?1 AND status = 'pending'",
        params![id],
    )?;
    tx.commit()?;
    Ok(true)
}

/// In one `IMMEDIATE` transaction (the database's write lock, so other processes on the file
/// wait): select the due, unleased deliveries in rounds, then lease them.
pub(super) fn claim_deliveries(
    c: &mut Connection,
    lease: &DeliveryLease,
    per_tenant: usize,
    limit: usize,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} FROM (
           SELECT {DELIVERY_COLUMNS}, rowid AS ord, ROW_NUMBER() OVER (
             PARTITION BY tenant_id ORDER BY next_attempt_at, rowid) AS rank
           FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?1
             AND (lease_until IS NULL OR lease_until <= ?1))
         WHERE rank <= ?2 ORDER BY rank, next_attempt_at, ord LIMIT ?3"
    );
    let claimed = {
        let mut stmt = tx.prepare_cached(&sql)?;
        let rows = stmt.query_map(
            params![
                lease.now,
                to_i64(per_tenant as u64, "per_tenant")?,
                to_i64(limit as u64, "limit")?
            ],
            delivery_from_row,
        )?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE webhook_deliveries SET lease_owner = ?3, lease_until = ?4
             WHERE event_id = ?1 AND endpoint_id = ?2",
        )?;
        for d in &claimed {
            stmt.execute(params![d.event_id, d.endpoint_id, lease.owner, lease.until])?;
        }
    }
    tx.commit()?;
    Ok(claimed)
}

pub(super) fn release_deliveries(
    c: &mut Connection,
    owner: &str,
    deliveries: &[(String, String)],
) -> Result<u64, StoreError> {
    let tx = c.transaction()?;
    let mut released = 0;
    {
        let mut stmt = tx.prepare_cached(
            "UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL
             WHERE event_id = ?1 AND endpoint_id = ?2 AND lease_owner = ?3",
        )?;
        for (event, endpoint) in deliveries {
            released += stmt.execute(params![event, endpoint, owner])? as u64;
        }
    }
    tx.commit()?;
    Ok(released)
}

pub(super) fn defer_deliveries(
    c: &mut Connection,
    tenant: &TenantId,
    endpoint_id: &str,
    until: UnixTime,
) -> Result<u64, StoreError> {
    let n = c.execute(
        "UPDATE webhook_deliveries SET next_attempt_at = ?3
         WHERE tenant_id = ?1 AND endpoint_id = ?2 AND status = 'pending'
           AND next_attempt_at < ?3",
        params![tenant.as_str(), endpoint_id, until],
    )?;
    Ok(n as u64)
}

pub(super) fn record_delivery_attempt(
    c: &mut Connection,
    a: &DeliveryAttempt,
) -> Result<bool, StoreError> {
    let tx = c.transaction()?;
    let n = tx.execute(
        "UPDATE webhook_deliveries SET attempts = ?4, status = ?5, next_attempt_at = ?6,
                                       lease_owner = NULL, lease_until = NULL
         WHERE event_id = ?1 AND endpoint_id = ?2 AND tenant_id = ?3",
        params![
            a.event_id,
            a.endpoint_id,
            a.tenant.as_str(),
            a.attempt,
            a.status.as_str(),
            a.next_attempt_at
        ],
    )?;
    if n != 1 {
        return Ok(false);
    }
    tx.execute(
        &format!(
            "INSERT INTO webhook_delivery_log ({LOG_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
        ),
        params![
            a.event_id,
            a.endpoint_id,
            a.tenant.as_str(),
            a.attempt,
            a.at,
            a.status_code,
            a.error,
            a.status.as_str(),
            a.next_attempt_at
        ],
    )?;
    tx.commit()?;
    Ok(true)
}

pub(super) fn delivery_log(
    c: &mut Connection,
    tenant: &TenantId,
    endpoint_id: &str,
    limit: usize,
) -> Result<Vec<DeliveryAttempt>, StoreError> {
    let sql = format!(
        "SELECT {LOG_COLUMNS} FROM webhook_delivery_log
         WHERE tenant_id = ?1 AND endpoint_id = ?2 ORDER BY seq DESC LIMIT ?3"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![tenant.as_str(), endpoint_id, to_i64(limit as u64, "limit")?],
        log_from_row,
    )?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

#[async_trait]
impl PaymentStore for SqliteStore {
    async fn insert_payment(&self, payment: &PaymentRecord) -> Result<(), StoreError> {
        let p = payment.clone();
        self.with(move |c| insert_payment(c, &p)).await
    }

    async fn payment(&self, id: &str) -> Result<Option<PaymentRecord>, StoreError> {
        let id = id.to_owned();
        self.with(move |c| payment(c, &id)).await
    }

    async fn payment_by_idempotency_key(
        &self,
        tenant: &TenantId,
        key: &str,
    ) -> Result<Option<PaymentRecord>, StoreError> {
        let (t, k) = (tenant.clone(), key.to_owned());
        self.with(move |c| payment_by_idempotency_key(c, &t, &k))
            .await
    }

    async fn update_payment(
        &self,
        payment: &PaymentRecord,
        expected_version: u64,
        events: &[OutboxEvent],
    ) -> Result<bool, StoreError> {
        let (p, e) = (payment.clone(), events.to_vec());
        self.with(move |c| update_payment(c, &p, expected_version, &e))
            .await
    }

    async fn overdue_payments(
        &self,
        now: UnixTime,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        self.with(move |c| overdue_payments(c, now, limit)).await
    }

    async fn insert_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError> {
        let e = events.to_vec();
        self.with(move |c| insert_events(c, &e)).await
    }

    async fn event(&self, id: &str) -> Result<Option<OutboxEvent>, StoreError> {
        let id = id.to_owned();
        self.with(move |c| event(c, &id)).await
    }
}

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn insert_webhook_endpoint(
        &self,
        endpoint: &WebhookEndpointRecord,
    ) -> Result<(), StoreError> {
        let w = endpoint.clone();
        self.with(move |c| insert_webhook_endpoint(c, &w)).await
    }

    async fn webhook_endpoints(
        &self,
        tenant: &TenantId,
    ) -> Result<Vec<WebhookEndpointRecord>, StoreError> {
        let t = tenant.clone();
        self.with(move |c| webhook_endpoints(c, &t)).await
    }

    async fn webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
    ) -> Result<Option<WebhookEndpointRecord>, StoreError> {
        let (t, id) = (tenant.clone(), id.to_owned());
        self.with(move |c| webhook_endpoint(c, &t, &id)).await
    }

    async fn delete_webhook_endpoint(
        &self,
        tenant: &TenantId,
        id: &str,
        at: UnixTime,
    ) -> Result<bool, StoreError> {
        let (t, id) = (tenant.clone(), id.to_owned());
        self.with(move |c| delete_webhook_endpoint(c, &t, &id, at))
            .await
    }

    async fn claim_deliveries(
        &self,
        lease: &DeliveryLease,
        per_tenant: usize,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let lease = lease.clone();
        self.with(move |c| claim_deliveries(c, &lease, per_tenant, limit))
            .await
    }

    async fn release_deliveries(
        &self,
        owner: &str,
        deliveries: &[(String, String)],
    ) -> Result<u64, StoreError> {
        let (owner, deliveries) = (owner.to_owned(), deliveries.to_vec());
        self.with(move |c| release_deliveries(c, &owner, &deliveries))
            .await
    }

    async fn defer_deliveries(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        until: UnixTime,
    ) -> Result<u64, StoreError> {
        let (t, e) = (tenant.clone(), endpoint_id.to_owned());
        self.with(move |c| defer_deliveries(c, &t, &e, until)).await
    }

    async fn record_delivery_attempt(&self, attempt: &DeliveryAttempt) -> Result<bool, StoreError> {
        let a = attempt.clone();
        self.with(move |c| record_delivery_attempt(c, &a)).await
    }

    async fn delivery_log(
        &self,
        tenant: &TenantId,
        endpoint_id: &str,
        limit: usize,
    ) -> Result<Vec<DeliveryAttempt>, StoreError> {
        let (t, e) = (tenant.clone(), endpoint_id.to_owned());
        self.with(move |c| delivery_log(c, &t, &e, limit)).await
    }
}
