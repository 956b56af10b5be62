//! Payment sessions: the service that loads a [`Payment`], applies an event with the pure
//! state machine ([`hushpay_vault::payment`]), audits it (audit or deny) and persists it with
//! its webhook events in one store transaction.
//!
//! * [`changes`]: every persisted change as a broadcast stream ([`PaymentChange`]);
//! * [`card_form`]: a sealed card from the card iframe or link page (client secret);
//! * [`keypad`]: digits from the media digit collector, held zeroized until completion;
//! * [`ivr`]: the same keyed fields driven by the IVR (method `ivr`);
//! * [`finish`]: tokenize in the vault, authorize through the connector, record the result;
//! * [`authentication`]: 3-D Secure challenges (`authenticating`) and their completion;
//! * [`expiry`]: the sweeper that expires open payments at their deadline, unread;
//! * [`funds`]: capture and void of an `authorize`-mode payment's authorization;
//! * [`refunds`]: refunds of charged or captured payments, each within the captured amount;
//! * [`http_connector`]: the `http` relay connector (the `sandbox` lives in hushpay-vault);
//! * [`access`]: who may request payments, see them, and hold their client secrets (HTTP
//!   and signalling alike);
//! * [`route`]: on a node of a cluster, changes of payments in rooms go to the room's node
//!   (created only once that node closed the room's recording window);
//! * [`events`]: webhook bodies; [`secret`]: client secrets; [`error`]: HTTP mapping.
//!
//! Nothing here stores or logs card data: payments are masked documents.

pub mod access;
pub mod authentication;
pub mod card_form;
pub mod changes;
pub mod config;
pub mod error;
pub mod events;
pub mod expiry;
mod finish;
pub mod funds;
pub mod http_connector;
pub mod ivr;
pub mod keypad;
pub mod refunds;
pub mod route;
pub mod secret;

use std::sync::Arc;

use hushpay_store::{PaymentRecord, Store, StoreError, TenantId};
use hushpay_vault::audit::AuditEvent;
use hushpay_vault::connector::Connector;
use hushpay_vault::payment::{Event, Payment, PaymentRequest};
use hushpay_vault::{Actor, unix_now};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

pub use changes::PaymentChange;
pub use error::PaymentError;

use crate::vault::VaultState;

/// A payment with the stored record it came from (for its version).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub record: PaymentRecord,
    pub payment: Payment,
}

/// What `create` produced.
#[derive(Debug)]
pub struct Created {
    pub payment: Payment,
    /// The client secret, on first creation of a card-form or link payment only.
    pub client_secret: Option<Zeroizing<String>>,
    /// True when an earlier request with the same `Idempotency-Key` created it.
    pub replayed: bool,
}

/// The payment service.
#[derive(Debug)]
pub struct PaymentService {
    store: Arc<dyn Store>,
    vault: Arc<VaultState>,
    connector: Arc<dyn Connector>,
    keypad: keypad::KeypadBuffers,
    changes: changes::Changes,
    challenges: authentication::Challenges,
}

/// The SHA-256 (hex) identifying a request for idempotency: every field of the request as
/// the service will create it, the room included (an agent's payments are bound to its own
/// room, so the same key and body sent from another room is another request).
pub fn request_hash(request: &PaymentRequest) -> String {
    // Fixed keys in a fixed order: one request has one encoding.
    let canonical = serde_json::json!({
        "amount": request.amount,
        "currency": request.currency,
        "reference": request.reference,
        "mode": request.mode,
        "method": request.method,
        "required_fields": request.required_fields,
        "allowed_brands": request.allowed_brands,
        "attempts": request.attempts,
        "timeout": request.timeout_secs,
        "room": request.room,
    });
    // Added after the first release: only a request that has one hashes it (stored hashes
    // of earlier requests stay valid).
    let mut canonical = canonical;
    if let Some(h) = &request.hand_off {
        canonical["hand_off"] = serde_json::json!({ "return_uri": h.return_uri });
    }
    if let Some(locale) = &request.locale {
        canonical["locale"] = serde_json::json!(locale);
    }
    hex::encode(Sha256::digest(canonical.to_string().as_bytes()))
}

