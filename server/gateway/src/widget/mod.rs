//! The card iframe: its own origin, its built assets and its page (issue 7, item 2).
//!
//! * [`config`]: `[widget]` — the widget origin and the assets directory.
//! * [`assets`]: the script, wasm and stylesheet, read once, with SRI hashes.
//! * [`page`]: the HTML page and its strict Content-Security-Policy.
//!
//! The routes live in `routes::elements`. Who may frame the iframe: the tenant's allowed
//! origins (`hushpay tenant create --allowed-origin`), plus the gateway's own public origin
//! (its hosted pay-by-link page).

pub mod assets;
pub mod config;
pub mod page;

use std::sync::Arc;

use assets::FrameAssets;

use crate::config::Config;

/// The widget's runtime state.
#[derive(Debug, Clone)]
pub struct Widget {
    /// The iframe's origin; `None` when none is configured or derivable (then the routes
    /// answer 404 everywhere).
    pub origin: Option<String>,
    /// The gateway's public origin.
    pub public_origin: String,
    /// `None` when the assets were not built; the page then answers 503.
    pub assets: Option<Arc<FrameAssets>>,
    /// The hosted pages' scripts (pay-by-link, console); `None` when not built (503).
    pub pages: Option<Arc<crate::pages::PageAssets>>,
    /// The demo patient portal's directory, in development mode only.
    pub portal_dir: Option<std::path::PathBuf>,
}

impl Widget {
    /// Reads the assets named by `config`; a failure is returned beside a widget without
    /// assets, for the caller to report.
    pub fn load(config: &Config) -> (Widget, Option<assets::AssetError>) {
        let (assets, error) = match FrameAssets::load(&config.widget.assets_dir) {
            Ok(a) => (Some(Arc::new(a)), None),
            Err(e) => (None, Some(e)),
        };
        let pages = match crate::pages::PageAssets::load(&config.widget.pages_dir) {
            Ok(p) => Some(Arc::new(p)),
            Err(e) => {
                tracing::warn!(error = %e, "pay-by-link page and agent console unavailable");
                None
            }
        };
        let development = config.mode == crate::config::Mode::Development;
        let widget = Widget {
            origin: config.widget.origin_for(&config.public_url),
            public_origin: config::origin_of(&config.public_url),
            assets,
            pages,
            portal_dir: development.then(|| config.widget.portal_dir.clone()),
        };
        (widget, error)
    }

    /// True when a request with this `Host` header is addressed to the widget origin.
    pub fn serves_host(&self, host: Option<&str>) -> bool {
        let Some(origin) = &self.origin else {
            return false;
        };
        let authority = origin.split_once("://").map_or(origin.as_str(), |(_, a)| a);
        let default_port = if origin.starts_with("https://") {
            ":443"
        } else {
            ":80"
        };
        host.is_some_and(|h| {
            h.eq_ignore_ascii_case(authority)
                || (!authority.contains(':')
                    && h.eq_ignore_ascii_case(&format!("{authority}{default_port}")))
        })
    }

    /// Origins allowed to frame the iframe for a tenant: its allowlist and the public origin.
    pub fn allowed_parents(&self, tenant_origins: &[String]) -> Vec<String> {
        let mut out: Vec<String> = tenant_origins.to_vec();
        if !out.contains(&self.public_origin) {
            out.push(self.public_origin.clone());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn widget(origin: &str) -> Widget {
        Widget {
            origin: Some(origin.into()),
            public_origin: "http://127.0.0.1:8080".into(),
            assets: None,
            pages: None,
            portal_dir: None,
        }
    }

    #[test]
    fn host_matching_is_exact() {
        let w = widget("http://localhost:8080");
        assert!(w.serves_host(Some("localhost:8080")));
        assert!(w.serves_host(Some("LOCALHOST:8080")));
        assert!(!w.serves_host(Some("127.0.0.1:8080")));
        assert!(!w.serves_host(Some("localhost:8081")));
        assert!(!w.serves_host(None));
        let tls = widget("https://elements.example");
        assert!(tls.serves_host(Some("elements.example")));
        assert!(tls.serves_host(Some("elements.example:443")));
        assert!(!tls.serves_host(Some("evil.example")));
        let none = Widget {
            origin: None,
            ..widget("x")
        };
        assert!(!none.serves_host(Some("localhost:8080")));
    }

    #[test]
    fn the_public_origin_may_always_frame() {
        let w = widget("http://localhost:8080");
        assert_eq!(
            w.allowed_parents(&["https://portal.example".into()]),
            vec!["https://portal.example", "http://127.0.0.1:8080"]
        );
        assert_eq!(w.allowed_parents(&[]), vec!["http://127.0.0.1:8080"]);
    }
}
