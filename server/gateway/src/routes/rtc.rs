//! `GET /v1/rtc`: the signalling WebSocket. The participant JWT comes as the
//! `access_token` query parameter (browsers cannot set headers on a WebSocket), an
//! `Authorization: Bearer` header, or the first frame `{"type":"auth","token":"..."}`.
//! A token in the URL or header is checked before the upgrade, so a bad one gets a plain
//! HTTP 401 JSON error; a bad first-frame token gets an `error` frame and close code 4401.
//! A request that is not a WebSocket upgrade gets a JSON error too
//! (`websocket_upgrade_required`), as does a malformed query.

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiQuery, QueryParams};
use crate::openapi::errors;
use crate::sfu::session;

/// The query of `GET /v1/rtc` (other parameters are ignored).
#[derive(Debug, Deserialize)]
pub struct RtcQuery {
    access_token: Option<String>,
}

impl QueryParams for RtcQuery {
    const PARAMS: &'static [&'static str] = &["access_token"];
}

crate::api_errors!(ConnectErrors {
    400 => [&["websocket_upgrade_required", "invalid_request"]],
    401 => [errors::JWT_401],
    405 => [&["websocket_upgrade_required"]],
    426 => [&["websocket_upgrade_required"]],
    503 => [errors::STORE_503],
});

/// Opens the signalling WebSocket of the SFU (docs/protocol.md). Not a JSON endpoint: the
/// answer to a valid upgrade (RFC 6455: `Upgrade: websocket`, `Connection: Upgrade`,
/// `Sec-WebSocket-Version: 13`, `Sec-WebSocket-Key`) is `101 Switching Protocols`.
#[utoipa::path(get, path = "/v1/rtc", operation_id = "connectSignalling", tag = "signalling",
    security((), ("participant_jwt" = [])),
    params(
        ("access_token" = Option<String>, Query, description = "The participant JWT (else `Authorization` or the first frame)"),
    ),
    responses((status = 101, description = "The WebSocket is open"), ConnectErrors))]
pub async fn connect(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RtcQuery>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(upgrade_refused)?;
    let header_token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim().to_owned());
    let token = q.access_token.or(header_token);
    let claims = match token {
        Some(t) => Some(session::authenticate(&state, &t).await?),
        None => None,
    };
    let limit = state.sfu.config.max_message_bytes;
    Ok(ws
        .max_message_size(limit * 2)
        .max_frame_size(limit * 2)
        .on_upgrade(move |socket| session::run(socket, state, claims)))
}

/// A request that is not a WebSocket upgrade: axum's status (400, 405 or 426) and its fixed
/// reason, as a JSON error.
fn upgrade_refused(rejection: WebSocketUpgradeRejection) -> ApiError {
    ApiError::new(
        rejection.status(),
        "websocket_upgrade_required",
        format!(
            "this is the signalling WebSocket: {}",
            rejection.body_text()
        ),
    )
}
