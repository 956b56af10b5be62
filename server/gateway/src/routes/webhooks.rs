//! Webhook endpoints for the tenant backend (API key):
//!
//! * `POST /v1/webhooks` `{"url": "https://..."}`: 201 with the endpoint and its signing
//!   `secret` (`whsec_...`, shown this once);
//!   422 `webhook_target_refused` for an internal name or address, 422 `invalid_webhook_url`
//!   for anything else the check refuses, 409 `webhook_endpoint_limit` when the tenant has
//!   `[webhooks] max_endpoints_per_tenant` live endpoints already;
//! * `GET /v1/webhooks`: the live endpoints (no secrets), each with its `circuit`;
//! * `GET /v1/webhooks/{id}`: one endpoint with its `circuit` (`closed`, `open` with
//!   `open_until`, `half_open`) and `consecutive_failures`;
//! * `DELETE /v1/webhooks/{id}`: 204; pending deliveries stop;
//! * `GET /v1/webhooks/{id}/deliveries`: the newest 100 delivery attempts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hushpay_store::WebhookFormat;
use hushpay_vault::Actor;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, TenantKey};
use crate::openapi::errors;
use crate::openapi::schemas::DeliveryAttempt;
use crate::routes::card_tokens::request_id;
use crate::webhooks::{EndpointView, WebhooksError};

/// The body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://crm.example.org/hushpay/webhooks"}))]
pub struct CreateEndpoint {
    /// `https://` URL of a public host (internal names and addresses are refused; `http://`
    /// only where `danger_allow_private_webhook_targets` is set).
    #[schema(pattern = "^https?://")]
    pub url: String,
    /// `standard-webhooks` (the default: every event as Hushpay's JSON) or `fhir-r4` (FHIR R4
    /// `PaymentNotice` resources of succeeded charges, `application/fhir+json`, signed the
    /// same way; docs/payments.md).
    #[serde(default)]
    #[schema(value_type = Option<String>, pattern = "^(standard-webhooks|fhir-r4)$")]
    pub format: Option<WebhookFormat>,
}

/// A new endpoint and its signing secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedEndpoint {
    pub endpoint: EndpointView,
    /// `whsec_...`: signs every delivery (Standard Webhooks); shown this once.
    pub secret: String,
}

/// The tenant's live endpoints (no secrets).
#[derive(Debug, Serialize, ToSchema)]
pub struct EndpointList {
    pub endpoints: Vec<EndpointView>,
}

/// One endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct OneEndpoint {
    pub endpoint: EndpointView,
}

/// An endpoint's newest delivery attempts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryLog {
    #[schema(value_type = Vec<DeliveryAttempt>)]
    pub deliveries: Vec<hushpay_store::DeliveryAttempt>,
}

crate::api_errors!(CreateErrors {
    400 => [errors::JSON_400],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    409 => [&["webhook_endpoint_limit", "conflict"]],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    422 => [&["webhook_target_refused", "invalid_webhook_url"]],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

crate::api_errors!(ListErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401],
    503 => [errors::STORE_503],
});

crate::api_errors!(OneErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["webhook_not_found"]],
    503 => [errors::STORE_503],
});

crate::api_errors!(DeleteErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["webhook_not_found"]],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

impl From<WebhooksError> for ApiError {
    fn from(e: WebhooksError) -> Self {
        match e {
            WebhooksError::Url(u) if u.is_internal_target() => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "webhook_target_refused",
                u.to_string(),
            ),
            WebhooksError::Url(u) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_webhook_url",
                u.to_string(),
            ),
            e @ WebhooksError::TooManyEndpoints { .. } => ApiError::new(
                StatusCode::CONFLICT,
                "webhook_endpoint_limit",
                e.to_string(),
            ),
            WebhooksError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "webhook_not_found",
                "no such webhook endpoint",
            ),
            WebhooksError::Vault(v) => ApiError::from(v),
            e @ (WebhooksError::Secret(_) | WebhooksError::Client(_)) => {
                ApiError::internal("webhook endpoint unusable", &e)
            }
            WebhooksError::Store(s) => ApiError::from(s),
        }
    }
}

fn actor(key: &TenantKey, headers: &HeaderMap) -> Actor {
    Actor {
        who: key.0.id.to_string(),
        request_id: request_id(headers),
    }
}

/// Adds a webhook endpoint: 201 with its signing secret (shown once).
#[utoipa::path(post, path = "/v1/webhooks", operation_id = "createWebhook", tag = "webhooks",
    security(("api_key" = [])),
    request_body = CreateEndpoint,
    responses((status = 201, description = "The endpoint", body = CreatedEndpoint,
        links(("showWebhook" = (operation_id = "showWebhook", parameters(("id" = "$response.body#/endpoint/id")))), ("webhookDeliveries" = (operation_id = "webhookDeliveries", parameters(("id" = "$response.body#/endpoint/id")))), ("deleteWebhook" = (operation_id = "deleteWebhook", parameters(("id" = "$response.body#/endpoint/id")))))), CreateErrors))]
pub async fn create(
    State(state): State<AppState>,
    key: TenantKey,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> Result<(StatusCode, Json<CreatedEndpoint>), ApiError> {
    let (endpoint, secret) = state
        .webhooks
        .create(
            &actor(&key, &headers),
            &key.0.tenant,
            &body.url,
            body.format.unwrap_or_default(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedEndpoint {
            endpoint,
            secret: secret.as_str().to_owned(),
        }),
    ))
}

/// The live endpoints, each with its circuit breaker.
#[utoipa::path(get, path = "/v1/webhooks", operation_id = "listWebhooks", tag = "webhooks",
    security(("api_key" = [])),
    responses((status = 200, description = "The endpoints", body = EndpointList), ListErrors))]
pub async fn list(
    State(state): State<AppState>,
    key: TenantKey,
) -> Result<Json<EndpointList>, ApiError> {
    let endpoints = state.webhooks.list(&key.0.tenant).await?;
    Ok(Json(EndpointList { endpoints }))
}

/// One endpoint with its circuit (`closed`, `open` with `open_until`, `half_open`).
#[utoipa::path(get, path = "/v1/webhooks/{id}", operation_id = "showWebhook", tag = "webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses((status = 200, description = "The endpoint", body = OneEndpoint), OneErrors))]
pub async fn get_one(
    State(state): State<AppState>,
    key: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<OneEndpoint>, ApiError> {
    let endpoint = state.webhooks.get(&key.0.tenant, &id).await?;
    Ok(Json(OneEndpoint { endpoint }))
}

/// Deletes an endpoint; its pending deliveries stop.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", operation_id = "deleteWebhook", tag = "webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses((status = 204, description = "Deleted"), DeleteErrors))]
pub async fn delete(
    State(state): State<AppState>,
    key: TenantKey,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .webhooks
        .delete(&actor(&key, &headers), &key.0.tenant, &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint's newest 100 delivery attempts.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", operation_id = "webhookDeliveries", tag = "webhooks",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The endpoint's id")),
    responses((status = 200, description = "The log", body = DeliveryLog), OneErrors))]
pub async fn deliveries(
    State(state): State<AppState>,
    key: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<DeliveryLog>, ApiError> {
    if state
        .store
        .webhook_endpoint(&key.0.tenant, &id)
        .await?
        .is_none()
    {
        return Err(WebhooksError::NotFound.into());
    }
    let log = state.store.delivery_log(&key.0.tenant, &id, 100).await?;
    Ok(Json(DeliveryLog { deliveries: log }))
}
