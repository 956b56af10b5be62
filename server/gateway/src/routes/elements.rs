//! The card iframe's files, served only on the widget origin (`Host` must match):
//!
//! * `GET /elements/v1/card?tenant=ten_...&origin=<parent origin>` — the page, with the strict
//!   CSP whose `frame-ancestors` is the tenant's allowed origins (plus the gateway's public
//!   origin). `origin` must be one of them: the iframe posts only to that exact origin.
//! * `GET /elements/v1/card-frame.js`, `GET /elements/v1/card.wasm` — the pinned assets.
//!
//! Refusals are JSON errors that also carry `frame-ancestors 'none'`.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use hushpay_store::TenantId;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::widget::page::{self, PageInput};

#[derive(Debug, Deserialize)]
pub struct PageQuery {
    pub tenant: Option<String>,
    pub origin: Option<String>,
    /// The patient's language (the payment's `locale`); English when absent or unsupported
    /// (the page still works).
    pub locale: Option<String>,
}

const REFUSED_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

pub async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    match render_page(&state, &headers, query).await {
        Ok(r) => r,
        Err(e) => refused(e),
    }
}

async fn render_page(
    state: &AppState,
    headers: &HeaderMap,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let widget = &state.widget;
    require_widget_host(state, headers)?;
    let assets = widget.assets.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "widget_not_built",
            "the card iframe's assets are not built on this gateway",
        )
    })?;
    let Ok(Query(q)) = query else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "expected ?tenant=ten_...&origin=https://...",
        ));
    };
    let (Some(tenant), Some(origin)) = (q.tenant, q.origin) else {
        return Err(ApiError::bad_request(
            "invalid_request",
            "`tenant` and `origin` are required",
        ));
    };
    if tenant.len() > 64 || !tenant.starts_with("ten_") {
        return Err(ApiError::not_found("no such tenant"));
    }
    let record = state
        .store
        .tenant(&TenantId::new(tenant.clone()))
        .await?
        .ok_or_else(|| ApiError::not_found("no such tenant"))?;
    let allowed = widget.allowed_parents(&record.allowed_origins);
    if !allowed.contains(&origin) {
        return Err(ApiError::forbidden(
            "origin_not_allowed",
            "this origin may not embed the card form: add it to the tenant's allowed origins",
        ));
    }
    let widget_origin = widget.origin.as_deref().unwrap_or_default();
    let lang = q
        .locale
        .as_deref()
        .and_then(hushpay_vault::payment::locale::normalize)
        .unwrap_or_else(|| hushpay_vault::payment::locale::DEFAULT_LOCALE.to_owned());
    let input = PageInput {
        lang: &lang,
        assets,
        tenant: record.id.as_str(),
        parent_origin: &origin,
        widget_origin,
        frame_ancestors: &allowed,
    };
    let csp = page::content_security_policy(&input);
    let mut response = (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        page::render(&input),
    )
        .into_response();
    let h = response.headers_mut();
    set(h, header::CONTENT_SECURITY_POLICY, &csp);
    set(h, header::CACHE_CONTROL, "no-store");
    set(h, header::REFERRER_POLICY, "no-referrer");
    security_headers(h);
    set(
        h,
        HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    );
    Ok(response)
}

pub async fn script(State(state): State<AppState>, headers: HeaderMap) -> Response {
    asset(&state, &headers, "text/javascript; charset=utf-8", |a| {
        a.script.clone()
    })
}

pub async fn wasm(State(state): State<AppState>, headers: HeaderMap) -> Response {
    asset(&state, &headers, "application/wasm", |a| a.wasm.clone())
}

fn asset(
    state: &AppState,
    headers: &HeaderMap,
    content_type: &'static str,
    pick: impl Fn(&crate::widget::assets::FrameAssets) -> Bytes,
) -> Response {
    if let Err(e) = require_widget_host(state, headers) {
        return e.into_response();
    }
    let Some(assets) = &state.widget.assets else {
        return ApiError::not_found("the card iframe's assets are not built").into_response();
    };
    let mut response = ([(header::CONTENT_TYPE, content_type)], pick(assets)).into_response();
    let h = response.headers_mut();
    set(h, header::CACHE_CONTROL, "no-cache");
    security_headers(h);
    response
}

fn require_widget_host(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if state.widget.serves_host(host) {
        Ok(())
    } else {
        Err(ApiError::not_found(
            "the card iframe is served on the widget origin only",
        ))
    }
}

fn security_headers(h: &mut HeaderMap) {
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        h,
        HeaderName::from_static("cross-origin-resource-policy"),
        "same-origin",
    );
}

fn refused(error: ApiError) -> Response {
    let mut response = error.into_response();
    set(
        response.headers_mut(),
        header::CONTENT_SECURITY_POLICY,
        REFUSED_CSP,
    );
    response
}

fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    // Every value here is ASCII built from validated parts; skip (never panic) otherwise.
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.insert(name, v);
    }
}
