//! Webhooks: per-tenant endpoints and the delivery worker.
//!
//! * Endpoints ([`Webhooks::create`], [`Webhooks::list`], [`Webhooks::delete`]): the URL is
//!   checked at registration (https, no loopback/private/link-local address unless
//!   `danger_allow_private_webhook_targets`); the signing secret (`whsec_...`) is shown once
//!   and kept encrypted under the tenant's data key (record type `webhook_secret`).
//! * Events go to the store's outbox in the same transaction as the change they report
//!   (payments) and fan out to the tenant's endpoints; [`worker`] delivers them with
//!   Standard Webhooks headers, exponential back-off with jitter, and a delivery log.

pub mod config;
pub mod deliver;
pub mod worker;

use std::sync::Arc;

use hushpay_store::{Store, TenantId, WebhookEndpointRecord};
use hushpay_vault::audit::AuditEvent;
use hushpay_vault::webhook::{self, WebhookError, WebhookSecret};
use hushpay_vault::{Actor, VaultError, unix_now};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::vault::VaultState;
use config::WebhookConfig;

/// The record type bound into a webhook secret's associated data.
pub const SECRET_RECORD_TYPE: &str = "webhook_secret";

/// An endpoint as shown to its tenant (never the secret, except once at creation).
#[derive(Debug, Clone, Serialize)]
pub struct EndpointView {
    pub id: String,
    pub url: String,
    pub created_at: i64,
}

impl From<&WebhookEndpointRecord> for EndpointView {
    fn from(r: &WebhookEndpointRecord) -> Self {
        EndpointView {
            id: r.id.clone(),
            url: r.url.clone(),
            created_at: r.created_at,
        }
    }
}

/// Webhook errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebhooksError {
    #[error(transparent)]
    Target(#[from] WebhookError),
    #[error("no such webhook endpoint")]
    NotFound,
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] hushpay_store::StoreError),
}

/// Endpoint management.
#[derive(Debug)]
pub struct Webhooks {
    store: Arc<dyn Store>,
    vault: Arc<VaultState>,
    pub config: WebhookConfig,
}

impl Webhooks {
    pub fn new(store: Arc<dyn Store>, vault: Arc<VaultState>, config: WebhookConfig) -> Self {
        Self {
            store,
            vault,
            config,
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

    /// Registers an endpoint; returns it with its secret (shown this once).
    pub async fn create(
        &self,
        actor: &Actor,
        tenant: &TenantId,
        url: &str,
    ) -> Result<(EndpointView, Zeroizing<String>), WebhooksError> {
        webhook::check_target(url, self.config.danger_allow_private_webhook_targets)?;
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
            url: url.to_owned(),
            key_version,
            secret_ciphertext,
            created_at: unix_now(),
            deleted_at: None,
        };
        self.store.insert_webhook_endpoint(&record).await?;
        Ok((EndpointView::from(&record), secret))
    }

    /// The tenant's live endpoints.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<EndpointView>, WebhooksError> {
        let all = self.store.webhook_endpoints(tenant).await?;
        Ok(all.iter().map(EndpointView::from).collect())
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
