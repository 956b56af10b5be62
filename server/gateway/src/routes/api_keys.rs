//! `DELETE /v1/api-keys/{id}`: a tenant backend revokes one of its own API keys (another one
//! or the key it calls with). Every token minted with the key is refused from then on
//! ([`crate::token_auth`]) and this node's signalling sessions of those tokens close at once.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hushpay_store::ApiKeyId;
use hushpay_vault::audit::AuditEvent;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::TenantKey;
use crate::openapi::errors;
use crate::routes::card_tokens::request_id;

crate::api_errors!(RevokeErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["not_found"]],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

/// Revokes one of the tenant's API keys (audited `apikey.revoke`): its tokens are refused from
/// then on and their calls end.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", operation_id = "revokeApiKey", tag = "tenants",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The key's id (`key_...`)")),
    responses((status = 204, description = "Revoked"), RevokeErrors))]
pub async fn revoke(
    State(state): State<AppState>,
    TenantKey(caller): TenantKey,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if !hushpay_auth::valid_api_key_id(&id) {
        return Err(ApiError::not_found("no active API key with this id"));
    }
    let id = ApiKeyId::new(id);
    // Audit or deny: the entry is written before the key changes.
    state
        .vault
        .vault
        .audit(AuditEvent {
            tenant: Some(caller.tenant.clone()),
            actor: caller.id.to_string(),
            action: "apikey.revoke".into(),
            resource: id.to_string(),
            outcome: "ok".into(),
            request_id: request_id(&headers),
        })
        .await?;
    let now = i64::try_from(hushpay_auth::unix_now()).unwrap_or(i64::MAX);
    if !state.store.revoke_api_key(&caller.tenant, &id, now).await? {
        return Err(ApiError::not_found("no active API key with this id"));
    }
    state.tokens.announce_revoked(&id);
    Ok(StatusCode::NO_CONTENT)
}
