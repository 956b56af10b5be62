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
use hushpay_vault::Actor;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, TenantKey};
use crate::routes::card_tokens::request_id;
use crate::webhooks::WebhooksError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateEndpoint {
    pub url: String,
}

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

pub async fn create(
    State(state): State<AppState>,
    key: TenantKey,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateEndpoint>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (endpoint, secret) = state
        .webhooks
        .create(&actor(&key, &headers), &key.0.tenant, &body.url)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "endpoint": endpoint, "secret": secret.as_str() })),
    ))
}

pub async fn list(State(state): State<AppState>, key: TenantKey) -> Result<Json<Value>, ApiError> {
    let endpoints = state.webhooks.list(&key.0.tenant).await?;
    Ok(Json(json!({ "endpoints": endpoints })))
}

pub async fn get_one(
    State(state): State<AppState>,
    key: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let endpoint = state.webhooks.get(&key.0.tenant, &id).await?;
    Ok(Json(json!({ "endpoint": endpoint })))
}

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

pub async fn deliveries(
    State(state): State<AppState>,
    key: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    if state
        .store
        .webhook_endpoint(&key.0.tenant, &id)
        .await?
        .is_none()
    {
        return Err(WebhooksError::NotFound.into());
    }
    let log = state.store.delivery_log(&key.0.tenant, &id, 100).await?;
    Ok(Json(json!({ "deliveries": log })))
}
