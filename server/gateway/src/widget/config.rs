//! `[widget]` configuration: the card iframe's own origin and where its built assets are.
//!
//! ```toml
//! [widget]
//! origin = "https://elements.pay.example"   # the iframe's origin (widget_origin)
//! assets_dir = "/usr/share/hushpay/frame"    # card-frame.js, card.wasm (npm run build)
//! pages_dir = "/usr/share/hushpay/pages"     # pay-by-link page and agent console scripts
//! portal_dir = "examples/patient-portal"     # the demo patient portal (development only)
//! ```
//!
//! The card iframe must live on an origin of its own, so that no page of the gateway's
//! public origin (the pay-by-link page, the console) can script it. The same gateway
//! serves both origins: requests for the iframe's files are answered only when their
//! `Host` is the widget origin's. In development, when `origin` is not set, the gateway's
//! own address under its other loopback name is used: `http://localhost:PORT` when the
//! public URL is `http://127.0.0.1:PORT`, and the reverse. Production requires an explicit
//! `https://` origin that differs from the public URL's.

use std::path::PathBuf;

use serde::Deserialize;

use crate::config_error::ConfigError;

/// Default location of the built iframe assets (relative to the working directory).
pub const DEFAULT_ASSETS_DIR: &str = "web-sdk/dist/frame";
/// Default location of the hosted pages' built scripts (pay-by-link, console).
pub const DEFAULT_PAGES_DIR: &str = "web-sdk/dist/pages";
/// Default location of the demo patient portal (served in development mode only).
pub const DEFAULT_PORTAL_DIR: &str = "examples/patient-portal";

/// `[widget]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWidget {
    pub origin: Option<String>,
    pub assets_dir: Option<PathBuf>,
    pub pages_dir: Option<PathBuf>,
    pub portal_dir: Option<PathBuf>,
}

/// The validated `[widget]` section.
#[derive(Debug, Clone)]
pub struct WidgetConfig {
    /// Set by the operator; otherwise derived from the public URL (see the module docs).
    pub origin: Option<String>,
    pub assets_dir: PathBuf,
    pub pages_dir: PathBuf,
    pub portal_dir: PathBuf,
}

impl RawWidget {
    pub fn validate(self) -> Result<WidgetConfig, ConfigError> {
        if let Some(origin) = &self.origin
            && !crate::tenants::valid_origin(origin)
        {
            return Err(ConfigError::Invalid {
                key: "widget.origin",
                reason: "must be http(s)://host[:port] with no path".into(),
            });
        }
        Ok(WidgetConfig {
            origin: self.origin,
            assets_dir: self
                .assets_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_ASSETS_DIR)),
            pages_dir: self
                .pages_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_PAGES_DIR)),
            portal_dir: self
                .portal_dir
                .unwrap_or_else(|| PathBuf::from(DEFAULT_PORTAL_DIR)),
        })
    }
}

impl WidgetConfig {
    /// The iframe's origin for a gateway whose public URL is `public_url`: the configured
    /// one, or the loopback alias in development; `None` when neither applies.
    pub fn origin_for(&self, public_url: &str) -> Option<String> {
        if let Some(o) = &self.origin {
            return Some(o.clone());
        }
        let public = origin_of(public_url);
        let swapped = if let Some(rest) = public.strip_prefix("http://127.0.0.1") {
            format!("http://localhost{rest}")
        } else if let Some(rest) = public.strip_prefix("http://localhost") {
            format!("http://127.0.0.1{rest}")
        } else {
            return None;
        };
        Some(swapped)
    }

    /// Why this section is not fit for production with `public_url`, if it is not.
    pub fn production_problem(&self, public_url: &str) -> Option<String> {
        match &self.origin {
            None => {
                Some("no widget.origin: the card iframe needs an https origin of its own".into())
            }
            Some(o) if !o.starts_with("https://") => {
                Some(format!("plain-HTTP widget.origin {o}: use https://"))
            }
            Some(o) if *o == origin_of(public_url) => Some(
                "widget.origin equals the public URL's origin: the card iframe needs its own"
                    .into(),
            ),
            Some(_) => None,
        }
    }
}

/// `scheme://host[:port]` of a URL (the part before the first path slash).
pub fn origin_of(url: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    url[..end].to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn cfg(origin: Option<&str>) -> WidgetConfig {
        RawWidget {
            origin: origin.map(Into::into),
            ..RawWidget::default()
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn development_uses_the_other_loopback_name() {
        let c = cfg(None);
        assert_eq!(
            c.origin_for("http://127.0.0.1:8080").as_deref(),
            Some("http://localhost:8080")
        );
        assert_eq!(
            c.origin_for("http://localhost:9/x").as_deref(),
            Some("http://127.0.0.1:9")
        );
        assert_eq!(c.origin_for("https://pay.example"), None);
        assert_eq!(
            cfg(Some("https://elements.example"))
                .origin_for("https://pay.example")
                .as_deref(),
            Some("https://elements.example")
        );
    }

    #[test]
    fn bad_origins_and_production_problems() {
        let bad = RawWidget {
            origin: Some("https://x.example/path".into()),
            ..RawWidget::default()
        };
        assert!(bad.validate().is_err());
        let url = "https://pay.example";
        assert!(cfg(None).production_problem(url).is_some());
        assert!(
            cfg(Some("http://e.example"))
                .production_problem(url)
                .is_some()
        );
        assert!(
            cfg(Some("https://pay.example"))
                .production_problem(url)
                .is_some()
        );
        assert!(
            cfg(Some("https://e.pay.example"))
                .production_problem(url)
                .is_none()
        );
        assert_eq!(origin_of("https://pay.example/a?b"), "https://pay.example");
    }
}
