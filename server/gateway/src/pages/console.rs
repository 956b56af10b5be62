//! The agent console, `GET /console` on the gateway's public origin: a shell page whose
//! pinned script (`console.js`, built on `@hushpay/web`'s `AgentSession`) builds the UI. The
//! agent signs in with its access token (held in memory only), joins the token's room over
//! `/v1/rtc`, and asks for payments through `POST /v1/payments`; it only ever receives masked
//! payment documents.

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

/// Its pinned script and stylesheet; requests to the gateway (HTTP and its WebSocket); no
/// frames; framed by nobody.
pub fn content_security_policy(assets: &PageAssets, public_origin: &str) -> String {
    let script = assets
        .get(SCRIPT)
        .map_or("'none'".into(), |a| format!("'{}'", a.sri));
    let style = assets
        .get(STYLE)
        .map_or("'none'".into(), |a| format!("'{}'", a.sha256));
    format!(
        "default-src 'none'; script-src {script}; style-src {style}; \
         connect-src {public_origin} {ws}; media-src 'self' blob:; img-src 'none'; \
         object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ws = websocket_origin(public_origin),
    )
}

pub fn render(assets: &PageAssets, widget_origin: &str) -> String {
    let sri = assets
        .get(SCRIPT)
        .map(|a| a.sri.as_str())
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="en" data-widget-origin="{widget}">
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
        let csp = content_security_policy(&a, "http://127.0.0.1:8080");
        assert!(csp.contains("connect-src http://127.0.0.1:8080 ws://127.0.0.1:8080;"));
        assert!(csp.ends_with("frame-ancestors 'none'"));
    }
}
