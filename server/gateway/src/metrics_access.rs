//! Who may read `/metrics` (issue 12, finding 7). The counters span every tenant and show when
//! keys are pressed, so they are for the operator only:
//!
//! * `[server] metrics_listen = "ADDR"`: `/metrics` is served on a listener of its own (bind it
//!   to loopback or an internal network for the scraper) and not on the public one;
//! * `[server] metrics_token_file = "PATH"`: `/metrics` asks for `Authorization: Bearer TOKEN`
//!   (the file's first line, at least 32 characters), wherever it is served;
//! * neither: open on the public listener in development mode only; production refuses to
//!   start.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use subtle::ConstantTimeEq;

use crate::app::AppState;
use crate::config_error::ConfigError;
use crate::error::ApiError;

/// Shortest bearer token accepted.
const MIN_TOKEN_LEN: usize = 32;

/// Where `/metrics` is served and what it asks for.
#[derive(Clone, Default)]
pub struct MetricsAccess {
    /// A listener of its own; `None` serves on the public listener.
    pub listen: Option<SocketAddr>,
    token: Option<String>,
}

impl std::fmt::Debug for MetricsAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsAccess")
            .field("listen", &self.listen)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl MetricsAccess {
    /// From `[server] metrics_listen` and `metrics_token_file`.
    pub fn validate(
        listen: Option<SocketAddr>,
        token_file: Option<PathBuf>,
    ) -> Result<Self, ConfigError> {
        let token = match token_file {
            None => None,
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Invalid {
                    key: "server.metrics_token_file",
                    reason: format!("cannot read {}: {e}", path.display()),
                })?;
                let token = text.lines().next().unwrap_or("").trim().to_owned();
                if token.len() < MIN_TOKEN_LEN || !token.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(ConfigError::Invalid {
                        key: "server.metrics_token_file",
                        reason: format!(
                            "the token (first line) must be at least {MIN_TOKEN_LEN} printable characters"
                        ),
                    });
                }
                Some(token)
            }
        };
        Ok(Self { listen, token })
    }

    /// True when anyone who reaches the public listener may read the counters.
    pub fn is_open(&self) -> bool {
        self.listen.is_none() && self.token.is_none()
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(token) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or("");
        given.len() == token.len() && bool::from(given.as_bytes().ct_eq(token.as_bytes()))
    }
}

crate::api_errors!(MetricsErrors {
    401 => [&["unauthorized"]],
    404 => [&["not_found"]],
});

/// `/metrics` on the public listener: absent when the counters have a listener of their own.
#[utoipa::path(get, path = "/metrics", operation_id = "metrics", tag = "operations",
    description = "Prometheus text format, all tenants' counters. Operator only: on its own \
        listener (`server.metrics_listen`; 404 here), or with the bearer token of \
        `server.metrics_token_file`; open in development mode when neither is set.",
    security((), ("metrics_token" = [])),
    responses((status = 200, description = "The counters", body = String,
        content_type = "text/plain; version=0.0.4; charset=utf-8"), MetricsErrors))]
pub async fn public(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.config.metrics.listen.is_some() {
        return ApiError::not_found("no such route").into_response();
    }
    render(&state, &headers)
}

/// The router of the metrics listener (`[server] metrics_listen`).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(
                |State(state): State<AppState>, headers: HeaderMap| async move {
                    render(&state, &headers)
                },
            ),
        )
        .with_state(state)
}

fn render(state: &AppState, headers: &HeaderMap) -> Response {
    if !state.config.metrics.authorized(headers) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the metrics need the operator's bearer token",
        )
        .into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, auth.parse().unwrap());
        h
    }

    #[test]
    fn a_token_file_is_checked_and_the_bearer_compared() {
        let dir = tempfile::tempdir().unwrap();
        let short = dir.path().join("short");
        std::fs::write(&short, "abc\n").unwrap();
        assert!(MetricsAccess::validate(None, Some(short)).is_err());
        assert!(MetricsAccess::validate(None, Some(dir.path().join("missing"))).is_err());
        let good = dir.path().join("good");
        let token = "m".repeat(40);
        std::fs::write(&good, format!("{token}\nignored\n")).unwrap();
        let access = MetricsAccess::validate(None, Some(good)).unwrap();
        assert!(!access.is_open());
        assert!(access.authorized(&headers(&format!("Bearer {token}"))));
        assert!(!access.authorized(&headers(&format!("Bearer {token}x"))));
        assert!(!access.authorized(&headers(&format!("Basic {token}"))));
        assert!(!access.authorized(&HeaderMap::new()));
        assert!(
            !format!("{access:?}").contains(&token),
            "Debug redacts the token"
        );
    }
}
