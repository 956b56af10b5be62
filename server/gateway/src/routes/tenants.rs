//! `GET /v1/tenants/{tenant}`: a tenant's public profile, for its own credentials only.

use axum::Json;
use axum::extract::{Path, State};
use hushpay_store::TenantId;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::Caller;

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
    Ok(Json(json!({
        "id": tenant.id,
        "name": tenant.name,
        "created_at": tenant.created_at,
        "allowed_origins": tenant.allowed_origins,
    })))
}
