//! Webhooks: per-tenant endpoints and the delivery worker.
//!
//! * Endpoints ([`Webhooks::create`], [`Webhooks::list`], [`Webhooks::get`],
//!   [`Webhooks::delete`]): the URL is checked at registration with
//!   [`hushpay_vault::webhook::check_url_with`] (https, no userinfo or backslash, no internal
//!   name or address unless `danger_allow_private_webhook_targets`) and stored in the parsed,
//!   normalized form; at most `max_endpoints_per_tenant` live endpoints per tenant; the
//!   signing secret (`whsec_...`) is shown once and kept encrypted under the tenant's data
//!   key (record type `webhook_secret`). Each view shows the endpoint's circuit breaker.
//! * Events go to the store's outbox in the same transaction as the change they report
//!   (payments) and fan out to the tenant's endpoints; [`worker`] delivers them with
//!   Standard Webhooks headers, exponential back-off with jitter, and a delivery log.
//! * An endpoint's format: `standard-webhooks` (every event as Hushpay's JSON) or `fhir-r4`
//!   (the events with a FHIR R4 form, [`fhir`], as that resource; same signature headers).

pub mod circuit;
pub mod config;
pub mod deliver;
pub mod fhir;
pub mod worker;

use std::sync::Arc;

use hushpay_store::{Store, TenantId, WebhookEndpointRecord, WebhookFormat};
use hushpay_vault::audit::AuditEvent;
use hushpay_vault::webhook::{self, WebhookError, WebhookSecret, WebhookUrlError};
use hushpay_vault::{Actor, VaultError, unix_now};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::vault::VaultState;
use circuit::{CircuitView, Circuits};
use config::WebhookConfig;
use deliver::{HostLookup, Sender, SystemLookup};

/// The record type bound into a webhook secret's associated data.
pub const SECRET_RECORD_TYPE: &str = "webhook_secret";

/// An endpoint as shown to its tenant (never the secret, except once at creation).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    /// What it receives: `standard-webhooks` (every event as Hushpay's JSON) or `fhir-r4`
    /// (FHIR R4 resources of the events that have one).
    #[schema(value_type = String, example = "standard-webhooks")]
    pub format: WebhookFormat,
    pub created_at: i64,
    /// The endpoint's circuit breaker (see [`circuit`]).
    pub circuit: CircuitView,
}

/// Webhook errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhooksError {
    #[error(transparent)]
    Url(#[from] WebhookUrlError),
    #[error(transparent)]
    Secret(#[from] WebhookError),
    #[error("a tenant may have at most {limit} webhook endpoints")]
    TooManyEndpoints { limit: usize },
    #[error("no such webhook endpoint")]
    NotFound,
    #[error("webhook client: {0}")]
    Client(String),
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] hushpay_store::StoreError),
}

/// Endpoint management, and what the delivery worker shares: the client and the breakers.
#[derive(Debug)]
pub struct Webhooks {
    store: Arc<dyn Store>,
    vault: Arc<VaultState>,
    pub config: WebhookConfig,
    pub sender: Sender,
    pub circuits: Circuits,
    /// Serializes endpoint creation so the per-tenant cap holds under concurrent requests.
    create_lock: tokio::sync::Mutex<()>,
}

impl Webhooks {
    /// Webhooks resolving target names with the system resolver.
    pub fn new(
        store: Arc<dyn Store>,
        vault: Arc<VaultState>,
        config: WebhookConfig,
    ) -> Result<Self, WebhooksError> {
        Self::with_lookup(store, vault, config, Arc::new(SystemLookup))
    }

