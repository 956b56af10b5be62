//! The HTTP edge's error type: every failure becomes `{"error":{"code","message"}}` with the
//! right status. The full error is logged (it never contains secrets or card data); the client
//! sees a stable code and a message written for it.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to an HTTP client.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, code, message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// The answer another cluster node gave to a command it ran for this one: its status
    /// and code when the code is one of [`FORWARDED_CODES`], else a plain 502.
    pub fn forwarded(status: u16, code: &str, message: String) -> Self {
        match (
            StatusCode::from_u16(status),
            FORWARDED_CODES.iter().find(|c| **c == code),
        ) {
            (Ok(status), Some(code)) => Self::new(status, code, message),
            _ => Self::new(
                StatusCode::BAD_GATEWAY,
                "room_unreachable",
                "the room's gateway node answered unexpectedly",
            ),
        }
    }

    /// A server-side failure: logged in full, answered without detail.
    pub fn internal(context: &str, error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error",
        )
    }
}

/// The error codes a forwarded payment command may answer with (`PaymentError`'s codes).
pub const FORWARDED_CODES: &[&str] = &[
    "payment_not_found",
    "invalid_state",
    "payment_already_completed",
    "payment_busy",
    "card_rejected",
    "keypad_digits_missing",
    "not_keypad",
    "wrong_payment",
    "room_unreachable",
    "audit_unavailable",
    "store_unavailable",
    "storage_unavailable",
    "conflict",
    "not_found",
    "not_ivr",
    "payment_link_used",
    "token_expired",
    "internal",
];

impl From<hushpay_store::StoreError> for ApiError {
    fn from(e: hushpay_store::StoreError) -> Self {
        match e {
            hushpay_store::StoreError::Conflict(_) => Self::new(
                StatusCode::CONFLICT,
                "conflict",
                "the record already exists",
            ),
            other => {
                tracing::error!(error = %other, "store failure");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "store_unavailable",
                    "storage unavailable",
                )
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::warn!(
                code = self.code,
                status = self.status.as_u16(),
                "request failed"
            );
        } else {
            tracing::debug!(
                code = self.code,
                status = self.status.as_u16(),
                "request refused"
            );
        }
        let body = json!({ "error": { "code": self.code, "message": self.message } });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}
