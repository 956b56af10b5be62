//! Request extractors that turn headers and bodies into typed values or [`ApiError`]s:
//! [`ApiJson`] (JSON bodies with clear 400/413/415 errors), [`ApiQuery`] (query strings into
//! typed structs, a 400 with the parameter's own code) and [`Caller`] (a tenant API key or a
//! participant JWT from `Authorization: Bearer ...`).

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use hushpay_auth::{Claims, Expectation};
use hushpay_protocol::redact::redact_quoted;
use hushpay_store::{ApiKeyRecord, TenantId};
use serde::de::DeserializeOwned;

use crate::app::AppState;
use crate::error::ApiError;
use crate::tenants::{self, TenantError};

/// A JSON body. Rejections become JSON errors; serde messages are kept (they name the field
/// and the expected type) but quoted input values are redacted so no submitted value, card
/// data included, is ever echoed back or logged.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(e) => ApiError::bad_request(
            "malformed_json",
            format!(
                "request body is not valid JSON: {}",
                redact_quoted(&e.body_text())
            ),
        ),
        JsonRejection::JsonDataError(e) => ApiError::bad_request(
            "invalid_request",
            format!(
                "request body does not match the schema: {}",
                redact_quoted(&e.body_text())
            ),
        ),
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "expected `Content-Type: application/json`",
        ),
        JsonRejection::BytesRejection(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "request body is too large",
            )
        }
        other => ApiError::new(
            other.status(),
            "bad_body",
            "the request body could not be read",
        ),
    }
}

/// Query parameters as a typed `T` (a `#[serde(deny_unknown_fields)]` struct whose values are
/// enums and newtypes): an unknown or repeated parameter, or a value `T` refuses, is a 400
/// whose code [`QueryParams::code`] chooses per parameter. The message names the parameter and
/// what is expected, never the submitted value.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

/// A struct [`ApiQuery`] reads.
pub trait QueryParams: DeserializeOwned {
    /// The parameters it reads (any other is refused, and never named back).
    const PARAMS: &'static [&'static str];

    /// The error code of a bad value of `param` (`invalid_request` unless overridden).
    fn code(param: &str) -> &'static str {
        let _ = param;
        "invalid_request"
    }
}

impl<T: QueryParams, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(url::form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Self)
            .map_err(|e| query_rejection::<T>(&e.path().to_string(), &e.inner().to_string()))
    }
}

fn query_rejection<T: QueryParams>(path: &str, reason: &str) -> ApiError {
    let reason = redact_quoted(reason);
    // The path names the parameter being read: one of `T::PARAMS`, or an unknown one the
    // caller sent (not shown), or `.` for the query as a whole.
    match T::PARAMS.iter().find(|p| **p == path) {
        Some(param) => ApiError::bad_request(
            T::code(param),
            format!("query parameter `{param}`: {reason}"),
        ),
        None => ApiError::bad_request("invalid_request", format!("invalid query: {reason}")),
    }
}

/// Who is calling: a tenant backend with its API key, or a participant with a JWT.
#[derive(Debug, Clone)]
pub enum Caller {
    ApiKey(ApiKeyRecord),
    Participant(Box<Claims>),
}

impl Caller {
    /// The tenant the credential belongs to.
    pub fn tenant(&self) -> TenantId {
        match self {
            Caller::ApiKey(k) => k.tenant.clone(),
            Caller::Participant(c) => TenantId::new(c.tenant.as_str()),
        }
    }

    /// Refuses (403 `wrong_tenant`) when the credential is for another tenant.
    pub fn require_tenant(&self, tenant: &TenantId) -> Result<(), ApiError> {
        if &self.tenant() == tenant {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "wrong_tenant",
                "the credential belongs to another tenant",
            ))
        }
    }

    /// Refuses (403 `wrong_role`) a patient's token: what only the tenant's backend and its
    /// agents and supervisors may read (card tokens, for one).
    pub fn require_staff(&self) -> Result<(), ApiError> {
        match self {
            Caller::Participant(c) if c.role == hushpay_auth::Role::Patient => {
                Err(ApiError::forbidden(
                    "wrong_role",
                    "a patient's token may not read this; it is for the tenant's backend and its staff",
                ))
            }
            _ => Ok(()),
        }
    }
}

/// The tenant API key only (participant tokens refused).
#[derive(Debug, Clone)]
pub struct TenantKey(pub ApiKeyRecord);

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::unauthorized("missing_credentials", "send `Authorization: Bearer ...`")
        })?;
    let value = header.to_str().map_err(|_| {
        ApiError::unauthorized("malformed_credentials", "authorization header is not text")
    })?;
    let (scheme, token) = value.split_once(' ').ok_or_else(|| {
        ApiError::unauthorized("malformed_credentials", "expected `Bearer <credential>`")
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(ApiError::unauthorized(
            "malformed_credentials",
            "expected `Bearer <credential>`",
        ));
    }
    Ok(token.trim())
}

async fn api_key(state: &AppState, presented: &str) -> Result<ApiKeyRecord, ApiError> {
    tenants::authenticate_api_key(state.store.as_ref(), presented)
        .await
        .map_err(|e| {
            let (code, message) = match e {
                TenantError::RevokedKey => ("revoked_api_key", "the API key has been revoked"),
                TenantError::Store(s) => return ApiError::from(s),
                _ => ("invalid_api_key", "the API key is not valid"),
            };
            state.metrics.auth_failure(code);
            ApiError::unauthorized(code, message)
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = bearer(parts)?;
        if credential.starts_with("hpk_") {
            return Ok(Caller::ApiKey(api_key(state, credential).await?));
        }
        let claims =
            crate::token_auth::participant(state, credential, Expectation::any_tenant()).await?;
        Ok(Caller::Participant(Box::new(claims)))
    }
}

impl FromRequestParts<AppState> for TenantKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = bearer(parts)?;
        if !credential.starts_with("hpk_") {
            state.metrics.auth_failure("invalid_api_key");
            return Err(ApiError::unauthorized(
                "invalid_api_key",
                "this endpoint needs a tenant API key",
            ));
        }
        Ok(TenantKey(api_key(state, credential).await?))
    }
}
