//! The HTTP application: shared state, the router, and `run(listener, shutdown)` so tests bind
//! `127.0.0.1:0` and drive the real server in-process (the mini-redis shape).

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use hushpay_store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::routes;
use crate::tokens::Tokens;

/// Everything a request handler may touch. Cheap to clone.
#[derive(Debug, Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    pub tokens: Arc<Tokens>,
    pub metrics: Arc<Metrics>,
    pub sfu: Arc<crate::sfu::Sfu>,
    pub vault: Arc<crate::vault::VaultState>,
    pub payments: Arc<crate::payments::PaymentService>,
    pub webhooks: Arc<crate::webhooks::Webhooks>,
    pub widget: Arc<crate::widget::Widget>,
    /// The recorder (also the SFU's tap when `[recording] enabled`) and the recording API.
    pub recorder: Arc<crate::recording::Recorder>,
}

/// The full router with its middleware stack.
pub fn router(state: AppState) -> Router {
    let body_limit = state.config.body_limit_bytes;
    routes::routes()
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), count_requests))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(CatchPanicLayer::custom(|_| {
            axum::response::IntoResponse::into_response(ApiError::internal(
                "handler panicked",
                &"panic",
            ))
        }))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("-");
            // The path is logged without its query string: queries may carry link ids.
            tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves `router(state)` on `listener` (and runs the webhook delivery worker, the
/// background rewrap, the CVC purge, the payment-change forwarder to the SFU, the keypad
/// driver and the payment expiry sweeper) until `shutdown` completes, then drains requests.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let worker = tokio::spawn(crate::webhooks::worker::run(
        Arc::clone(&state.store),
        Arc::clone(&state.webhooks),
    ));
    let rewrap = tokio::spawn(crate::vault::rewrap::run(
        Arc::clone(&state.store),
        Arc::clone(&state.vault),
        state.config.vault.rewrap_interval,
    ));
    let payment_changes = tokio::spawn(crate::sfu::payments::forward_changes(
        Arc::clone(&state.sfu),
        state.payments.subscribe_changes(),
    ));
    let sad_purge = tokio::spawn(crate::vault::sad_purge::run(
        Arc::clone(&state.vault.vault),
        state.config.vault.sad_ttl,
    ));
    let retention = tokio::spawn(crate::recording::retention::run(Arc::clone(
        &state.recorder,
    )));
    let keypad = tokio::spawn(crate::sfu::keypad::drive(
        Arc::clone(&state.sfu),
        Arc::clone(&state.payments),
        state.payments.subscribe_changes(),
    ));
    let expiry = tokio::spawn(crate::payments::expiry::run(Arc::clone(&state.payments)));
    let cluster = match crate::cluster::start(&state).await {
        Ok(c) => c,
        Err(e) => {
            for t in [
                &worker,
                &rewrap,
                &payment_changes,
                &sad_purge,
                &retention,
                &keypad,
                &expiry,
            ] {
                t.abort();
            }
            return Err(std::io::Error::other(e));
        }
    };
    let served = axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(cluster) = cluster {
        cluster.stop().await;
    }
    worker.abort();
    rewrap.abort();
    sad_purge.abort();
    retention.abort();
    payment_changes.abort();
    keypad.abort();
    expiry.abort();
    served
}

async fn count_requests(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(req).await;
    state
        .metrics
        .http_request(&method, &route, response.status().as_u16());
    response
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not accept that method",
    )
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    tracing::info!("shutdown requested; draining connections");
}
