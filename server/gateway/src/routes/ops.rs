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

/// Readiness: not draining, in the cluster (a node of one), and the store answers a round
/// trip.
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if state.sfu.draining() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "draining",
            "this gateway is shutting down: its calls run to their end, new ones go elsewhere",
        ));
    }
    if let Some(cluster) = state.sfu.cluster()
        && !cluster.healthy()
    {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "cluster_unavailable",
            "this node lost the cluster's bus or store",
        ));
    }
    state.store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness check failed");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the store does not answer",
        )
    })?;
    let node = state.sfu.cluster().map(|c| c.node_id().to_owned());
    Ok(Json(
        json!({ "status": "ready", "store": "ok", "node": node }),
    ))
}

/// The public keys that verify participant tokens (RFC 7517 / RFC 8037).
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.tokens.keys.jwks()),
    )
}
