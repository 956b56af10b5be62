//! Shared helpers for the gateway's integration tests: an in-process gateway on
//! `127.0.0.1:0` with a throwaway data directory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod binary;
pub mod cards;
pub mod receiver;
pub mod sipp;

use std::net::SocketAddr;

use hushpay::app::{self, AppState};
use hushpay::bootstrap;
use hushpay::config::RawConfig;
use hushpay::tenants;
use hushpay_store::Tenant;
use tokio::sync::oneshot;

pub struct TestGateway {
    pub addr: SocketAddr,
    pub state: AppState,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl TestGateway {
    /// A development-mode gateway on the in-memory store, with extra env-style overrides.
    pub async fn start(overrides: &[(&str, &str)]) -> Self {
        Self::start_full("", overrides, |_| {}).await
    }

    /// Like [`TestGateway::start`], with `adjust` applied to the state before serving (tests
    /// swap in failing parts).
    pub async fn start_with(
        overrides: &[(&str, &str)],
        adjust: impl FnOnce(&mut AppState),
    ) -> Self {
        Self::start_full("", overrides, adjust).await
    }

    /// Like [`TestGateway::start`], with a TOML configuration file as the base.
    pub async fn start_with_toml(toml: &str, overrides: &[(&str, &str)]) -> Self {
        Self::start_full(toml, overrides, |_| {}).await
    }

    async fn start_full(
        toml: &str,
        overrides: &[(&str, &str)],
        adjust: impl FnOnce(&mut AppState),
    ) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut env = vec![
            (
                "HUSHPAY__DATA_DIR".to_owned(),
                dir.path().display().to_string(),
            ),
            ("HUSHPAY__STORE".to_owned(), "memory".to_owned()),
        ];
        env.extend(
            overrides
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string())),
        );
        let file = dir.path().join("hushpay.toml");
        std::fs::write(&file, toml).unwrap();
        let config = RawConfig::load(Some(&file), env)
            .unwrap()
            .validate()
            .unwrap();
        let mut state = bootstrap::state(config).unwrap();
        adjust(&mut state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let s = state.clone();
        tokio::spawn(async move {
            app::run(listener, s, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Self {
            addr,
            state,
            client: reqwest::Client::new(),
            _dir: dir,
            stop: Some(stop),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A tenant with one API key.
    pub async fn tenant(&self, name: &str) -> (Tenant, String) {
        let store = self.state.store.as_ref();
        let t = tenants::create_tenant(store, name, vec![], 1_700_000_000)
            .await
            .unwrap();
        let key = tenants::create_api_key(store, &t.id, "test", 1_700_000_000)
            .await
            .unwrap();
        (t, key.key)
    }

    /// Mints a participant token over HTTP with `api_key`.
    pub async fn mint(&self, api_key: &str, body: serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/access-tokens"))
            .bearer_auth(api_key)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

impl Drop for TestGateway {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Tracer hits in every file of the data directory (the SQLite WAL must be among them), and
/// whether any file holds `marker` verbatim.
pub fn data_dir_hits(
    state: &AppState,
    tracers: &hushpay_card::leak_scan::Tracers,
    marker: &[u8],
) -> (Vec<String>, bool) {
    use hushpay_card::leak_scan::{self, Net};
    let files = cards::files_under(&state.config.data_dir);
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("hushpay.db-wal")),
        "the WAL is part of the scan: {files:?}"
    );
    let mut hits = Vec::new();
    let mut marker_found = false;
    for f in &files {
        let bytes = std::fs::read(f).unwrap();
        marker_found |= !marker.is_empty() && bytes.windows(marker.len()).any(|w| w == marker);
        for h in leak_scan::scan(tracers, &bytes, Net::KnownBrands) {
            hits.push(format!("{}: {h:?}", f.display()));
        }
    }
    (hits, marker_found)
}

/// Asserts a JSON error response with `status` and `code`; returns the message.
pub async fn assert_error(resp: reqwest::Response, status: u16, code: &str) -> String {
    assert_eq!(resp.status().as_u16(), status, "status");
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(ct.as_deref(), Some("application/json"), "errors are JSON");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["code"], code, "{body}");
    let message = body["error"]["message"].as_str().unwrap().to_owned();
    assert!(!message.is_empty());
    message
}
