//! `POST /v1/access-tokens`: a tenant backend mints a participant JWT with its API key.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hushpay_auth::{Grants, MintError, MintRequest, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, TenantKey};
use crate::openapi::errors;

/// The body of `POST /v1/access-tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"identity": "agent-7", "room": "intake-42", "role": "agent"}))]
pub struct CreateAccessToken {
    /// The participant (`sub`): 1-128 characters of A-Z a-z 0-9 . _ : @ -.
    #[schema(pattern = "^[A-Za-z0-9._:@-]{1,128}$")]
    identity: String,
    /// The room name the token opens (same characters).
    #[schema(pattern = "^[A-Za-z0-9._:@-]{1,128}$")]
    room: String,
    #[schema(value_type = crate::openapi::schemas::Role)]
    role: Role,
    /// Optional; when given it must be the API key's own tenant.
    tenant: Option<String>,
    /// Overrides the role's default grants.
    #[schema(value_type = Option<crate::openapi::schemas::Grants>)]
    grants: Option<Grants>,
    /// Lifetime in seconds (default `auth.default_ttl_secs`; more than `auth.max_ttl_secs`
    /// is 400 `ttl_too_long`).
    #[schema(minimum = 1)]
    ttl_secs: Option<u64>,
}

/// A minted participant token and its claims.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccessToken {
    /// The JWT (EdDSA; HS256 in development only).
    pub token: String,
    pub tenant: String,
    pub identity: String,
    pub room: String,
    #[schema(value_type = crate::openapi::schemas::Role)]
    pub role: Role,
    #[schema(value_type = crate::openapi::schemas::Grants)]
    pub grants: Grants,
    /// Unix seconds (`exp`).
    pub expires_at: u64,
    pub jti: String,
}

crate::api_errors!(CreateErrors {
    400 => [errors::JSON_400, &["identifier_empty", "identifier_too_long", "identifier_bad_character", "ttl_too_long", "ttl_zero", "api_key_id_invalid"]],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    403 => [&["wrong_tenant"]],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    503 => [errors::STORE_503],
});

/// Mints a participant JWT for the API key's tenant (the token names the key: `akid`).
#[utoipa::path(post, path = "/v1/access-tokens", operation_id = "createAccessToken", tag = "tokens",
    security(("api_key" = [])),
    request_body = CreateAccessToken,
    responses((status = 201, description = "The token", body = AccessToken), CreateErrors))]
pub async fn create(
    State(state): State<AppState>,
    TenantKey(key): TenantKey,
    ApiJson(body): ApiJson<CreateAccessToken>,
) -> Result<(StatusCode, Json<AccessToken>), ApiError> {
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
        Json(AccessToken {
            token: minted.token.clone(),
            tenant: c.tenant.as_str().to_owned(),
            identity: c.sub.as_str().to_owned(),
            room: c.room.as_str().to_owned(),
            role: c.role,
            grants: c.grants,
            expires_at: c.exp,
            jti: c.jti.clone(),
        }),
    ))
}

fn mint_error(e: MintError) -> ApiError {
    match e {
        MintError::Signing => ApiError::internal("token signing failed", &e),
        other => ApiError::bad_request(other.code(), other.to_string()),
    }
}
