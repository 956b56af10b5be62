//! The demo patient portal (`examples/patient-portal`), served at `/portal/` in development
//! mode only, for the demo tenant: its three files, the SDK bundle, and `POST
//! /portal/session`, which plays the portal's backend (it mints a patient access token for
//! the room `demo-visit`; `?room=` picks another). In production all of it answers 404.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use hushpay_auth::{MintRequest, Role};
use serde::Deserialize;
use serde_json::json;

use crate::app::AppState;
use crate::error::ApiError;

/// The room the demo portal's patient joins unless `?room=` says otherwise.
pub const DEMO_ROOM: &str = "demo-visit";

fn portal_dir(state: &AppState, headers: &HeaderMap) -> Result<std::path::PathBuf, ApiError> {
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match &state.widget.portal_dir {
        Some(dir) if !state.widget.serves_host(host) => Ok(dir.clone()),
        _ => Err(ApiError::not_found(
            "the demo portal is served in development mode only",
        )),
    }
}

pub async fn redirect() -> Redirect {
    Redirect::permanent("/portal/")
}

/// `GET /portal/` and `GET /portal/{file}` for the portal's own files and the SDK.
pub async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    path: Option<axum::extract::Path<String>>,
) -> Response {
    let dir = match portal_dir(&state, &headers) {
        Ok(d) => d,
        Err(e) => return e.into_response(),
    };
    let name = path.map_or_else(|| "index.html".to_owned(), |p| p.0);
    let (content_type, bytes) = match name.as_str() {
        "index.html" | "portal.js" | "portal.css" => {
            let ty = match name.rsplit('.').next() {
                Some("html") => "text/html; charset=utf-8",
                Some("js") => "text/javascript; charset=utf-8",
                _ => "text/css; charset=utf-8",
            };
            match std::fs::read(dir.join(&name)) {
                Ok(b) => (ty, bytes::Bytes::from(b)),
                Err(e) => {
                    tracing::warn!(error = %e, file = %name, "demo portal file unreadable");
                    return ApiError::not_found("the demo portal's files are missing")
                        .into_response();
                }
            }
        }
        "hushpay-web.js" => match state.widget.pages.as_ref().and_then(|p| p.get(&name)) {
            Some(a) => ("text/javascript; charset=utf-8", a.bytes.clone()),
            None => {
                return ApiError::not_found("the SDK is not built (npm run build)").into_response();
            }
        },
        _ => return ApiError::not_found("no such file").into_response(),
    };
    let mut r = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

#[derive(Debug, Deserialize)]
pub struct SessionQuery {
    room: Option<String>,
}

/// `POST /portal/session`: a patient token of the demo tenant.
pub async fn session(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<Query<SessionQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    portal_dir(&state, &headers)?;
    let room = match query {
        Ok(Query(q)) => q.room.unwrap_or_else(|| DEMO_ROOM.to_owned()),
        Err(_) => {
            return Err(ApiError::bad_request(
                "invalid_request",
                "expected ?room=name",
            ));
        }
    };
    if !(1..=64).contains(&room.len())
        || !room
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ApiError::bad_request(
            "invalid_room",
            "`room` must be 1 to 64 letters, digits, `-` or `_`",
        ));
    }
    let tenant = state
        .store
        .tenant_by_name(crate::bootstrap::DEMO_TENANT)
        .await?
        .ok_or_else(|| ApiError::not_found("there is no demo tenant on this gateway"))?;
    let minted = state
        .tokens
        .signer
        .mint_now(MintRequest {
            tenant: tenant.id.to_string(),
            identity: "patient".into(),
            room: room.clone(),
            role: Role::Patient,
            grants: None,
            ttl: None,
            api_key_id: None,
        })
        .map_err(|e| ApiError::internal("token signing failed", &e))?;
    Ok((
        StatusCode::OK,
        [(header::CACHE_CONTROL, "no-store")],
        Json(json!({
            "token": minted.token,
            "gateway": state.config.public_url.trim_end_matches('/'),
            "tenant": tenant.id.as_str(),
            "widgetOrigin": state.widget.origin,
            "room": room,
        })),
    )
        .into_response())
}
