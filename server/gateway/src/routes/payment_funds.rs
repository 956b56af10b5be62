//! The funds of a payment over HTTP (issue 17, point 2), for the tenant's backend only (API
//! key; an agent's or supervisor's token is `403 wrong_role`):
//!
//! * `POST /v1/payments/{id}/capture-funds` `{"amount": n}` (absent: the whole
//!   authorization): an `authorized` payment becomes `captured`, once;
//! * `POST /v1/payments/{id}/void`: an `authorized` payment becomes `voided`;
//! * `POST /v1/payments/{id}/refunds` `{"amount": n, "reason": "..."}` with an
//!   `Idempotency-Key` (as `POST /v1/payments`): a `re_...` refund of a captured payment or a
//!   charge that succeeded, never above what was captured;
//! * `GET /v1/payments/{id}/refunds`: the payment's refunds, oldest first.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hushpay_vault::payment::RefundRequest;
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::payments::{
    PAYMENT_409, PAYMENT_503, PaymentBody, actor, idempotency_key, load_for, payment_body,
};
use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, Caller};
use crate::openapi::{errors, schemas};
use crate::payments::{Loaded, PaymentError};

/// The body of `capture-funds`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaptureFunds {
    /// Minor units, 1 up to the authorized amount; absent: the whole authorization.
    #[schema(minimum = 1, maximum = 100_000_000_000_u64)]
    pub amount: Option<u64>,
}

/// The body of `POST /v1/payments/{id}/refunds`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRefund {
    /// Minor units, in the payment's currency. With the payment's other refunds that are not
    /// `failed`, at most the captured (or charged) amount.
    #[schema(minimum = 1, maximum = 100_000_000_000_u64)]
    pub amount: u64,
    /// The tenant's note: 1-128 printable characters, no card number.
    #[schema(min_length = 1, max_length = 128)]
    pub reason: Option<String>,
}

/// A refund.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RefundBody {
    pub refund: schemas::Refund,
}

/// A payment's refunds.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct RefundList {
    pub refunds: Vec<schemas::Refund>,
}

const FUNDS_403: &[&str] = &["wrong_role"];

crate::api_errors!(CaptureErrors {
    400 => [errors::JSON_400],
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    402 => [&["capture_declined"]],
    403 => [FUNDS_403],
    404 => [&["payment_not_found"]],
    409 => [PAYMENT_409],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    422 => [&["invalid_amount"]],
    503 => [PAYMENT_503],
});

crate::api_errors!(VoidErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    402 => [&["void_declined"]],
    403 => [FUNDS_403],
    404 => [&["payment_not_found"]],
    409 => [PAYMENT_409],
    503 => [PAYMENT_503],
});

crate::api_errors!(RefundErrors {
    400 => [errors::JSON_400, &["idempotency_key_required", "invalid_idempotency_key"]],
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [FUNDS_403],
    404 => [&["payment_not_found"]],
    409 => [PAYMENT_409, &["refund_exceeds_captured"]],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    422 => [&["invalid_amount", "invalid_reason", "idempotency_key_reused"]],
    503 => [PAYMENT_503],
});

crate::api_errors!(RefundListErrors {
    401 => [errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    403 => [FUNDS_403],
    404 => [&["payment_not_found"]],
    503 => [errors::STORE_503],
});

/// Refuses every credential but the tenant's API key (before anything else is looked at).
fn backend_only(caller: &Caller) -> Result<(), ApiError> {
    match caller {
        Caller::ApiKey(_) => Ok(()),
        Caller::Participant(_) => Err(PaymentError::BackendOnly.into()),
    }
}

/// The payment, for the tenant's backend only.
async fn backend_load(state: &AppState, caller: &Caller, id: &str) -> Result<Loaded, ApiError> {
    backend_only(caller)?;
    load_for(state, caller, id).await
}

/// Captures an `authorized` payment's funds (all, or `amount` of them), once. A refusal by
/// the connector is `402 capture_declined` and leaves the payment `authorized`.
#[utoipa::path(post, path = "/v1/payments/{id}/capture-funds", operation_id = "capturePaymentFunds", tag = "payments",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    request_body = CaptureFunds,
    responses((status = 200, description = "The payment, `captured`", body = PaymentBody), CaptureErrors))]
pub async fn capture_funds(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CaptureFunds>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let loaded = backend_load(&state, &caller, &id).await?;
    let done = state
        .payments
        .capture_funds(&actor(&caller, &headers), &loaded, body.amount)
        .await?;
    Ok(payment_body(&done.payment))
}

/// Releases an `authorized` payment's authorization. A refusal by the connector is
/// `402 void_declined` and leaves the payment `authorized`.
#[utoipa::path(post, path = "/v1/payments/{id}/void", operation_id = "voidPayment", tag = "payments",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    responses((status = 200, description = "The payment, `voided`", body = PaymentBody), VoidErrors))]
pub async fn void(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let loaded = backend_load(&state, &caller, &id).await?;
    let done = state
        .payments
        .void(&actor(&caller, &headers), &loaded)
        .await?;
    Ok(payment_body(&done.payment))
}

/// Refunds part or all of a captured payment or a charge that succeeded (`Idempotency-Key`
/// required: a retry with the same key and body answers 200 with `idempotent-replayed:
/// true`). The refund is `succeeded` or, when the connector refused it, `failed`.
#[utoipa::path(post, path = "/v1/payments/{id}/refunds", operation_id = "createRefund", tag = "payments",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)"),
        ("Idempotency-Key" = String, Header, description = "1 to 255 printable ASCII characters",
        pattern = "^[!-~]{1,255}$")),
    request_body = CreateRefund,
    responses(
        (status = 201, description = "The refund", body = RefundBody),
        (status = 200, description = "A replay of the same request", body = RefundBody,
            headers(("idempotent-replayed" = String, description = "`true`"))),
        RefundErrors))]
pub async fn create_refund(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<CreateRefund>,
) -> Result<Response, ApiError> {
    backend_only(&caller)?;
    let key = idempotency_key(&headers)?;
    let loaded = backend_load(&state, &caller, &id).await?;
    let request = RefundRequest {
        amount: body.amount,
        reason: body.reason,
    };
    let created = state
        .payments
        .refund(&actor(&caller, &headers), &loaded, request, &key)
        .await?;
    let status = if created.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    let mut response = (status, Json(json!({ "refund": created.refund }))).into_response();
    if created.replayed {
        response
            .headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

/// The payment's refunds, oldest first.
#[utoipa::path(get, path = "/v1/payments/{id}/refunds", operation_id = "listRefunds", tag = "payments",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    responses((status = 200, description = "The refunds", body = RefundList), RefundListErrors))]
pub async fn list_refunds(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let loaded = backend_load(&state, &caller, &id).await?;
    let refunds = state.payments.refunds_of(&loaded.payment).await?;
    Ok(Json(json!({ "refunds": refunds })))
}
