//! 3-D Secure over HTTP ([`crate::payments::authentication`]).
//!
//! * `POST /v1/payments/{id}/authentication` (`Bearer pcs_...`, no body): the cardholder
//!   answered the issuer's challenge; the connector resumes the authorization and the payment
//!   ends `succeeded` (`authorized`) or `failed`. `409 authentication_pending` while they have
//!   not answered (nothing changes), `409 not_authenticating` for a payment not waiting.
//! * `GET /sandbox/3ds/{challenge}`: the sandbox issuer's challenge page ("Complete" and
//!   "Fail"); `POST /sandbox/3ds/{challenge}/complete|fail` records the answer, once. Served
//!   only while the connector is the sandbox; the page holds no card data, carries a strict
//!   CSP, may be framed only by the card iframe in the payment's tenant's pages, and tells its parent (the card
//!   iframe, same origin) that it is done with `postMessage`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hushpay_store::TenantId;
use hushpay_vault::Actor;
use hushpay_vault::connector::{IssuerAnswer, IssuerError};

use crate::app::AppState;
use crate::error::ApiError;
use crate::openapi::errors;
use crate::routes::card_tokens::request_id;
use crate::routes::payments::{PAYMENT_503, PaymentBody, PaymentCredential, client_body};

crate::api_errors!(AuthenticationErrors {
    401 => [&["invalid_client_secret"], errors::BEARER_401, errors::API_KEY_401, errors::JWT_401],
    404 => [&["payment_not_found"]],
    409 => [&["not_authenticating", "authentication_pending", "payment_busy", "invalid_state"]],
    503 => [PAYMENT_503],
});

/// The cardholder answered the 3-D Secure challenge: resume the authorization.
#[utoipa::path(post, path = "/v1/payments/{id}/authentication", operation_id = "completeAuthentication", tag = "payments",
    security(("client_secret" = [])),
    params(("id" = String, Path, description = "The payment (`pay_...`)")),
    responses((status = 200, description = "The payment, finished", body = PaymentBody),
        AuthenticationErrors))]
pub async fn complete(
    State(state): State<AppState>,
    credential: PaymentCredential,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let PaymentCredential::ClientSecret(secret) = credential else {
        return Err(ApiError::unauthorized(
            "invalid_client_secret",
            "this endpoint takes the payment's client secret (`Bearer pcs_...`)",
        ));
    };
    let payments = &state.payments;
    let loaded = payments.authenticate_client(&id, &secret).await?;
    let actor = Actor {
        who: format!("client:{id}"),
        request_id: request_id(&headers),
    };
    let done = payments.complete_authentication(&actor, loaded).await?;
    Ok(client_body(payments, &done))
}

/// The page's CSP: framed only by the card iframe (the gateway's origin) inside a page of the
/// payment's tenant (`frame-ancestors` applies to every ancestor).
fn page_csp(ancestors: &[String]) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; form-action 'self'; \
         base-uri 'none'; frame-ancestors 'self' {}",
        ancestors.join(" ")
    )
}

async fn ancestors(state: &AppState, challenge: &str) -> Option<Vec<String>> {
    let tenant = state.payments.tenant_of_challenge(challenge).await?;
    let record = state
        .store
        .tenant(&TenantId::new(tenant))
        .await
        .ok()
        .flatten()?;
    Some(state.widget.allowed_parents(&record.allowed_origins))
}

fn html(status: StatusCode, body: String) -> Response {
    html_framed(status, body, &[])
}

fn html_framed(status: StatusCode, body: String, ancestors: &[String]) -> Response {
    let mut r = (status, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(csp) = HeaderValue::from_str(&page_csp(ancestors)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    } else {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        );
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    r
}

fn valid_id(challenge: &str) -> bool {
    challenge.len() == 28
        && challenge.starts_with("3ds_")
        && challenge[4..].bytes().all(|b| b.is_ascii_alphanumeric())
}

fn not_found() -> Response {
    html(
        StatusCode::NOT_FOUND,
        page(
            "No such challenge",
            "<p>This challenge does not exist or has ended.</p>",
        ),
    )
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/sandbox/3ds.css\">\
         <script src=\"/sandbox/3ds.js\" defer></script></head>\
         <body><main><h1>{title}</h1>{body}</main></body></html>"
    )
}

/// The sandbox issuer's challenge page.
pub async fn challenge_page(
    State(state): State<AppState>,
    Path(challenge): Path<String>,
) -> Response {
    let Some(issuer) = state.payments.connector().sandbox_issuer() else {
        return not_found();
    };
    if !valid_id(&challenge) || !issuer.is_waiting(&challenge) {
        return not_found();
    }
    let Some(ancestors) = ancestors(&state, &challenge).await else {
        return not_found();
    };
    let body = format!(
        "<p>Sandbox bank: confirm this payment.</p>\
         <form method=\"post\" action=\"/sandbox/3ds/{challenge}/complete\">\
         <button id=\"complete\" type=\"submit\">Complete</button></form>\
         <form method=\"post\" action=\"/sandbox/3ds/{challenge}/fail\">\
         <button id=\"fail\" type=\"submit\">Fail</button></form>"
    );
    html_framed(
        StatusCode::OK,
        page("Sandbox 3-D Secure", &body),
        &ancestors,
    )
}

/// The cardholder's answer on the sandbox challenge page.
pub async fn answer(
    State(state): State<AppState>,
    Path((challenge, answer)): Path<(String, String)>,
) -> Response {
    let Some(issuer) = state.payments.connector().sandbox_issuer() else {
        return not_found();
    };
    let answer = match answer.as_str() {
        "complete" => IssuerAnswer::Completed,
        "fail" => IssuerAnswer::Failed,
        _ => return not_found(),
    };
    if !valid_id(&challenge) {
        return not_found();
    }
    let Some(ancestors) = ancestors(&state, &challenge).await else {
        return not_found();
    };
    match issuer.answer(&challenge, answer) {
        Ok(()) => html_framed(
            StatusCode::OK,
            page(
                "Done",
                "<p id=\"done\" data-hushpay-3ds=\"done\">You can return to the payment.</p>",
            ),
            &ancestors,
        ),
        Err(IssuerError::UnknownChallenge) => not_found(),
        Err(IssuerError::AlreadyAnswered) => html_framed(
            StatusCode::CONFLICT,
            page(
                "Already answered",
                "<p>This challenge was already answered.</p>",
            ),
            &ancestors,
        ),
    }
}

/// Tells the card iframe (the parent, same origin) that the challenge is answered.
const SCRIPT: &str = "if(document.querySelector('[data-hushpay-3ds=done]')&&parent!==window)\
{parent.postMessage({hushpay3ds:'done'},location.origin);}";

const STYLE: &str = "body{font:16px system-ui,sans-serif;margin:1rem}\
button{font:inherit;padding:.5rem 1rem;margin:.25rem 0}form{display:inline-block;margin-right:.5rem}";

pub async fn script() -> Response {
    let mut r = SCRIPT.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/javascript; charset=utf-8"),
    );
    r
}

pub async fn style() -> Response {
    let mut r = STYLE.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/css; charset=utf-8"),
    );
    r
}
