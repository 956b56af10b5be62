//! Route table. One file per resource; handlers are thin and call domain functions.

pub(crate) mod access_tokens;
pub(crate) mod api_keys;
pub(crate) mod authentication;
pub(crate) mod card_tokens;
mod elements;
mod hosted;
pub(crate) mod ops;
pub(crate) mod payment_funds;
pub(crate) mod payments;
mod portal;
pub mod recordings;
pub mod rooms;
pub(crate) mod rtc;
pub(crate) mod saved_cards;
pub mod tenants;
pub(crate) mod vault;
pub(crate) mod webhooks;

use axum::Router;
use axum::routing::{delete, get, post};

use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(crate::metrics_access::public))
        .route("/.well-known/jwks.json", get(ops::jwks))
        .route("/v1/openapi.json", get(crate::openapi::document))
        .route("/v1/access-tokens", post(access_tokens::create))
        .route("/v1/api-keys/{id}", delete(api_keys::revoke))
        .route(
            "/v1/tenants/{tenant}",
            get(tenants::show).patch(tenants::update),
        )
        .route("/v1/rtc", get(rtc::connect))
        .route("/v1/rooms", post(rooms::create))
        .route("/v1/rooms/{id}", get(rooms::show).delete(rooms::end))
        .route(
            "/v1/rooms/{id}/recording-consent",
            post(rooms::recording_consent),
        )
        .route("/v1/recordings", get(recordings::list))
        .route("/v1/recordings/{id}", get(recordings::show))
        .route("/v1/recordings/{id}/audio", get(recordings::audio))
        .route("/v1/vault/public-key", get(vault::public_key))
        .route("/v1/tokens", post(card_tokens::create))
        .route(
            "/v1/tokens/{id}",
            get(card_tokens::show).delete(saved_cards::delete),
        )
        .route("/v1/customers/{customer}/cards", get(saved_cards::list))
        .route("/v1/payments", post(payments::create))
        .route("/v1/payments/{id}", get(payments::show))
        .route("/v1/payments/{id}/card", post(payments::submit_card))
        .route(
            "/v1/payments/{id}/authentication",
            post(authentication::complete),
        )
        .route("/sandbox/3ds.js", get(authentication::script))
        .route("/sandbox/3ds.css", get(authentication::style))
        .route(
            "/sandbox/3ds/{challenge}",
            get(authentication::challenge_page),
        )
        .route(
            "/sandbox/3ds/{challenge}/{answer}",
            post(authentication::answer),
        )
        .route("/v1/payments/{id}/capture", post(payments::capture))
        .route("/v1/payments/{id}/re-ask", post(payments::capture))
        .route("/v1/payments/{id}/cancel", post(payments::cancel))
        .route("/v1/payments/{id}/complete", post(payments::complete))
        .route(
            "/v1/payments/{id}/capture-funds",
            post(payment_funds::capture_funds),
        )
        .route("/v1/payments/{id}/void", post(payment_funds::void))
        .route(
            "/v1/payments/{id}/refunds",
            post(payment_funds::create_refund).get(payment_funds::list_refunds),
        )
        .route("/v1/webhooks", post(webhooks::create).get(webhooks::list))
        .route(
            "/v1/webhooks/{id}",
            get(webhooks::get_one).delete(webhooks::delete),
        )
        .route("/v1/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route(crate::widget::page::PAGE_PATH, get(elements::page))
        .route(crate::widget::page::SCRIPT_PATH, get(elements::script))
        .route(crate::widget::page::WASM_PATH, get(elements::wasm))
        .route("/pay/{id}", get(hosted::pay_page))
        .route(crate::pages::pay::SCRIPT_PATH, get(hosted::pay_script))
        .route(crate::pages::console::PATH, get(hosted::console_page))
        .route(
            crate::pages::console::SCRIPT_PATH,
            get(hosted::console_script),
        )
        .route("/portal", get(portal::redirect))
        .route("/portal/", get(portal::file))
        .route("/portal/session", post(portal::session))
        .route("/portal/{file}", get(portal::file))
}
