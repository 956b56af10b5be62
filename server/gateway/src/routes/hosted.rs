//! The hosted pages on the gateway's public origin (never on the widget origin, which serves
//! the card iframe alone): `GET /pay/{id}` (pay-by-link), `GET /console` (agent console) and
//! their pinned scripts. See [`crate::pages`].

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::ApiError;
use crate::pages::{PageAssets, console, pay};
use crate::payments::PaymentError;
use hushpay_vault::payment::Method;

fn pages(
    state: &AppState,
    headers: &HeaderMap,
    needs: &[&str],
) -> Result<std::sync::Arc<PageAssets>, ApiError> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if state.widget.serves_host(host) {
        return Err(ApiError::not_found(
            "the widget origin serves the card iframe only",
        ));
    }
    state
        .widget
        .pages
        .clone()
        .filter(|p| p.has(needs))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "pages_not_built",
                "the hosted pages are not built on this gateway (npm run build)",
            )
        })
}

fn html(status: StatusCode, body: String, csp: &str) -> Response {
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        body,
    )
        .into_response();
    let h = r.headers_mut();
    set(h, header::CONTENT_SECURITY_POLICY, csp);
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    r
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    // Values are ASCII built from validated parts; skip (never panic) otherwise.
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}

/// `GET /pay/{id}`: the page for an open link; 410 for a used, cancelled or expired one.
pub async fn pay_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let assets = match pages(&state, &headers, &[pay::SCRIPT, pay::STYLE]) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let gone = |status, reason: &str| {
        html(
            status,
            pay::render_gone(&assets, reason),
            &pay::gone_policy(&assets),
        )
    };
    let loaded = match state.payments.load(&id).await {
        Ok(l) if l.payment.method == Method::Link => l,
        Ok(_) | Err(PaymentError::NotFound) => {
            return gone(StatusCode::NOT_FOUND, "There is no such payment link.");
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(reason) = pay::gone_reason(&loaded.payment) {
        return gone(StatusCode::GONE, reason);
    }
    let widget = state.widget.origin.as_deref().unwrap_or_default();
    html(
        StatusCode::OK,
        pay::render(&assets, &loaded.payment, widget),
        &pay::content_security_policy(&assets, widget),
    )
}

/// `GET /console`.
pub async fn console_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let assets = match pages(&state, &headers, &[console::SCRIPT, console::STYLE]) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let widget = state.widget.origin.as_deref().unwrap_or_default();
    html(
        StatusCode::OK,
        console::render(&assets, widget),
        &console::content_security_policy(&assets, &state.widget.public_origin),
    )
}

fn script(state: &AppState, headers: &HeaderMap, name: &str) -> Response {
    let assets = match pages(state, headers, &[name]) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let Some(asset) = assets.get(name) else {
        return ApiError::not_found("no such asset").into_response();
    };
    let mut r = (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        asset.bytes.clone(),
    )
        .into_response();
    let h = r.headers_mut();
    set(h, header::CACHE_CONTROL, "no-cache");
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    r
}

pub async fn pay_script(State(state): State<AppState>, headers: HeaderMap) -> Response {
    script(&state, &headers, pay::SCRIPT)
}

pub async fn console_script(State(state): State<AppState>, headers: HeaderMap) -> Response {
    script(&state, &headers, console::SCRIPT)
}
