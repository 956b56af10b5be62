//! The hosted pages on the gateway's public origin (never on the widget origin, which serves
//! the card iframe alone): `GET /pay/{id}` (pay-by-link), `GET /console` (agent console) and
//! their pinned scripts. See [`crate::pages`]. `GET /console?tenant=` is the console for the
//! tenant's agent desktops to embed ([`crate::pages::console`]).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::app::AppState;
use crate::error::ApiError;
use crate::pages::{PageAssets, console, pay};
use crate::payments::PaymentError;
use hushpay_store::{Tenant, TenantId};
use hushpay_vault::payment::Method;
use serde::Deserialize;

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
    let mut r = framable_html(status, body, csp);
    set(r.headers_mut(), header::X_FRAME_OPTIONS, "DENY");
    r
}

/// [`html`] without `X-Frame-Options`: the CSP's `frame-ancestors` alone says who may frame.
fn framable_html(status: StatusCode, body: String, csp: &str) -> Response {
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
    let gone = |status, reason: &str, lang: &str| {
        html(
            status,
            pay::render_gone(&assets, reason, lang),
            &pay::gone_policy(&assets),
        )
    };
    let loaded = match state.payments.load(&id).await {
        Ok(l) if l.payment.method == Method::Link => l,
        Ok(_) | Err(PaymentError::NotFound) => {
            return gone(
                StatusCode::NOT_FOUND,
                "There is no such payment link.",
                "en",
            );
        }
        Err(e) => return ApiError::from(e).into_response(),
    };
    if let Some(reason) = pay::gone_reason(&loaded.payment) {
        return gone(StatusCode::GONE, reason, &loaded.payment.locale);
    }
    let widget = state.widget.origin.as_deref().unwrap_or_default();
    html(
        StatusCode::OK,
        pay::render(&assets, &loaded.payment, widget),
        &pay::content_security_policy(&assets, widget),
    )
}

/// `GET /console[?tenant=ten_...]`.
#[derive(Debug, Deserialize)]
pub struct ConsoleQuery {
    pub tenant: Option<String>,
}

/// Refusals of `/console?tenant=` are JSON errors that nobody may frame.
const REFUSED_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

fn refused(e: ApiError) -> Response {
    let mut r = e.into_response();
    let h = r.headers_mut();
    set(h, header::CONTENT_SECURITY_POLICY, REFUSED_CSP);
    set(h, header::X_FRAME_OPTIONS, "DENY");
    r
}

/// `GET /console`: framed by nobody. `GET /console?tenant=ten_...`: framed by the tenant's
/// agent desktops only (`frame-ancestors 'none'` while it lists none); an unknown tenant is
/// 404 and a malformed query 400, neither framable.
pub async fn console_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<ConsoleQuery>, QueryRejection>,
) -> Response {
    let assets = match pages(&state, &headers, &[console::SCRIPT, console::STYLE]) {
        Ok(a) => a,
        Err(e) => return refused(e),
    };
    let widget = state.widget.origin.as_deref().unwrap_or_default();
    let public = &state.widget.public_origin;
    let tenant = match query {
        Ok(Query(q)) => q.tenant,
        Err(_) => {
            return refused(ApiError::bad_request(
                "invalid_request",
                "expected /console or /console?tenant=ten_...",
            ));
        }
    };
    let Some(tenant) = tenant else {
        return html(
            StatusCode::OK,
            console::render(&assets, widget, None),
            &console::content_security_policy(&assets, public, &[]),
        );
    };
    let record = match embedding_tenant(&state, &tenant).await {
        Ok(t) => t,
        Err(e) => return refused(e),
    };
    let embedding = console::Embedding {
        tenant: record.id.as_str(),
        desktop_origins: &record.agent_desktop_origins,
    };
    let csp = console::content_security_policy(&assets, public, &record.agent_desktop_origins);
    let body = console::render(&assets, widget, Some(embedding));
    if record.agent_desktop_origins.is_empty() {
        html(StatusCode::OK, body, &csp)
    } else {
        framable_html(StatusCode::OK, body, &csp)
    }
}

async fn embedding_tenant(state: &AppState, tenant: &str) -> Result<Tenant, ApiError> {
    let shaped = tenant.len() <= 64
        && tenant.starts_with("ten_")
        && tenant
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if !shaped {
        return Err(ApiError::not_found("no such tenant"));
    }
    state
        .store
        .tenant(&TenantId::new(tenant))
        .await?
        .ok_or_else(|| ApiError::not_found("no such tenant"))
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
