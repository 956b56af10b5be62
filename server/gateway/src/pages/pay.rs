//! The pay-by-link page, `GET /pay/{id}` on the gateway's public origin. The link the patient
//! received is `/pay/{id}#pcs_...`: the client secret stays in the fragment, which browsers
//! never send to a server; the page's script reads it, drops it from the address bar, and
//! mounts the card iframe (widget origin) with it. The page itself never holds card data.
//!
//! One use: a link whose payment finished (succeeded or failed), was cancelled or expired
//! (default 15 minutes, the payment's `timeout`) answers `410 Gone` with a page that says
//! why; the card endpoint answers `410 payment_link_used` as well.

use hushpay_vault::payment::{Payment, State, locale};

use super::PageAssets;
use crate::html::escape;

pub const SCRIPT: &str = "pay.js";
pub const STYLE: &str = "pay.css";
/// Where the page's script is served.
pub const SCRIPT_PATH: &str = "/pay/assets/pay.js";

/// The page's policy: its pinned script and stylesheet, frames from the widget origin only,
/// no network of its own, framed by nobody.
pub fn content_security_policy(assets: &PageAssets, widget_origin: &str) -> String {
    let script = assets
        .get(SCRIPT)
        .map_or("'none'".into(), |a| format!("'{}'", a.sri));
    let style = assets
        .get(STYLE)
        .map_or("'none'".into(), |a| format!("'{}'", a.sha256));
    format!(
        "default-src 'none'; script-src {script}; style-src {style}; frame-src {widget_origin}; \
         img-src 'none'; connect-src 'none'; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors 'none'"
    )
}

/// The policy of the 410 page: no script at all.
pub fn gone_policy(assets: &PageAssets) -> String {
    let style = assets
        .get(STYLE)
        .map_or("'none'".into(), |a| format!("'{}'", a.sha256));
    format!(
        "default-src 'none'; style-src {style}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// Why a link no longer opens, for a payment in a terminal state, in the payment's language
/// (the 410 page has no script, so its few strings are here rather than in the web SDK's
/// catalogues).
pub fn gone_reason(p: &Payment) -> Option<&'static str> {
    if locale::language(&p.locale) == "es" {
        return match p.state {
            State::Succeeded => Some("Este enlace de pago ya se usó: el pago está completo."),
            State::Failed => Some("Este enlace de pago ya se usó."),
            State::Cancelled => Some("Este enlace de pago fue cancelado."),
            State::Expired => Some("Este enlace de pago venció. Pida uno nuevo."),
            _ => None,
        };
    }
    match p.state {
        // An `authorize`-mode payment's card was accepted: whatever its backend did since.
        State::Succeeded
        | State::Authorized
        | State::Capturing
        | State::Captured
        | State::Voiding
        | State::Voided => {
            Some("This payment link has already been used: the payment is complete.")
        }
        State::Failed => Some("This payment link has already been used."),
        State::Cancelled => Some("This payment link was cancelled."),
        State::Expired => Some("This payment link has expired. Ask for a new one."),
        _ => None,
    }
}

/// The page for an open link, its `lang` the payment's locale: the script puts the
/// language's strings (web-sdk/src/i18n) in the marked elements and formats the amount and the
/// link's expiry for it.
pub fn render(assets: &PageAssets, p: &Payment, widget_origin: &str) -> String {
    let sri = assets
        .get(SCRIPT)
        .map(|a| a.sri.as_str())
        .unwrap_or_default();
    format!(
        r#"<!doctype html>
<html lang="{lang}" data-payment="{id}" data-tenant="{tenant}" data-widget-origin="{widget}" data-amount="{amount}" data-currency="{currency}" data-expires-at="{expires}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Pay {amount_text}</title>
<style>{style}</style>
<script src="{script_path}" integrity="{sri}" crossorigin="anonymous" defer></script>
</head>
<body>
<main class="hp-pay" aria-labelledby="title">
<h1 id="title"><span id="pay-word">Pay</span> <span id="amount">{amount_text}</span></h1>
<p class="hp-ref"><span id="reference-label">Reference:</span> <span id="reference">{reference}</span></p>
<div id="card" class="hp-card"></div>
<button id="pay" type="button" disabled><span id="pay-button-word">Pay</span> <span id="pay-amount">{amount_text}</span></button>
<p id="status" class="hp-status" role="status" aria-live="polite">Loading the secure card form…</p>
<p id="note" class="hp-note">Your card details go straight to the secure payment vault; this link works once.</p>
<p id="expires" class="hp-note"></p>
</main>
</body>
</html>
"#,
        lang = escape(&p.locale),
        id = escape(&p.id),
        tenant = escape(&p.tenant),
        widget = escape(widget_origin),
        amount = p.amount,
        currency = escape(&p.currency),
        expires = p.expires_at,
        amount_text = escape(&format!("{} {}", p.amount, p.currency)),
        reference = escape(&p.reference),
        style = assets.text(STYLE),
        script_path = SCRIPT_PATH,
    )
}

/// The 410 page, in `lang` (a payment's locale; `en` when there is no payment).
pub fn render_gone(assets: &PageAssets, reason: &str, lang: &str) -> String {
    let title = if locale::language(lang) == "es" {
        "Enlace de pago no disponible"
    } else {
        "Payment link unavailable"
    };
    format!(
        r#"<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<main class="hp-pay">
<h1>{title}</h1>
<p id="gone" role="alert">{reason}</p>
</main>
</body>
</html>
"#,
        style = assets.text(STYLE),
        reason = escape(reason),
        lang = escape(lang),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn assets() -> PageAssets {
        PageAssets::from_files(&[(SCRIPT, b"js"), (STYLE, b"main{}")])
    }

    #[test]
    fn the_policy_pins_the_script_and_frames_only_the_widget() {
        let a = assets();
        let csp = content_security_policy(&a, "https://elements.example");
        assert!(csp.contains(&format!("script-src '{}';", a.get(SCRIPT).unwrap().sri)));
        assert!(csp.contains("frame-src https://elements.example;"));
        assert!(csp.contains("connect-src 'none'"));
        assert!(csp.ends_with("frame-ancestors 'none'"));
        assert!(!csp.contains("unsafe"));
        assert!(!gone_policy(&a).contains("script-src"));
    }
}
