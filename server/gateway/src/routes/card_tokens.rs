//! Card tokens.
//!
//! * `POST /v1/tokens` (tenant API key): body
//!   `{"sealed": <sealed card envelope>, "session": "<binding id>", "expires_at": <unix>?}`.
//!   The envelope must be sealed to the key from `GET /v1/vault/public-key` with the binding
//!   tenant = the caller's tenant id and session = `session`. Answers `201` with the token's
//!   masked metadata. A CVC in the payload is held in memory only, for one authorization.
//!   With `"save": true, "customer": "..."` the token is also saved for later charges (see
//!   `saved_cards`).
//! * `GET /v1/tokens/{id}`: the token's masked metadata, for the tenant's API key and its
//!   agents' and supervisors' tokens only (a patient's token is `403 wrong_role`).
//!
//! No response ever carries a PAN or CVC.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hushpay_card::YearMonth;
use hushpay_card::sealed::{self, Binding, OpenError, SealedCard};
use hushpay_vault::{Actor, TokenMetadata};
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller, TenantKey};
use crate::openapi::errors;

/// The body of `POST /v1/tokens`.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Sealed to `GET /v1/vault/public-key` with the binding tenant = the caller's tenant id
    /// and session = `session`.
    #[schema(value_type = crate::openapi::schemas::SealedCard)]
    pub sealed: SealedCard,
    /// The binding's session id: 1 to 128 characters.
    pub session: String,
    /// When the token stops working (unix seconds, in the future).
    pub expires_at: Option<i64>,
    /// True to save the card for later charges with the patient's consent, which the tenant
    /// is responsible for recording; needs `customer`. The CVC is never stored.
    pub save: Option<bool>,
    /// The tenant's customer reference for a saved card: 1 to 128 printable characters, no
    /// card number. Required with `save: true`, refused without it.
    pub customer: Option<String>,
}

/// What `POST /v1/tokens` answers: the token, and its saved-card record with `save: true`
/// (documented as [`crate::openapi::schemas::TokenMetadata`]).
#[derive(Debug, serde::Serialize)]
pub struct CreatedToken {
    #[serde(flatten)]
    pub token: TokenMetadata,
    /// Present when the card was saved (`save: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved: Option<crate::routes::saved_cards::SavedCard>,
}

crate::api_errors!(CreateErrors {
    400 => [errors::JSON_400, &["invalid_session", "unknown_kid", "invalid_expires_at", "sealed_card_unreadable", "invalid_sealed_card"]],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    422 => [&["invalid_card", "card_expired", "invalid_customer"]],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

crate::api_errors!(ShowErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [&["wrong_role"]],
    404 => [&["not_found"]],
    410 => [&["token_expired"]],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

/// The request id set by the middleware, for the audit log.
pub(crate) fn request_id(headers: &HeaderMap) -> String {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(128)
        .collect()
}

fn today() -> YearMonth {
    let now = time::OffsetDateTime::now_utc();
    YearMonth {
        year: u16::try_from(now.year()).unwrap_or(2000),
        month: u8::from(now.month()),
    }
}

pub(crate) fn open_error(e: OpenError) -> ApiError {
    match e {
        OpenError::Decrypt => ApiError::bad_request(
            "sealed_card_unreadable",
            "the sealed card could not be opened: wrong key id, tenant, session or a damaged envelope",
        ),
        OpenError::Payload(p) => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_card",
            format!("the card is invalid: {p}"),
        ),
        other => ApiError::bad_request("invalid_sealed_card", other.to_string()),
    }
}

/// Tokenizes a sealed card: the token's masked metadata. A CVC in the payload is held in
/// memory only, for one authorization.
#[utoipa::path(post, path = "/v1/tokens", operation_id = "createCardToken", tag = "vault",
    security(("api_key" = [])),
    request_body = CreateToken,
    responses((status = 201, description = "The token",
        body = crate::openapi::schemas::TokenMetadata,
        links(("showCardToken" = (operation_id = "showCardToken", parameters(("id" = "$response.body#/id")))))), CreateErrors))]
pub async fn create(
    State(state): State<AppState>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateToken>,
) -> Result<(StatusCode, Json<CreatedToken>), ApiError> {
    if body.session.is_empty() || body.session.len() > 128 {
        return Err(ApiError::bad_request(
            "invalid_session",
            "`session` must be 1 to 128 characters",
        ));
    }
    if body.sealed.kid != state.vault.kid {
        return Err(ApiError::bad_request(
            "unknown_kid",
            "the sealed card names a key id this vault does not have; fetch /v1/vault/public-key",
        ));
    }
    if body
        .expires_at
        .is_some_and(|e| e <= hushpay_vault::unix_now())
    {
        return Err(ApiError::bad_request(
            "invalid_expires_at",
            "`expires_at` must be in the future",
        ));
    }
    // Checked before anything is tokenized, so bad input loses nothing.
    let save = body.save.unwrap_or(false);
    let customer = match (save, body.customer.as_deref()) {
        (true, Some(c)) if hushpay_vault::payment::is_clean_reference(c) => Some(c.to_owned()),
        (false, None) => None,
        _ => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_customer",
                "`save: true` needs `customer`: 1 to 128 printable characters without a card \
                 number (and `customer` is only for `save: true`)",
            ));
        }
    };
    let binding = Binding {
        tenant: key.tenant.as_str(),
        session: &body.session,
    };
    let payload =
        sealed::open(&state.vault.hpke_secret, &body.sealed, &binding).map_err(open_error)?;
    if payload.expiry.is_expired(today()) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_expired",
            "the card has expired",
        ));
    }
    let actor = Actor {
        who: key.id.to_string(),
        request_id: request_id(&headers),
    };
    let hushpay_card::CardPayload {
        pan, expiry, cvc, ..
    } = payload;
    let meta = state
        .vault
        .vault
        .tokenize(&actor, &key.tenant, &pan, &expiry, cvc, body.expires_at)
        .await?;
    // `token.created` for the tenant's webhooks went into the outbox in the token's own
    // transaction (the vault announces every token, `VaultState::load`).
    let saved = match customer {
        Some(customer) => {
            let record = state
                .vault
                .vault
                .save_card(
                    &actor,
                    &key.tenant,
                    &meta.id,
                    &customer,
                    hushpay_vault::unix_now(),
                )
                .await?;
            Some(crate::routes::saved_cards::saved_card(&state, record).await?)
        }
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken { token: meta, saved }),
    ))
}

/// A card token's masked metadata, for the tenant's API key and its agents' and supervisors'
/// tokens (a patient's token is refused).
#[utoipa::path(get, path = "/v1/tokens/{id}", operation_id = "showCardToken", tag = "vault",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("id" = String, Path, description = "The token (`tok_...`)")),
    responses((status = 200, description = "The token",
        body = crate::openapi::schemas::TokenMetadata), ShowErrors))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TokenMetadata>, ApiError> {
    caller.require_staff()?;
    let meta = state.vault.vault.token(&caller.tenant(), &id).await?;
    Ok(Json(meta))
}