    /// Webhooks resolving target names with `lookup` (tests).
    pub fn with_lookup(
        store: Arc<dyn Store>,
        vault: Arc<VaultState>,
        config: WebhookConfig,
        lookup: Arc<dyn HostLookup>,
    ) -> Result<Self, WebhooksError> {
        let sender = Sender::new(&config, lookup).map_err(WebhooksError::Client)?;
        let circuits = Circuits::new(
            config.circuit_breaker_failures,
            config.circuit_breaker_cooldown.as_secs(),
        );
        Ok(Self {
            store,
            vault,
            config,
            sender,
            circuits,
            create_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn view(&self, r: &WebhookEndpointRecord) -> EndpointView {
        EndpointView {
            id: r.id.clone(),
            url: r.url.clone(),
            format: r.format,
            created_at: r.created_at,
            circuit: self.circuits.view(&r.id, unix_now()),
        }
    }

    async fn audit(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        action: &str,
        id: &str,
    ) -> Result<(), WebhooksError> {
        Ok(self
            .vault
            .vault
            .audit(AuditEvent {
                tenant: Some(tenant.clone()),
                actor: actor.who.clone(),
                action: action.into(),
                resource: id.into(),
                outcome: "ok".into(),
                request_id: actor.request_id.clone(),
            })
            .await?)
    }

    /// Registers an endpoint receiving `format`; returns it with its secret (shown this once).
    pub async fn create(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        url: &str,
        format: WebhookFormat,
    ) -> Result<(EndpointView, Zeroizing<String>), WebhooksError> {
        let checked =
            webhook::check_url_with(url, self.config.danger_allow_private_webhook_targets)?;
        let _one_at_a_time = self.create_lock.lock().await;
        let limit = self.config.max_endpoints_per_tenant;
        if self.store.webhook_endpoints(tenant).await?.len() >= limit {
            return Err(WebhooksError::TooManyEndpoints { limit });
        }
        let id = format!("whe_{}", crate::ids::base62(24));
        let secret = WebhookSecret::generate().expose();
        let (key_version, secret_ciphertext) = self
            .vault
            .vault
            .keyring()
            .encrypt(tenant, SECRET_RECORD_TYPE, &id, secret.as_bytes())
            .await?;
        self.audit(actor, tenant, "webhook.create", &id).await?;
        let record = WebhookEndpointRecord {
            id,
            tenant: tenant.clone(),
            url: checked.as_str().to_owned(),
            key_version,
            secret_ciphertext,
            format,
            created_at: unix_now(),
            deleted_at: None,
        };
        self.store.insert_webhook_endpoint(&record).await?;
        Ok((self.view(&record), secret))
    }

    /// The tenant's live endpoints.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<EndpointView>, WebhooksError> {
        let all = self.store.webhook_endpoints(tenant).await?;
        Ok(all.iter().map(|r| self.view(r)).collect())
    }

    /// One live endpoint of the tenant.
    pub async fn get(&self, tenant: &TenantId, id: &str) -> Result<EndpointView, WebhooksError> {
        match self.store.webhook_endpoint(tenant, id).await? {
            Some(r) if r.deleted_at.is_none() => Ok(self.view(&r)),
            _ => Err(WebhooksError::NotFound),
        }
    }

    /// Deletes an endpoint; its pending deliveries stop.
    pub async fn delete(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        id: &str,
    ) -> Result<(), WebhooksError> {
        if self
            .store
            .webhook_endpoint(tenant, id)
            .await?
            .is_none_or(|w| w.deleted_at.is_some())
        {
            return Err(WebhooksError::NotFound);
        }
        self.audit(actor, tenant, "webhook.delete", id).await?;
        if !self
            .store
            .delete_webhook_endpoint(tenant, id, unix_now())
            .await?
        {
            return Err(WebhooksError::NotFound);
        }
        self.circuits.forget(id);
        Ok(())
    }

    /// The endpoint's signing secret, decrypted (for the delivery worker only).
    pub async fn secret(
        &self,
        endpoint: &WebhookEndpointRecord,
    ) -> Result<WebhookSecret, WebhooksError> {
        let plain = self
            .vault
            .vault
            .keyring()
            .decrypt(
                &endpoint.tenant,
                SECRET_RECORD_TYPE,
                &endpoint.id,
                endpoint.key_version,
                &endpoint.secret_ciphertext,
            )
            .await?;
        let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Malformed)?;
        Ok(WebhookSecret::parse(text)?)
    }
}
