//! The agent console, `GET /console` on the gateway's public origin: a shell page whose
//! pinned script (`console.js`, built on `@hushpay/web`'s `AgentSession`) builds the UI. The
//! agent signs in with its access token (held in memory only), joins the token's room over
//! `/v1/rtc`, and asks for payments through `POST /v1/payments`; it only ever receives masked
//! payment documents.
//!
//! `GET /console?tenant=ten_...` is the same console for embedding in the tenant's agent
//! desktops (CRM, contact-centre desktop): framed only by the tenant's
//! `agent_desktop_origins` (its `frame-ancestors`; `'none'` while the list is empty), and
//! told those origins (`data-desktop-origins`) and the tenant (`data-tenant`), so the script
//! takes its access token by `postMessage` from the desktop that frames it, asks it for a
//! fresh one before expiry and reports payment results (token, brand, last 4) to it only.
//! Plain `/console` is framed by nobody, as before.

use super::PageAssets;

pub const SCRIPT: &str = "console.js";
pub const STYLE: &str = "console.css";
pub const PATH: &str = "/console";
pub const SCRIPT_PATH: &str = "/console/assets/console.js";

/// `ws://` or `wss://` for the gateway's public URL (the console's signalling endpoint).
pub fn websocket_origin(public_origin: &str) -> String {
    if let Some(rest) = public_origin.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = public_origin.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        public_origin.to_owned()
    }
}

/// The tenant's agent desktops, for `/console?tenant=`.
#[derive(Debug, Clone, Copy)]
pub struct Embedding<'a> {
    /// `ten_...`
    pub tenant: &'a str,
    /// The tenant's `agent_desktop_origins` (validated when set).
    pub desktop_origins: &'a [String],
}

/// Its pinned script and stylesheet; requests to the gateway (HTTP and its WebSocket); no
/// frames; framed by `frame_ancestors` only (none for plain `/console`).
pub fn content_security_policy(
    assets: &PageAssets,
    public_origin: &str,
    frame_ancestors: &[String],
) -> String {
    let script = assets
        .get(SCRIPT)
        .map_or("'none'".into(), |a| format!("'{}'", a.sri));
    let style = assets
        .get(STYLE)
        .map_or("'none'".into(), |a| format!("'{}'", a.sha256));
    format!(
        "default-src 'none'; script-src {script}; style-src {style}; \
         connect-src {public_origin} {ws}; media-src 'self' blob:; img-src 'none'; \
         object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}",
        ws = websocket_origin(public_origin),
        ancestors = crate::widget::page::frame_ancestors(frame_ancestors),
    )
}

pub fn render(
    assets: &PageAssets,
    widget_origin: &str,
    embedding: Option<Embedding<'_>>,
) -> String {
    let sri = assets
        .get(SCRIPT)
        .map(|a| a.sri.as_str())
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en" data-widget-origin="{widget}"{embed}>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Hushpay agent console</title>
<style>{style}</style>
<script src="{script_path}" integrity="{sri}" crossorigin="anonymous" defer></script>
</head>
<body>
<main id="console" aria-labelledby="console-title">
<h1 id="console-title">Hushpay agent console</h1>
<noscript>The agent console needs JavaScript.</noscript>
</main>
</body>
</html>
"#,
        widget = crate::html::escape(widget_origin),
        embed = embedding.map_or(String::new(), |e| format!(
            r#" data-tenant="{}" data-desktop-origins="{}""#,
            crate::html::escape(e.tenant),
            crate::html::escape(&e.desktop_origins.join(" "))
        )),
        style = assets.text(STYLE),
        script_path = SCRIPT_PATH,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_origins_follow_the_scheme() {
        assert_eq!(websocket_origin("https://pay.example"), "wss://pay.example");
        assert_eq!(
            websocket_origin("http://127.0.0.1:8080"),
            "ws://127.0.0.1:8080"
        );
        let a = PageAssets::from_files(&[(SCRIPT, b"js"), (STYLE, b"x")]);
        let csp = content_security_policy(&a, "http://127.0.0.1:8080", &[]);
        assert!(csp.contains("connect-src http://127.0.0.1:8080 ws://127.0.0.1:8080;"));
        assert!(csp.ends_with("frame-ancestors 'none'"));
    }

    #[test]
    fn embedded_consoles_are_framed_by_the_tenants_desktops_only() {
        let a = PageAssets::from_files(&[(SCRIPT, b"js"), (STYLE, b"x")]);
        let desktops = [
            "https://crm.example".to_owned(),
            "http://127.0.0.1:4100".to_owned(),
        ];
        let csp = content_security_policy(&a, "https://pay.example", &desktops);
        assert!(csp.ends_with("frame-ancestors https://crm.example http://127.0.0.1:4100"));
        assert_eq!(csp.matches("frame-ancestors").count(), 1);
        assert!(!csp.contains('*'));
        assert!(csp.contains("connect-src https://pay.example wss://pay.example;"));

        let embedded = Embedding {
            tenant: "ten_abc",
            desktop_origins: &desktops,
        };
        let html = render(&a, "https://widget.example", Some(embedded));
        assert!(html.contains(
            r#"data-tenant="ten_abc" data-desktop-origins="https://crm.example http://127.0.0.1:4100""#
        ));
        let plain = render(&a, "https://widget.example", None);
        assert!(!plain.contains("data-tenant"));
        assert!(!plain.contains("data-desktop-origins"));
    }

    #[test]
    fn embedding_attributes_are_escaped() {
        let a = PageAssets::from_files(&[(SCRIPT, b"js"), (STYLE, b"x")]);
        let hostile = ["\"><script>x</script>".to_owned()];
        let html = render(
            &a,
            "w",
            Some(Embedding {
                tenant: "ten_\"<",
                desktop_origins: &hostile,
            }),
        );
        assert!(!html.contains("<script>x"));
        assert!(!html.contains("ten_\"<"));
    }
}