impl PaymentService {
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<VaultState>,
        connector: Arc<dyn Connector>,
    ) -> Self {
        Self {
            store,
            vault,
            connector,
            keypad: keypad::KeypadBuffers::default(),
            changes: changes::Changes::default(),
            challenges: authentication::Challenges::default(),
        }
    }

    /// The connector payments are authorized through.
    pub fn connector(&self) -> &Arc<dyn Connector> {
        &self.connector
    }

    async fn audit(
        &self,
        actor: &Actor,
        tenant: &str,
        action: String,
        id: &str,
    ) -> Result<(), PaymentError> {
        self.vault
            .vault
            .audit(AuditEvent {
                tenant: Some(TenantId::new(tenant)),
                actor: actor.who.clone(),
                action,
                resource: id.to_owned(),
                outcome: "ok".into(),
                request_id: actor.request_id.clone(),
            })
            .await
            .map_err(PaymentError::from)
    }

    /// Creates a payment, or returns the one an earlier request with the same
    /// `Idempotency-Key` created (refused when that request differed, its room included).
    pub async fn create(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        request: PaymentRequest,
        idempotency_key: &str,
    ) -> Result<Created, PaymentError> {
        let request_hash = request_hash(&request);
        if let Some(existing) = self.replay(tenant, idempotency_key, &request_hash).await? {
            return Ok(existing);
        }
        let id = format!("pay_{}", crate::ids::base62(24));
        let now = unix_now();
        let payment = request.into_payment(id, tenant.as_str(), &actor.who, now)?;
        let client_secret = payment.method.uses_client_secret().then(secret::generate);
        let created = changes::Changes::change(payment.state, "create", &payment);
        // In a cluster the room's node closes its recording window first, or nothing is made.
        let prepared = match self.changes.route_of(&payment) {
            Some(route) => {
                route
                    .prepare(&created)
                    .await
                    .map_err(|e| PaymentError::RoomUnreachable(e.0))?;
                Some(route)
            }
            None => None,
        };
        let abandon = || async {
            if let Some(route) = prepared {
                route.abandon(&created).await;
            }
        };
        if let Err(e) = self
            .audit(actor, tenant.as_str(), "payment.create".into(), &payment.id)
            .await
        {
            abandon().await;
            return Err(e);
        }
        let record = PaymentRecord {
            id: payment.id.clone(),
            tenant: tenant.clone(),
            idempotency_key: Some(idempotency_key.to_owned()),
            request_hash: request_hash.clone(),
            state: payment.state.as_str().to_owned(),
            document: document(&payment)?,
            client_secret_hash: client_secret.as_ref().map(|s| secret::hash(s)),
            created_at: now,
            updated_at: now,
            expires_at: payment.expires_at,
            version: 1,
        };
        match self.store.insert_payment(&record).await {
            Ok(()) => {
                self.changes.send(created.clone()).await;
                Ok(Created {
                    payment,
                    client_secret,
                    replayed: false,
                })
            }
            // A concurrent request with the same key won the insert.
            Err(StoreError::Conflict(_)) => {
                abandon().await;
                self.replay(tenant, idempotency_key, &request_hash)
                    .await?
                    .ok_or(PaymentError::Concurrent)
            }
            Err(e) => {
                abandon().await;
                Err(e.into())
            }
        }
    }

    async fn replay(
        &self,
        tenant: &TenantId,
        key: &str,
        request_hash: &str,
    ) -> Result<Option<Created>, PaymentError> {
        let Some(record) = self.store.payment_by_idempotency_key(tenant, key).await? else {
            return Ok(None);
        };
        if record.request_hash != request_hash {
            return Err(PaymentError::IdempotencyMismatch);
        }
        let loaded = self.load(&record.id).await?;
        Ok(Some(Created {
            payment: loaded.payment,
            client_secret: None,
            replayed: true,
        }))
    }

    /// Loads a payment; one past its timeout is expired first.
    pub async fn load(&self, id: &str) -> Result<Loaded, PaymentError> {
        if !id.starts_with("pay_") || id.len() > 64 {
            return Err(PaymentError::NotFound);
        }
        let record = self
            .store
            .payment(id)
            .await?
            .ok_or(PaymentError::NotFound)?;
        let payment: Payment = serde_json::from_str(&record.document)
            .map_err(|e| PaymentError::Document(e.to_string()))?;
        let loaded = Loaded { record, payment };
        if loaded.payment.is_overdue(unix_now()) {
            let system = Actor {
                who: "system".into(),
                request_id: String::new(),
            };
            return match self.transition(&system, &loaded, Event::Expire).await {
                Err(PaymentError::Concurrent) => Box::pin(self.load(id)).await,
                other => other,
            };
        }
        Ok(loaded)
    }

    /// Fails an open payment whose room's node died (cluster, [`crate::cluster`]).
    pub async fn node_lost(&self, id: &str) -> Result<Loaded, PaymentError> {
        let system = Actor {
            who: "system".into(),
            request_id: String::new(),
        };
        let loaded = self.load(id).await?;
        self.transition(&system, &loaded, Event::NodeLost).await
    }

    /// Applies `event`: audited first, then persisted with the webhook event it causes in
    /// one transaction. `Concurrent` when the payment changed since it was loaded.
    pub async fn transition(
        &self,
        actor: &Actor,
        loaded: &Loaded,
        event: Event,
    ) -> Result<Loaded, PaymentError> {
        let now = unix_now();
        let name = event.name();
        let next = loaded.payment.apply(event, now)?;
        self.persist(actor, loaded, name, next, now).await
    }

    /// Audits and stores `next`, what the event `name` made of `loaded` at `now`, with the
    /// webhook event it causes, in one transaction; broadcasts the change.
    async fn persist(
        &self,
        actor: &Actor,
        loaded: &Loaded,
        name: &'static str,
        next: Payment,
        now: hushpay_store::UnixTime,
    ) -> Result<Loaded, PaymentError> {
        self.audit(actor, &next.tenant, format!("payment.{name}"), &next.id)
            .await?;
        let events: Vec<_> = events::for_payment(loaded.payment.state, &next, now)
            .into_iter()
            .collect();
        let record = PaymentRecord {
            state: next.state.as_str().to_owned(),
            document: document(&next)?,
            updated_at: now,
            expires_at: next.expires_at,
            version: loaded.record.version + 1,
            ..loaded.record.clone()
        };
        if !self
            .store
            .update_payment(&record, loaded.record.version, &events)
            .await?
        {
            return Err(PaymentError::Concurrent);
        }
        if next.state.is_terminal() {
            self.keypad.wipe(&next.id);
            self.challenges.forget(&next.id);
        }
        self.changes
            .send(changes::Changes::change(loaded.payment.state, name, &next))
            .await;
        Ok(Loaded {
            record,
            payment: next,
        })
    }
}

fn document(payment: &Payment) -> Result<String, PaymentError> {
    serde_json::to_string(payment).map_err(|e| PaymentError::Document(e.to_string()))
}
