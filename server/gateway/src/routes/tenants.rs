//! `GET /v1/tenants/{tenant}`: a tenant's public profile, for its own credentials only.
//! `PATCH /v1/tenants/{tenant}`: its settings, for its own API key only (audited).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hushpay_store::{Tenant, TenantId};
use hushpay_vault::audit::AuditEvent;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, TenantKey};

/// Audit action of a change of tenant settings.
pub const AUDIT_UPDATE: &str = "tenant.update";

fn profile(tenant: &Tenant) -> Value {
    json!({
        "id": tenant.id,
        "name": tenant.name,
        "created_at": tenant.created_at,
        "allowed_origins": tenant.allowed_origins,
        "require_consent_by_default": tenant.require_consent_by_default,
    })
}

pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
) -> Result<Json<Value>, ApiError> {
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// Recording policy: every room of the tenant (created by the API or by a join) needs the
    /// patient's consent before anything is recorded. Applies to rooms that open from now on.
    pub require_consent_by_default: Option<bool>,
}

pub async fn update(
    State(state): State<AppState>,
    tk: TenantKey,
    headers: HeaderMap,
    Path(tenant): Path<String>,
    ApiJson(body): ApiJson<UpdateTenant>,
) -> Result<Json<Value>, ApiError> {
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
