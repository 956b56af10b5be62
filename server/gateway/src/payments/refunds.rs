//! Refunds (issue 17, point 2): `POST /v1/payments/{id}/refunds` makes a `re_...` resource
//! against a payment that was charged (`succeeded` in `charge` mode) or captured.
//!
//! 1. Idempotency: the same `Idempotency-Key` (per tenant, among refunds) with the same
//!    request (payment, amount, reason) answers the refund it made; with another request it
//!    is refused. Concurrent retries make one refund (the store's unique key).
//! 2. The refund is audited (`refund.create`), then stored `pending` by the store only if the
//!    payment's refunds that are not `failed` stay within [`Payment::refundable`]: checked in
//!    the inserting transaction, so concurrent refunds cannot pass it together.
//! 3. The connector refunds; the refund ends `succeeded` or `failed` (audited `refund.<state>`)
//!    with its `refund.succeeded` / `refund.failed` webhook event in the same transaction. A
//!    crash before that leaves it `pending`: its amount stays reserved (never over-refunded).

use hushpay_store::{RefundInsert, RefundRecord, StoreError, TenantId};
use hushpay_vault::connector::OperationResult;
use hushpay_vault::payment::{Payment, Refund, RefundRequest};
use hushpay_vault::{Actor, unix_now};
use sha2::{Digest, Sha256};

use super::{Loaded, PaymentError, PaymentService, events, funds};

/// What `refund` produced.
#[derive(Debug)]
pub struct RefundCreated {
    pub refund: Refund,
    /// True when an earlier request with the same `Idempotency-Key` made it.
    pub replayed: bool,
}

/// The SHA-256 (hex) identifying a refund request for idempotency.
pub fn refund_hash(payment: &str, request: &RefundRequest) -> String {
    let canonical = serde_json::json!({
        "payment": payment,
        "amount": request.amount,
        "reason": request.reason,
    });
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

fn document(refund: &Refund) -> Result<String, PaymentError> {
    serde_json::to_string(refund).map_err(|e| PaymentError::Document(e.to_string()))
}

fn parse(record: &RefundRecord) -> Result<Refund, PaymentError> {
    serde_json::from_str(&record.document).map_err(|e| PaymentError::Document(e.to_string()))
}

impl PaymentService {
    /// Refunds `request.amount` of `loaded`'s payment (see the module doc).
    pub async fn refund(
        &self,
        actor: &Actor,
        loaded: &Loaded,
        request: RefundRequest,
        idempotency_key: &str,
    ) -> Result<RefundCreated, PaymentError> {
        let p = &loaded.payment;
        let tenant = TenantId::new(p.tenant.as_str());
        let hash = refund_hash(&p.id, &request);
        if let Some(done) = self.refund_replay(&tenant, idempotency_key, &hash).await? {
            return Ok(done);
        }
        let limit = p
            .refundable()
            .ok_or(PaymentError::NotRefundable(p.state.as_str()))?;
        let now = unix_now();
        let id = format!("re_{}", crate::ids::base62(24));
        let refund = request.into_refund(id, p, &actor.who, now)?;
        self.audit(actor, tenant.as_str(), "refund.create".into(), &refund.id)
            .await?;
        let record = RefundRecord {
            id: refund.id.clone(),
            tenant: tenant.clone(),
            payment_id: p.id.clone(),
            idempotency_key: Some(idempotency_key.to_owned()),
            request_hash: hash.clone(),
            amount: refund.amount,
            state: refund.state.as_str().to_owned(),
            document: document(&refund)?,
            created_at: now,
            updated_at: now,
        };
        match self.store.insert_refund(&record, limit).await {
            Ok(RefundInsert::Inserted) => {}
            Ok(RefundInsert::Exceeds { refunded }) => {
                return Err(PaymentError::RefundExceeds {
                    refundable: limit,
                    refunded,
                });
            }
            // A concurrent request with the same key won the insert.
            Err(StoreError::Conflict(_)) => {
                return self
                    .refund_replay(&tenant, idempotency_key, &hash)
                    .await?
                    .ok_or(PaymentError::Concurrent);
            }
            Err(e) => return Err(e.into()),
        }
        let result = self
            .connector
            .refund(&funds::operation(p, refund.amount, Some(&refund.id)))
            .await;
        let error = match result {
            OperationResult::Succeeded => None,
            OperationResult::Failed { reason } => Some(reason.as_str().to_owned()),
        };
        let done = self.finish_refund(actor, record, &refund, error).await?;
        Ok(RefundCreated {
            refund: done,
            replayed: false,
        })
    }

    /// Records the connector's answer: audited, stored with its webhook event.
    async fn finish_refund(
        &self,
        actor: &Actor,
        record: RefundRecord,
        refund: &Refund,
        error: Option<String>,
    ) -> Result<Refund, PaymentError> {
        let now = unix_now();
        let done = refund.finish(error, now).ok_or(PaymentError::Concurrent)?;
        self.audit(
            actor,
            &done.tenant,
            format!("refund.{}", done.state.as_str()),
            &done.id,
        )
        .await?;
        let events: Vec<_> = events::for_refund(&done, now).into_iter().collect();
        let finished = RefundRecord {
            state: done.state.as_str().to_owned(),
            document: document(&done)?,
            updated_at: now,
            ..record
        };
        if !self.store.finish_refund(&finished, &events).await? {
            return Err(PaymentError::Concurrent);
        }
        Ok(done)
    }

    async fn refund_replay(
        &self,
        tenant: &TenantId,
        key: &str,
        hash: &str,
    ) -> Result<Option<RefundCreated>, PaymentError> {
        let Some(record) = self.store.refund_by_idempotency_key(tenant, key).await? else {
            return Ok(None);
        };
        if record.request_hash != hash {
            return Err(PaymentError::IdempotencyMismatch);
        }
        Ok(Some(RefundCreated {
            refund: parse(&record)?,
            replayed: true,
        }))
    }

    /// The payment's refunds, oldest first.
    pub async fn refunds_of(&self, payment: &Payment) -> Result<Vec<Refund>, PaymentError> {
        self.store
            .refunds_of(&payment.id)
            .await?
            .iter()
            .map(parse)
            .collect()
    }
}
