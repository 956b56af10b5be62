//! The card iframe's routes over real HTTP: served only on the widget origin, strict CSP with
//! the tenant's frame-ancestors, SRI pins that match the served bytes, clear refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{TestGateway, assert_error};
use hushpay::tenants;
use sha2::{Digest, Sha384};

/// The default public URL is http://127.0.0.1:8080, so the widget origin is localhost:8080.
const WIDGET_HOST: &str = "localhost:8080";
const PORTAL: &str = "https://portal.example";
const JS: &[u8] = b"/* card frame */";
const WASM: &[u8] = b"\0asm\x01\0\0\0";
const CSS: &str = "form{margin:0}";

struct Frame {
    gw: TestGateway,
    tenant: String,
    _assets: tempfile::TempDir,
}

async fn start(with_assets: bool) -> Frame {
    let assets = tempfile::tempdir().unwrap();
    if with_assets {
        std::fs::write(assets.path().join("card-frame.js"), JS).unwrap();
        std::fs::write(assets.path().join("card.wasm"), WASM).unwrap();
        std::fs::write(assets.path().join("card-frame.css"), CSS).unwrap();
    }
    let dir = assets.path().display().to_string();
    let gw = TestGateway::start(&[("HUSHPAY__WIDGET__ASSETS_DIR", &dir)]).await;
    let t = tenants::create_tenant(gw.state.store.as_ref(), "clinic", vec![PORTAL.into()], 1)
        .await
        .unwrap();
    Frame {
        gw,
        tenant: t.id.to_string(),
        _assets: assets,
    }
}

impl Frame {
    async fn get(&self, host: &str, path_and_query: &str) -> reqwest::Response {
        self.gw
            .client
            .get(self.gw.url(path_and_query))
            .header("host", host)
            .send()
            .await
            .unwrap()
    }

    fn page(&self, origin: &str) -> String {
        format!(
            "/elements/v1/card?tenant={}&origin={}",
            self.tenant,
            origin.replace(':', "%3A").replace('/', "%2F")
        )
    }
}

fn sri(bytes: &[u8]) -> String {
    format!("sha384-{}", STANDARD.encode(Sha384::digest(bytes)))
}

#[tokio::test]
async fn page_has_the_strict_csp_and_pins_the_served_bytes() {
    let f = start(true).await;
    let resp = f.get(WIDGET_HOST, &f.page(PORTAL)).await;
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    let csp = h["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert!(
        csp.contains(&format!("script-src '{}' 'wasm-unsafe-eval';", sri(JS))),
        "{csp}"
    );
    assert!(csp.contains("connect-src http://localhost:8080;"), "{csp}");
    assert!(csp.contains("object-src 'none'"), "{csp}");
    assert!(
        csp.ends_with(&format!("frame-ancestors {PORTAL} http://127.0.0.1:8080")),
        "{csp}"
    );
    let html = resp.text().await.unwrap();
    assert!(html.contains(&format!("integrity=\"{}\"", sri(JS))));
    assert!(html.contains(&format!("data-wasm-integrity=\"{}\"", sri(WASM))));
    assert!(html.contains(&format!("data-parent-origin=\"{PORTAL}\"")));
    assert!(html.contains(&format!("data-tenant=\"{}\"", f.tenant)));

    let js = f.get(WIDGET_HOST, "/elements/v1/card-frame.js").await;
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(js.bytes().await.unwrap().as_ref(), JS);
    let wasm = f.get(WIDGET_HOST, "/elements/v1/card.wasm").await;
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    assert_eq!(
        wasm.headers()["cross-origin-resource-policy"],
        "same-origin"
    );
    assert_eq!(wasm.bytes().await.unwrap().as_ref(), WASM);
}

#[tokio::test]
async fn only_the_widget_origin_serves_the_iframe() {
    let f = start(true).await;
    for path in [
        f.page(PORTAL).as_str(),
        "/elements/v1/card-frame.js",
        "/elements/v1/card.wasm",
    ] {
        for host in ["127.0.0.1:8080", "evil.example", "localhost:8081"] {
            let resp = f.get(host, path).await;
            assert_error(resp, 404, "not_found").await;
        }
    }
}

#[tokio::test]
async fn parents_outside_the_allowlist_and_bad_queries_are_refused() {
    let f = start(true).await;
    let resp = f.get(WIDGET_HOST, &f.page("https://evil.example")).await;
    assert_eq!(
        resp.headers()["content-security-policy"],
        "default-src 'none'; frame-ancestors 'none'"
    );
    assert_error(resp, 403, "origin_not_allowed").await;
    let hostile = "/elements/v1/card?tenant=%3Cscript%3Ealert(1)%3C/script%3E&origin=x";
    let msg = assert_error(f.get(WIDGET_HOST, hostile).await, 404, "not_found").await;
    assert!(!msg.contains("script"));
    let unknown = "/elements/v1/card?tenant=ten_nope&origin=https%3A%2F%2Fportal.example";
    assert_error(f.get(WIDGET_HOST, unknown).await, 404, "not_found").await;
    for bad in [
        "/elements/v1/card",
        "/elements/v1/card?tenant=ten_a",
        "/elements/v1/card?%zz",
    ] {
        assert_error(f.get(WIDGET_HOST, bad).await, 400, "invalid_request").await;
    }
}

#[tokio::test]
async fn a_gateway_without_built_assets_says_so() {
    let f = start(false).await;
    let resp = f.get(WIDGET_HOST, &f.page(PORTAL)).await;
    let msg = assert_error(resp, 503, "widget_not_built").await;
    assert!(msg.contains("not built"));
    assert_error(
        f.get(WIDGET_HOST, "/elements/v1/card.wasm").await,
        404,
        "not_found",
    )
    .await;
}
