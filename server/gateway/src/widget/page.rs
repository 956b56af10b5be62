//! The card iframe's HTML page and its Content-Security-Policy (SECURITY.md invariant 11).
//!
//! The page carries no inline script: its one script is loaded with `integrity`, and the
//! CSP allows exactly that hash. Configuration for the script (tenant, the parent's exact
//! origin, where the `.wasm` is and its hash) travels in `data-` attributes of `<html>`.
//! The inputs are real `<input>`s in one form so that browser autofill works.

use super::assets::FrameAssets;
use crate::html::escape;

/// Path of the iframe page; `?tenant=ten_...&origin=<parent origin>`.
pub const PAGE_PATH: &str = "/elements/v1/card";
pub const SCRIPT_PATH: &str = "/elements/v1/card-frame.js";
pub const WASM_PATH: &str = "/elements/v1/card.wasm";

/// What one page render needs.
#[derive(Debug)]
pub struct PageInput<'a> {
    pub assets: &'a FrameAssets,
    pub tenant: &'a str,
    /// The parent page's origin (already checked against the allowlist).
    pub parent_origin: &'a str,
    /// The iframe's own origin: the only `connect-src`.
    pub widget_origin: &'a str,
    /// Every origin allowed to frame the page.
    pub frame_ancestors: &'a [String],
    /// The page's `lang`: a normalised locale of a supported language (the script puts that
    /// language's strings in the page).
    pub lang: &'a str,
}

/// The strict policy: nothing but the pinned script, wasm compilation, the pinned
/// stylesheet and requests to the gateway; framed only by the tenant's allowed origins.
pub fn content_security_policy(p: &PageInput<'_>) -> String {
    format!(
        "default-src 'none'; script-src '{script}' 'wasm-unsafe-eval'; style-src '{style}'; \
         connect-src {origin}; frame-src {origin}; img-src 'none'; font-src 'none'; object-src 'none'; \
         base-uri 'none'; form-action 'none'; frame-ancestors {ancestors}",
        script = p.assets.script_sri,
        style = p.assets.style_hash,
        origin = p.widget_origin,
        ancestors = frame_ancestors(p.frame_ancestors),
    )
}

/// `frame-ancestors` for a tenant; `'none'` when it allows no origin.
pub fn frame_ancestors(origins: &[String]) -> String {
    if origins.is_empty() {
        "'none'".into()
    } else {
        origins.join(" ")
    }
}

/// The page itself.
pub fn render(p: &PageInput<'_>) -> String {
    format!(
        r#"<!doctype html>
<html lang="{lang}" data-tenant="{tenant}" data-parent-origin="{parent}" data-wasm="{wasm_path}" data-wasm-integrity="{wasm_sri}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Card details</title>
<style>{style}</style>
<script src="{script_path}" integrity="{script_sri}" crossorigin="anonymous" defer></script>
</head>
<body>
<form id="card-form" novalidate>
<fieldset id="fields" disabled>
<legend class="hp-visually-hidden">Card details</legend>
<div class="hp-field" data-field="number">
<label for="number">Card number</label>
<div class="hp-input-wrap">
<input id="number" name="cardnumber" type="text" autocomplete="cc-number" inputmode="numeric" autocorrect="off" autocapitalize="off" spellcheck="false" aria-required="true" aria-invalid="false" aria-describedby="number-error" placeholder="1234 1234 1234 1234">
<span id="brand" class="hp-brand" aria-hidden="true"></span>
</div>
<p id="number-error" class="hp-error" aria-live="polite"></p>
</div>
<div class="hp-row">
<div class="hp-field" data-field="expiry">
<label for="expiry">Expiry date</label>
<input id="expiry" name="exp-date" type="text" autocomplete="cc-exp" inputmode="numeric" autocorrect="off" spellcheck="false" aria-required="true" aria-invalid="false" aria-describedby="expiry-hint expiry-error" placeholder="MM / YY">
<span id="expiry-hint" class="hp-visually-hidden">Month and year, as on the card</span>
<p id="expiry-error" class="hp-error" aria-live="polite"></p>
</div>
<div class="hp-field" data-field="cvc">
<label for="cvc">Security code</label>
<input id="cvc" name="cvc" type="text" autocomplete="cc-csc" inputmode="numeric" autocorrect="off" spellcheck="false" aria-required="true" aria-invalid="false" aria-describedby="cvc-hint cvc-error" placeholder="CVC">
<span id="cvc-hint" class="hp-visually-hidden">3 digits on the back of the card, 4 on the front for American Express</span>
<p id="cvc-error" class="hp-error" aria-live="polite"></p>
</div>
</div>
<div class="hp-field" data-field="postalCode">
<label for="postalCode">Postal code</label>
<input id="postalCode" name="postal" type="text" autocomplete="postal-code" autocorrect="off" spellcheck="false" aria-required="true" aria-invalid="false" aria-describedby="postalCode-error" placeholder="ZIP / postal code">
<p id="postalCode-error" class="hp-error" aria-live="polite"></p>
</div>
<p id="form-error" class="hp-error" role="alert"></p>
<p id="form-status" class="hp-visually-hidden" role="status"></p>
</fieldset>
</form>
</body>
</html>
"#,
        lang = escape(p.lang),
        tenant = escape(p.tenant),
        parent = escape(p.parent_origin),
        wasm_path = WASM_PATH,
        wasm_sri = p.assets.wasm_sri,
        style = p.assets.style,
        script_path = SCRIPT_PATH,
        script_sri = p.assets.script_sri,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn assets() -> FrameAssets {
        FrameAssets::from_parts(
            Bytes::from_static(b"js"),
            Bytes::from_static(b"wasm"),
            "form{margin:0}".into(),
        )
    }

    #[test]
    fn csp_is_strict_and_pins_the_assets() {
        let a = assets();
        let ancestors = vec![
            "https://portal.example".to_owned(),
            "http://127.0.0.1:3000".into(),
        ];
        let input = PageInput {
            assets: &a,
            tenant: "ten_abc",
            parent_origin: "https://portal.example",
            widget_origin: "https://elements.example",
            frame_ancestors: &ancestors,
            lang: "en",
        };
        let csp = content_security_policy(&input);
        assert!(csp.starts_with("default-src 'none'; "));
        assert!(csp.contains(&format!(
            "script-src '{}' 'wasm-unsafe-eval';",
            a.script_sri
        )));
        assert!(csp.contains(&format!("style-src '{}';", a.style_hash)));
        assert!(csp.contains("connect-src https://elements.example;"));
        // The 3-D Secure challenge (the sandbox issuer) is framed from the widget origin only.
        assert!(csp.contains("frame-src https://elements.example;"));
        assert!(csp.contains("object-src 'none'"));
        assert!(csp.ends_with("frame-ancestors https://portal.example http://127.0.0.1:3000"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'self'"));
        assert_eq!(frame_ancestors(&[]), "'none'");
        let html = render(&input);
        assert!(html.contains(&format!("integrity=\"{}\"", a.script_sri)));
        assert!(html.contains(&format!("data-wasm-integrity=\"{}\"", a.wasm_sri)));
        assert!(html.contains("<style>form{margin:0}</style>"));
        for ac in ["cc-number", "cc-exp", "cc-csc", "postal-code"] {
            assert!(html.contains(&format!("autocomplete=\"{ac}\"")), "{ac}");
        }
        assert_eq!(html.matches("inputmode=\"numeric\"").count(), 3);
        assert_eq!(html.matches("<script").count(), 1, "no inline script");
    }
}
