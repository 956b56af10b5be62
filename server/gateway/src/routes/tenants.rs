//! `GET /v1/tenants/{tenant}`: a tenant's public profile, for its own credentials only.
//! `PATCH /v1/tenants/{tenant}`: its settings (recording policy, the agent desktops allowed
//! to embed the console, the default locale of its payments), for its own API key only
//! (audited).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hushpay_store::{Tenant, TenantId};
use hushpay_vault::audit::AuditEvent;
use hushpay_vault::payment::locale;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, TenantKey};
use crate::openapi::errors;
use crate::tenants;

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
    /// Origins of the agent desktops allowed to embed the agent console
    /// (`/console?tenant=`: its `frame-ancestors` and `postMessage` partners).
    pub agent_desktop_origins: Vec<String>,
    /// The locale of the tenant's payments that name none (BCP 47; `en` unless set).
    #[schema(example = "es-US")]
    pub default_locale: String,
}

fn profile(tenant: &Tenant) -> TenantProfile {
    TenantProfile {
        id: tenant.id.as_str().to_owned(),
        name: tenant.name.clone(),
        created_at: tenant.created_at,
        allowed_origins: tenant.allowed_origins.clone(),
        require_consent_by_default: tenant.require_consent_by_default,
        agent_desktop_origins: tenant.agent_desktop_origins.clone(),
        default_locale: tenant
            .default_locale
            .clone()
            .unwrap_or_else(|| locale::DEFAULT_LOCALE.to_owned()),
    }
}

crate::api_errors!(ShowErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [&["wrong_tenant"]],
    404 => [&["not_found"]],
    503 => [errors::STORE_503],
});

crate::api_errors!(UpdateErrors {
    400 => [errors::JSON_400, &["invalid_agent_desktop_origins"]],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    403 => [&["wrong_tenant"]],
    404 => [&["not_found"]],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    422 => [&["invalid_locale"]],
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

/// The settings a tenant's backend may change: at least one of them (a request with neither
/// changes nothing and is refused, 400 `invalid_request`).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTenant {
    /// Recording policy: every room of the tenant (created by the API or by a join) needs the
    /// patient's consent before anything is recorded. Applies to rooms that open from now on.
    pub require_consent_by_default: Option<bool>,
    /// Replaces the origins of the agent desktops (CRM, contact-centre desktop) allowed to
    /// embed the agent console: `https://host[:port]`, or `http://` on a loopback host; no
    /// path, no wildcard; at most 16; `[]` forbids embedding. Anything else is refused
    /// (400 `invalid_agent_desktop_origins`) and changes nothing.
    pub agent_desktop_origins: Option<Vec<String>>,
    /// The locale of the tenant's payments that name none: BCP 47 of a supported language
    /// with an optional region (`en`, `es`, `es-US`); anything else is refused (422
    /// `invalid_locale`) and changes nothing.
    #[schema(
        max_length = 16,
        pattern = "^[A-Za-z]{2}(-([A-Za-z]{2}|[0-9]{3}))?$",
        example = "es-US"
    )]
    pub default_locale: Option<String>,
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
    if body.require_consent_by_default.is_none()
        && body.agent_desktop_origins.is_none()
        && body.default_locale.is_none()
    {
        return Err(ApiError::bad_request(
            "invalid_request",
            "nothing to change: send `require_consent_by_default` (true or false), \
             `agent_desktop_origins` (a list of origins) or `default_locale` (such as es-US)",
        ));
    }
    let default_locale = match &body.default_locale {
        Some(tag) => Some(locale::normalize(tag).ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_locale",
                "`default_locale` must be a BCP 47 tag of a supported language with an optional region: en, es (such as es-US)",
            )
        })?),
        None => None,
    };
    if let Some(origins) = &body.agent_desktop_origins {
        tenants::check_agent_desktop_origins(origins)
            .map_err(|e| ApiError::bad_request("invalid_agent_desktop_origins", e.to_string()))?;
    }
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut outcome = Vec::new();
    if let Some(require) = body.require_consent_by_default {
        outcome.push(format!("require_consent_by_default={require}"));
    }
    if let Some(origins) = &body.agent_desktop_origins {
        outcome.push(format!("agent_desktop_origins={}", origins.join(",")));
    }
    if let Some(l) = &default_locale {
        outcome.push(format!("default_locale={l}"));
    }
    state
        .vault
        .vault
        .audit(AuditEvent {
            tenant: Some(id.clone()),
            actor: tk.0.id.to_string(),
            action: AUDIT_UPDATE.into(),
            resource: id.to_string(),
            outcome: outcome.join(" "),
            request_id,
        })
        .await?;
    if let Some(require) = body.require_consent_by_default
        && !state
            .store
            .set_tenant_consent_by_default(&id, require)
            .await?
    {
        return Err(ApiError::not_found("no such tenant"));
    }
    if let Some(origins) = &body.agent_desktop_origins
        && !state
            .store
            .set_tenant_agent_desktop_origins(&id, origins)
            .await?
    {
        return Err(ApiError::not_found("no such tenant"));
    }
    if let Some(l) = &default_locale
        && !state
            .store
            .set_tenant_default_locale(&id, Some(l.as_str()))
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
