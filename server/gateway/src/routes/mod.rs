//! Route table. One file per resource; handlers are thin and call domain functions.

mod access_tokens;
mod ops;
mod tenants;

use axum::Router;
use axum::routing::{get, post};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/v1/access-tokens", post(access_tokens::create))
        .route("/v1/tenants/{tenant}", get(tenants::show))
}
