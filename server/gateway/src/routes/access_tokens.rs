//! `POST /v1/access-tokens`: a tenant backend mints a participant JWT with its API key.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hushpay_auth::{Grants, MintError, MintRequest, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, TenantKey};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateAccessToken {
    identity: String,
    room: String,
    role: Role,
    /// Optional; when given it must be the API key's own tenant.
    tenant: Option<String>,
    /// Overrides the role's default grants.
    grants: Option<Grants>,
    /// Lifetime in seconds (default from config, capped by `auth.max_ttl_secs`).
    ttl_secs: Option<u64>,
}

pub async fn create(
    State(state): State<AppState>,
    TenantKey(key): TenantKey,
    ApiJson(body): ApiJson<CreateAccessToken>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if body
        .tenant
        .as_deref()
        .is_some_and(|t| t != key.tenant.as_str())
    {
        return Err(ApiError::forbidden(
            "wrong_tenant",
            "the API key belongs to another tenant",
        ));
    }
    let request = MintRequest {
        tenant: key.tenant.as_str().to_owned(),
        identity: body.identity,
        room: body.room,
        role: body.role,
        grants: body.grants,
        ttl: body.ttl_secs.map(Duration::from_secs),
        api_key_id: Some(key.id.to_string()),
    };
    let minted = state.tokens.signer.mint_now(request).map_err(mint_error)?;
    state.metrics.token_minted();
    let c = &minted.claims;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "token": minted.token,
            "tenant": c.tenant.as_str(),
            "identity": c.sub.as_str(),
            "room": c.room.as_str(),
            "role": c.role,
            "grants": c.grants,
            "expires_at": c.exp,
            "jti": c.jti,
        })),
    ))
}

fn mint_error(e: MintError) -> ApiError {
    match e {
        MintError::Signing => ApiError::internal("token signing failed", &e),
        other => ApiError::bad_request(other.code(), other.to_string()),
    }
}
