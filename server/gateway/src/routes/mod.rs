//! Route table. One file per resource; handlers are thin and call domain functions.

mod access_tokens;
mod card_tokens;
mod ops;
mod rooms;
mod rtc;
mod tenants;
mod vault;

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
        .route("/v1/rtc", get(rtc::connect))
        .route("/v1/rooms", post(rooms::create))
        .route("/v1/rooms/{id}", get(rooms::show).delete(rooms::end))
        .route("/v1/vault/public-key", get(vault::public_key))
        .route("/v1/tokens", post(card_tokens::create))
        .route("/v1/tokens/{id}", get(card_tokens::show))
}
