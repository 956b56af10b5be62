//! The OpenAPI 3.1 document of the HTTP API, generated from the handlers' `#[utoipa::path]`
//! annotations and the request and response types' `ToSchema` derives. Served at
//! `GET /v1/openapi.json`, printed by `hushpay openapi`, and checked in as
//! `docs/openapi.json`: a unit test fails when the two differ (regenerate with
//! `cargo run -p hushpay -- openapi > docs/openapi.json`, or run the test with
//! `HUSHPAY_UPDATE_OPENAPI=1`). scripts/check-openapi.sh tests a live gateway against it.
//!
//! Covered: the JSON API under `/v1`, the operations endpoints (`/healthz`, `/readyz`,
//! `/metrics`, `/.well-known/jwks.json`) and the signalling WebSocket's upgrade. Not covered:
//! the HTML pages and their assets (`/elements/v1/...`, `/pay/{id}`, `/console`, `/portal/...`),
//! which browsers load, not API clients (README, "HTTP API").

pub mod errors;
pub mod schemas;

use axum::response::IntoResponse;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hushpay gateway",
        description = "The HTTP API of the Hushpay payment-capture gateway. Every error is \
            `{\"error\":{\"code\",\"message\"}}`, each operation lists the codes it may answer, \
            and every response carries an `x-request-id`. An unknown route answers 404 \
            `not_found`, a known route with another method 405 `method_not_allowed`.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    paths(
        routes::ops::healthz,
        routes::ops::readyz,
        routes::ops::jwks,
        crate::metrics_access::public,
        document,
        routes::access_tokens::create,
        routes::api_keys::revoke,
        routes::tenants::show,
        routes::tenants::update,
        routes::rtc::connect,
        routes::rooms::create,
        routes::rooms::show,
        routes::rooms::end,
        routes::rooms::recording_consent,
        routes::recordings::list,
        routes::recordings::show,
        routes::recordings::audio,
        routes::vault::public_key,
        routes::card_tokens::create,
        routes::card_tokens::show,
        routes::saved_cards::delete,
        routes::saved_cards::list,
        routes::payments::create,
        routes::payments::show,
        routes::payments::submit_card,
        routes::authentication::complete,
        routes::payments::capture,
        routes::payments::re_ask,
        routes::payments::cancel,
        routes::payments::complete,
        routes::payment_funds::capture_funds,
        routes::payment_funds::void,
        routes::payment_funds::create_refund,
        routes::payment_funds::list_refunds,
        routes::webhooks::create,
        routes::webhooks::list,
        routes::webhooks::get_one,
        routes::webhooks::delete,
        routes::webhooks::deliveries,
    ),
    components(schemas(routes::recordings::AudioFormat, routes::recordings::Tracks)),
    modifiers(&Credentials),
)]
#[derive(Debug)]
pub struct ApiDoc;

/// The credentials operations name in `security`.
#[derive(Debug)]
struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |format: &str, description: &str| {
            let mut http = Http::new(HttpAuthScheme::Bearer);
            http.bearer_format = Some(format.to_owned());
            http.description = Some(description.to_owned());
            SecurityScheme::Http(http)
        };
        components.add_security_scheme(
            "api_key",
            bearer(
                "hpk_...",
                "A tenant API key (`hushpay apikey create`), shown once at creation.",
            ),
        );
        components.add_security_scheme(
            "participant_jwt",
            bearer(
                "JWT",
                "A participant access token (`POST /v1/access-tokens`).",
            ),
        );
        components.add_security_scheme(
            "client_secret",
            bearer(
                "pcs_...",
                "A payment's client secret: the patient's page for a card-form or link payment.",
            ),
        );
        components.add_security_scheme(
            "metrics_token",
            bearer(
                "opaque",
                "The operator's metrics token (`server.metrics_token_file`).",
            ),
        );
    }
}

/// The document as pretty JSON with a final newline: what `GET /v1/openapi.json` answers,
/// `hushpay openapi` prints and `docs/openapi.json` holds.
pub fn json() -> String {
    let doc = ApiDoc::openapi();
    // Serializing the document's own types cannot fail (string keys, no non-finite floats).
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

crate::api_errors!(DocumentErrors {});

/// This document (OpenAPI 3.1).
#[utoipa::path(get, path = "/v1/openapi.json", operation_id = "openapi", tag = "operations",
    responses((status = 200, description = "The OpenAPI document", body = Object,
        content_type = "application/json"), DocumentErrors))]
pub async fn document() -> impl IntoResponse {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    /// docs/openapi.json is the generated document; `HUSHPAY_UPDATE_OPENAPI=1` rewrites it.
    #[test]
    fn the_checked_in_document_is_the_generated_one() {
        let generated = json();
        if std::env::var_os("HUSHPAY_UPDATE_OPENAPI").is_some() {
            std::fs::write(CHECKED_IN, &generated).unwrap();
        }
        let checked_in = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
        assert!(
            checked_in == generated,
            "docs/openapi.json differs from the document the handlers generate; regenerate it \
             with `cargo run -p hushpay -- openapi > docs/openapi.json` (or run this test with \
             HUSHPAY_UPDATE_OPENAPI=1) and review the diff"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_and_documents_every_api_route() {
        let doc: serde_json::Value = serde_json::from_str(&json()).unwrap();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        for path in [
            "/v1/access-tokens",
            "/v1/api-keys/{id}",
            "/v1/tenants/{tenant}",
            "/v1/rtc",
            "/v1/rooms",
            "/v1/rooms/{id}",
            "/v1/rooms/{id}/recording-consent",
            "/v1/recordings",
            "/v1/recordings/{id}",
            "/v1/recordings/{id}/audio",
            "/v1/vault/public-key",
            "/v1/tokens",
            "/v1/tokens/{id}",
            "/v1/payments",
            "/v1/payments/{id}",
            "/v1/payments/{id}/card",
            "/v1/payments/{id}/capture",
            "/v1/payments/{id}/re-ask",
            "/v1/payments/{id}/cancel",
            "/v1/payments/{id}/complete",
            "/v1/payments/{id}/capture-funds",
            "/v1/payments/{id}/void",
            "/v1/payments/{id}/refunds",
            "/v1/webhooks",
            "/v1/webhooks/{id}",
            "/v1/webhooks/{id}/deliveries",
            "/v1/openapi.json",
        ] {
            assert!(paths.contains_key(path), "{path} is not documented");
        }
    }

    #[test]
    fn every_error_response_names_its_codes() {
        let doc: serde_json::Value = serde_json::from_str(&json()).unwrap();
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                for (status, response) in op["responses"].as_object().unwrap() {
                    if status.starts_with('4') || status.starts_with('5') {
                        let codes = &response["content"]["application/json"]["schema"]["properties"]
                            ["error"]["properties"]["code"]["enum"];
                        assert!(
                            codes.as_array().is_some_and(|c| !c.is_empty()),
                            "{method} {path} {status}: no error codes"
                        );
                    }
                }
            }
        }
    }
}
