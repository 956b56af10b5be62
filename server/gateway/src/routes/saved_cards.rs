//! Saved cards (issue 17): tokens the patient agreed to have charged again, bound to the
//! tenant and the tenant's customer reference. Tenant API key only.
//!
//! * `POST /v1/tokens` with `"save": true, "customer": "..."` tokenizes and saves at once
//!   (see `card_tokens::create`).
//! * `DELETE /v1/tokens/{id}`: deletes a saved card (audited `token.delete`); later charges are
//!   refused (`410 token_deleted`). A one-time token is `422 token_not_saved`.
//! * `GET /v1/customers/{customer}/cards`: the customer's saved cards that are not deleted,
//!   oldest consent first, with masked metadata only.
//!
//! No response carries a PAN or CVC; the CVC is never stored for a saved card.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use hushpay_store::SavedCardRecord;
use hushpay_vault::Actor;
use serde::Serialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::TenantKey;
use crate::openapi::errors;
use crate::routes::card_tokens::request_id;

/// A saved card: the token, whose customer it is and when the patient consented (masked card
/// metadata only).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SavedCard {
    /// The token (`tok_...`).
    pub token: String,
    /// The tenant's customer reference.
    pub customer: String,
    /// When the patient's consent was recorded (unix seconds).
    pub consented_at: i64,
    /// When the saved card was deleted (unix seconds); absent while it may be charged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<i64>,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

/// The customer's saved cards.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SavedCardList {
    pub data: Vec<SavedCard>,
}

crate::api_errors!(DeleteErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["not_found"]],
    410 => [&["token_deleted"]],
    422 => [&["token_not_saved"]],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

crate::api_errors!(ListErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401],
    422 => [&["invalid_customer"]],
    503 => [errors::STORE_503],
});

pub(crate) async fn saved_card(
    state: &AppState,
    record: SavedCardRecord,
) -> Result<SavedCard, ApiError> {
    let meta = state
        .vault
        .vault
        .token(&record.tenant, &record.token)
        .await?;
    Ok(SavedCard {
        token: record.token,
        customer: record.customer,
        consented_at: record.consented_at,
        deleted_at: record.deleted_at,
        brand: meta.brand,
        last4: meta.last4,
        exp_month: meta.exp_month,
        exp_year: meta.exp_year,
    })
}

/// Deletes a saved card: it is never charged again.
#[utoipa::path(delete, path = "/v1/tokens/{id}", operation_id = "deleteSavedCard", tag = "vault",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The saved card's token (`tok_...`)")),
    responses((status = 200, description = "The deleted saved card", body = SavedCard), DeleteErrors))]
pub async fn delete(
    State(state): State<AppState>,
    TenantKey(key): TenantKey,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<SavedCard>, ApiError> {
    let actor = Actor {
        who: key.id.to_string(),
        request_id: request_id(&headers),
    };
    let record = state
        .vault
        .vault
        .delete_saved_card(&actor, &key.tenant, &id)
        .await?;
    Ok(Json(saved_card(&state, record).await?))
}

/// The customer's saved cards that are not deleted, oldest consent first.
#[utoipa::path(get, path = "/v1/customers/{customer}/cards", operation_id = "listSavedCards",
    tag = "vault", security(("api_key" = [])),
    params(("customer" = String, Path, description = "The tenant's customer reference")),
    responses((status = 200, description = "The saved cards", body = SavedCardList), ListErrors))]
pub async fn list(
    State(state): State<AppState>,
    TenantKey(key): TenantKey,
    Path(customer): Path<String>,
) -> Result<Json<SavedCardList>, ApiError> {
    let records = state
        .vault
        .vault
        .saved_cards(&key.tenant, &customer)
        .await?;
    let mut data = Vec::with_capacity(records.len());
    for r in records {
        data.push(saved_card(&state, r).await?);
    }
    Ok(Json(SavedCardList { data }))
}
