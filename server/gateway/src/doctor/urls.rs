//! The addresses browsers use: `server.public_url` (parsed with the WHATWG parser), the card
//! iframe's origin beside it, and the built web assets the gateway serves.

use std::net::IpAddr;

use url::{Host, Url};

use super::Report;
use crate::config::{Config, Mode};
use crate::widget::config::origin_of;

pub(super) fn check(config: &Config, report: &mut Report) {
    public_url(config, report);
    widget_origin(config, report);
    assets(config, report);
}

fn public_url(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "server.public_url";
    let raw = &config.public_url;
    let url = match Url::parse(raw) {
        Ok(url) => url,
        Err(e) => {
            report.fix(
                SUBJECT,
                format!("`{raw}` is not a URL ({e}): write https://HOST[:PORT]"),
            );
            return;
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        report.fix(SUBJECT, "carries credentials (user@): remove them");
        return;
    }
    if url.query().is_some() || url.fragment().is_some() {
        report.fix(
            SUBJECT,
            format!("`{raw}` has a query or fragment: write https://HOST[:PORT]"),
        );
        return;
    }
    let Some(host) = url.host() else {
        report.fix(SUBJECT, format!("`{raw}` has no host"));
        return;
    };
    let ip = match &host {
        Host::Ipv4(a) => Some(IpAddr::V4(*a)),
        Host::Ipv6(a) => Some(IpAddr::V6(*a)),
        Host::Domain(_) => None,
    };
    if ip.is_some_and(|ip| ip.is_unspecified()) {
        report.fix(
            SUBJECT,
            format!(
                "`{raw}`: browsers cannot reach an unspecified address; name the host they use"
            ),
        );
        return;
    }
    let loopback = ip.is_some_and(|ip| ip.is_loopback())
        || matches!(&host, Host::Domain(d) if *d == "localhost");
    if url.path() != "/" {
        report.warn(
            SUBJECT,
            format!(
                "`{raw}` has a path: the gateway serves from the root of its origin (links, \
                 the console and the iframe's frame-ancestors use the origin)"
            ),
        );
    }
    match (config.mode, url.scheme(), loopback) {
        (Mode::Production, _, true) => report.warn(
            SUBJECT,
            format!("`{raw}` is a loopback address: browsers on other machines cannot reach it"),
        ),
        (Mode::Development, "http", false) => report.warn(
            SUBJECT,
            format!("`{raw}`: plain HTTP beyond this machine (production requires https://)"),
        ),
        _ => report.ok(SUBJECT, raw.to_owned()),
    }
}

fn widget_origin(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "widget.origin";
    let public = origin_of(&config.public_url);
    match config.widget.origin_for(&config.public_url) {
        None => report.fix_in_production(
            config.mode,
            SUBJECT,
            "not set: the card iframe is unavailable; set an origin of its own \
             (e.g. https://elements.pay.example, served by this gateway)",
        ),
        Some(origin) if origin == public => report.fix_in_production(
            config.mode,
            SUBJECT,
            format!("{origin} is the public URL's origin: the card iframe needs its own"),
        ),
        Some(origin) => match Url::parse(&origin) {
            Ok(u) if u.host() == Url::parse(&public).ok().as_ref().and_then(Url::host) => {
                report.warn(
                    SUBJECT,
                    format!(
                        "{origin} shares its host with the public URL (only the port differs): \
                         a host name of its own keeps the iframe's origin apart behind proxies"
                    ),
                );
            }
            Ok(_) => report.ok(SUBJECT, origin),
            Err(e) => report.fix(SUBJECT, format!("`{origin}` is not a URL ({e})")),
        },
    }
}

/// The card iframe (wasm, script) and the hosted pages, as `npm run build` leaves them.
fn assets(config: &Config, report: &mut Report) {
    let w = &config.widget;
    for (subject, dir, files) in [
        (
            "widget.assets_dir",
            &w.assets_dir,
            &["card.wasm", "card-frame.js", "card-frame.css"][..],
        ),
        (
            "widget.pages_dir",
            &w.pages_dir,
            &["pay.js", "console.js"][..],
        ),
    ] {
        let missing: Vec<&str> = files
            .iter()
            .copied()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if missing.is_empty() {
            report.ok(subject, dir.display().to_string());
        } else {
            report.fix_in_production(
                config.mode,
                subject,
                format!(
                    "{} lacks {}: build the web assets (`npm run build`) or point it at them",
                    dir.display(),
                    missing.join(", ")
                ),
            );
        }
    }
}
