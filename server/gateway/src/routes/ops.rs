//! Operations endpoints: liveness, readiness and the JWKS (`/metrics`: `crate::metrics_access`).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;

/// Liveness: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: the store answers a round trip.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the store does not answer",
        )
    })?;
    Ok(Json(json!({ "status": "ready", "store": "ok" })))
}

/// The public keys that verify participant tokens (RFC 7517 / RFC 8037).
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.tokens.keys.jwks()),
    )
}
