//! What a payment operation can fail with, and how each failure looks over HTTP.

use axum::http::StatusCode;
use hushpay_vault::VaultError;
use hushpay_vault::payment::{CaptureAmountError, RequestError, TransitionError};

use crate::error::ApiError;

/// Payment service errors. Messages carry no card data.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PaymentError {
    #[error("no such payment")]
    NotFound,
    #[error("the client secret is not valid for this payment")]
    BadClientSecret,
    #[error("the credential may not act on this payment")]
    Forbidden,
    #[error(transparent)]
    Request(#[from] RequestError),
    #[error("the Idempotency-Key was used with a different request")]
    IdempotencyMismatch,
    #[error(transparent)]
    Transition(#[from] TransitionError),
    #[error("the payment is already completed")]
    AlreadyCompleted,
    #[error("the payment link was already used or has expired")]
    LinkUsed,
    #[error("the payment changed concurrently; retry")]
    Concurrent,
    #[error("the card was refused: {0}")]
    CardRejected(&'static str),
    #[error("the keyed digits are not held for this payment")]
    KeypadDigitsMissing,
    #[error("this command needs a keypad payment")]
    NotKeypad,
    #[error("the IVR runs ivr payments only")]
    NotIvr,
    /// 3-D Secure: the cardholder has not answered the issuer's challenge yet.
    #[error("the cardholder has not finished the 3-D Secure challenge yet")]
    AuthenticationPending,
    /// A completion for a payment that is not waiting for a 3-D Secure challenge.
    #[error("the payment is not waiting for 3-D Secure authentication")]
    NotAuthenticating,
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Store(#[from] hushpay_store::StoreError),
    #[error("payment document: {0}")]
    Document(String),
    /// A capture amount of 0 or above the authorized amount.
    #[error(transparent)]
    CaptureAmount(#[from] CaptureAmountError),
    /// The connector refused a capture or a void (the payment is `authorized` again).
    #[error("the connector refused the {operation}: {reason}")]
    OperationDeclined {
        operation: &'static str,
        reason: &'static str,
    },
    /// The payment cannot be refunded: nothing was charged or captured.
    #[error(
        "only a captured payment, or a charge that succeeded, can be refunded (this one is `{0}`)"
    )]
    NotRefundable(&'static str),
    /// The refund would take the payment's refunds above what was captured.
    #[error(
        "refunds may add up to {refundable} at most; {refunded} is already refunded or pending"
    )]
    RefundExceeds { refundable: u64, refunded: u64 },
    #[error("no such refund")]
    RefundNotFound,
    /// Capture, void and refunds are the tenant backend's (API key), never an agent's.
    #[error("capture, void and refunds take the tenant's API key")]
    BackendOnly,
    /// (Cluster) the node holding the payment's room did not confirm that it closed the
    /// room's recording window: nothing was created.
    #[error("the room's gateway node cannot be reached; nothing was created, try again")]
    RoomUnreachable(String),
}

impl From<PaymentError> for ApiError {
    fn from(e: PaymentError) -> Self {
        let msg = e.to_string();
        match e {
            PaymentError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "payment_not_found", msg)
            }
            PaymentError::BadClientSecret => ApiError::unauthorized("invalid_client_secret", msg),
            PaymentError::Forbidden => ApiError::forbidden("wrong_payment", msg),
            PaymentError::Request(r) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, r.code(), r.to_string())
            }
            PaymentError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                msg,
            ),
            PaymentError::Transition(t) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", t.to_string())
            }
            PaymentError::AlreadyCompleted => {
                ApiError::new(StatusCode::CONFLICT, "payment_already_completed", msg)
            }
            PaymentError::LinkUsed => ApiError::new(StatusCode::GONE, "payment_link_used", msg),
            PaymentError::Concurrent => ApiError::new(StatusCode::CONFLICT, "payment_busy", msg),
            PaymentError::CardRejected(code) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "card_rejected",
                format!("the card was refused: {code}"),
            ),
            PaymentError::KeypadDigitsMissing => {
                ApiError::new(StatusCode::CONFLICT, "keypad_digits_missing", msg)
            }
            PaymentError::NotKeypad => ApiError::new(StatusCode::CONFLICT, "not_keypad", msg),
            PaymentError::RoomUnreachable(why) => {
                tracing::warn!(reason = %why, "payment refused: room unreachable");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "room_unreachable", msg)
            }
            PaymentError::NotIvr => ApiError::new(StatusCode::CONFLICT, "not_ivr", msg),
            PaymentError::AuthenticationPending => {
                ApiError::new(StatusCode::CONFLICT, "authentication_pending", msg)
            }
            PaymentError::NotAuthenticating => {
                ApiError::new(StatusCode::CONFLICT, "not_authenticating", msg)
            }
            PaymentError::CaptureAmount(_) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_amount", msg)
            }
            PaymentError::OperationDeclined { operation, .. } => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                if operation == "capture" {
                    "capture_declined"
                } else {
                    "void_declined"
                },
                msg,
            ),
            PaymentError::NotRefundable(_) => {
                ApiError::new(StatusCode::CONFLICT, "invalid_state", msg)
            }
            PaymentError::RefundExceeds { .. } => {
                ApiError::new(StatusCode::CONFLICT, "refund_exceeds_captured", msg)
            }
            PaymentError::RefundNotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "refund_not_found", msg)
            }
            PaymentError::BackendOnly => ApiError::forbidden("wrong_role", msg),
            PaymentError::Vault(v) => ApiError::from(v),
            PaymentError::Store(s) => ApiError::from(s),
            PaymentError::Document(_) => ApiError::internal("payment document", &msg),
        }
    }
}
