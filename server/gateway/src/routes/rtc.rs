//! `GET /v1/rtc`: the signalling WebSocket. The participant JWT comes as the
//! `access_token` query parameter (browsers cannot set headers on a WebSocket), an
//! `Authorization: Bearer` header, or the first frame `{"type":"auth","token":"..."}`.
//! A token in the URL or header is checked before the upgrade, so a bad one gets a plain
//! HTTP 401 JSON error; a bad first-frame token gets an `error` frame and close code 4401.

use axum::extract::{Query, State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use crate::app::AppState;
use crate::error::ApiError;
use crate::sfu::session;

#[derive(Debug, Deserialize)]
pub struct RtcQuery {
    access_token: Option<String>,
}

pub async fn connect(
    State(state): State<AppState>,
    Query(q): Query<RtcQuery>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Result<Response, ApiError> {
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
