//! Operations endpoints: liveness, readiness and the JWKS (`/metrics`: `crate::metrics_access`).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;

/// The process answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`
    pub status: String,
}

/// The gateway is ready for traffic.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ready {
    /// `ready`
    pub status: String,
    /// `ok`
    pub store: String,
    /// This node's id in a cluster; null on a single node.
    pub node: Option<String>,
}

/// The JSON Web Key Set (RFC 7517) of the token signing keys.
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    /// One JWK per key (Ed25519 `OKP` keys, RFC 8037), with its `kid`.
    pub keys: Vec<serde_json::Value>,
}

crate::api_errors!(HealthErrors {});
crate::api_errors!(ReadyErrors {
    503 => [&["draining", "cluster_unavailable", "not_ready"]],
});

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", operation_id = "healthz", tag = "operations",
    responses((status = 200, description = "Alive", body = Health), HealthErrors))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok".to_owned(),
    })
}

/// Readiness: not draining, in the cluster (a node of one), and the store answers a round
/// trip.
#[utoipa::path(get, path = "/readyz", operation_id = "readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = Ready), ReadyErrors))]
pub async fn readyz(State(state): State<AppState>) -> Result<Json<Ready>, ApiError> {
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
    Ok(Json(Ready {
        status: "ready".to_owned(),
        store: "ok".to_owned(),
        node,
    }))
}

/// The public keys that verify participant tokens (RFC 7517 / RFC 8037).
#[utoipa::path(get, path = "/.well-known/jwks.json", operation_id = "jwks", tag = "operations",
    responses((status = 200, description = "The key set", body = Jwks), HealthErrors))]
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(state.tokens.keys.jwks()),
    )
}
