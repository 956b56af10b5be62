//! `GET /v1/tenants/{tenant}`: a tenant's public profile, for its own credentials only.
//! `PATCH /v1/tenants/{tenant}`: its settings, for its own API key only (audited).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hushpay_store::{Tenant, TenantId};
use hushpay_vault::audit::AuditEvent;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, TenantKey};
use crate::openapi::errors;

/// Audit action of a change of tenant settings.
pub const AUDIT_UPDATE: &str = "tenant.update";

/// A tenant's profile.
#[derive(Debug, Serialize, ToSchema)]
pub struct TenantProfile {
    /// `ten_...`
    pub id: String,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Origins allowed to embed the card iframe (its `frame-ancestors`).
    pub allowed_origins: Vec<String>,
    /// Every room of the tenant needs the patient's recording consent.
    pub require_consent_by_default: bool,
}

fn profile(tenant: &Tenant) -> TenantProfile {
    TenantProfile {
        id: tenant.id.as_str().to_owned(),
        name: tenant.name.clone(),
        created_at: tenant.created_at,
        allowed_origins: tenant.allowed_origins.clone(),
        require_consent_by_default: tenant.require_consent_by_default,
    }
}

crate::api_errors!(ShowErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [&["wrong_tenant"]],
    404 => [&["not_found"]],
    503 => [errors::STORE_503],
});

crate::api_errors!(UpdateErrors {
    400 => [errors::JSON_400],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    403 => [&["wrong_tenant"]],
    404 => [&["not_found"]],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

/// The tenant's profile, for its own API key or participant tokens.
#[utoipa::path(get, path = "/v1/tenants/{tenant}", operation_id = "showTenant", tag = "tenants",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("tenant" = String, Path, description = "The tenant's id (`ten_...`)")),
    responses((status = 200, description = "The profile", body = TenantProfile), ShowErrors))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
) -> Result<Json<TenantProfile>, ApiError> {
    let id = TenantId::new(tenant);
    caller.require_tenant(&id)?;
    let tenant = state
        .store
        .tenant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such tenant"))?;
    Ok(Json(profile(&tenant)))
}

/// The settings a tenant's backend may change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// Recording policy: every room of the tenant (created by the API or by a join) needs the
    /// patient's consent before anything is recorded. Applies to rooms that open from now on.
    /// Required: a request without it changes nothing and is refused (400 `invalid_request`).
    #[schema(value_type = bool, required = true)]
    pub require_consent_by_default: Option<bool>,
}

/// Changes the tenant's settings (audited `tenant.update`), for its own API key.
#[utoipa::path(patch, path = "/v1/tenants/{tenant}", operation_id = "updateTenant", tag = "tenants",
    security(("api_key" = [])),
    params(("tenant" = String, Path, description = "The tenant's id (`ten_...`)")),
    request_body = UpdateTenant,
    responses((status = 200, description = "The changed profile", body = TenantProfile), UpdateErrors))]
pub async fn update(
    State(state): State<AppState>,
    tk: TenantKey,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<UpdateTenant>,
) -> Result<Json<TenantProfile>, ApiError> {
    let id = TenantId::new(tenant);
    Caller::ApiKey(tk.0.clone()).require_tenant(&id)?;
    let Some(require) = body.require_consent_by_default else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "nothing to change: send `require_consent_by_default` (true or false)",
        ));
    };
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state
        .vault
        .vault
        .audit(AuditEvent {
            tenant: Some(id.clone()),
            actor: tk.0.id.to_string(),
            action: AUDIT_UPDATE.into(),
            resource: id.to_string(),
            outcome: format!("require_consent_by_default={require}"),
            request_id,
        })
        .await?;
    if !state
        .store
        .set_tenant_consent_by_default(&id, require)
        .await?
    {
        return Err(ApiError::not_found("no such tenant"));
    }
    let tenant = state
        .store
        .tenant(&id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such tenant"))?;
    Ok(Json(profile(&tenant)))
}
