//! `hushpay doctor`: checks a configuration without starting the gateway, and says what to
//! fix. Nothing is created, generated, migrated or served: key files are read, the store's
//! schema version is read, NATS, TURN and STUN are asked once, ports are bound and released.
//!
//! Each check adds [`Finding`]s to a [`Report`]: `ok`, `warn` (works, but worth a look; a
//! development shortcut) or `FIX` (the gateway would fail to start or to serve). The command
//! exits 0 when nothing must be fixed, 1 otherwise. Messages name files, hosts and ports,
//! never a key or a secret.

mod keys;
mod network;
mod urls;

use std::fmt::Write as _;
use std::path::Path;

use crate::config::{Config, ConfigError, Mode, RawConfig};

/// How a finding weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Ok,
    Warn,
    Fix,
}

/// One line of the report: what was checked and what was found (with the fix, when one is
/// needed).
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    pub subject: String,
    pub message: String,
}

/// Every finding of one run, in the order checked.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    fn add(&mut self, level: Level, subject: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            level,
            subject: subject.to_owned(),
            message: message.into(),
        });
    }

    pub fn ok(&mut self, subject: &str, message: impl Into<String>) {
        self.add(Level::Ok, subject, message);
    }

    pub fn warn(&mut self, subject: &str, message: impl Into<String>) {
        self.add(Level::Warn, subject, message);
    }

    pub fn fix(&mut self, subject: &str, message: impl Into<String>) {
        self.add(Level::Fix, subject, message);
    }

    /// A warning in development, something to fix in production.
    pub fn fix_in_production(&mut self, mode: Mode, subject: &str, message: impl Into<String>) {
        match mode {
            Mode::Production => self.fix(subject, message),
            Mode::Development => self.warn(subject, message),
        }
    }

    fn count(&self, level: Level) -> usize {
        self.findings.iter().filter(|f| f.level == level).count()
    }

    /// Findings that must be fixed.
    pub fn to_fix(&self) -> usize {
        self.count(Level::Fix)
    }

    pub fn warnings(&self) -> usize {
        self.count(Level::Warn)
    }

    /// The report as printed: one finding a line, then the tally.
    pub fn render(&self) -> String {
        let width = self
            .findings
            .iter()
            .map(|f| f.subject.len())
            .max()
            .unwrap_or(0);
        let mut out = String::new();
        for f in &self.findings {
            let tag = match f.level {
                Level::Ok => "ok  ",
                Level::Warn => "warn",
                Level::Fix => "FIX ",
            };
            let _ = writeln!(out, "  {tag}  {:width$}  {}", f.subject, f.message);
        }
        let _ = writeln!(
            out,
            "{} to fix, {} warning{}",
            self.to_fix(),
            self.warnings(),
            if self.warnings() == 1 { "" } else { "s" }
        );
        out
    }
}

/// Loads the configuration as `serve` would and checks it. A configuration that does not
/// load or validate is the one finding.
pub async fn run(path: Option<&Path>, env: impl IntoIterator<Item = (String, String)>) -> Report {
    let mut report = Report::default();
    let source = path.map_or_else(
        || "embedded defaults and HUSHPAY__ variables".to_owned(),
        |p| p.display().to_string(),
    );
    let config = match RawConfig::load(path, env).and_then(RawConfig::validate) {
        Ok(config) => config,
        Err(e) => {
            report.fix("config", config_fix(&e));
            return report;
        }
    };
    report.ok(
        "config",
        format!("{source}: valid ({} mode)", mode_name(config.mode)),
    );
    check(&config, &mut report).await;
    report
}

/// Every check of a valid configuration.
pub async fn check(config: &Config, report: &mut Report) {
    keys::check(config, report);
    urls::check(config, report);
    network::store(config, report).await;
    network::nats(config, report).await;
    network::turn(config, report).await;
    network::stun(config, report).await;
    network::ports(config, report);
}

fn config_fix(e: &ConfigError) -> String {
    match e {
        ConfigError::Read { .. } => format!("{e}: check the path and its permissions"),
        ConfigError::Production(_) => {
            format!("{e} (README \"Configuration\" and \"Deploying\")")
        }
        _ => format!("{e} (README \"Configuration\" lists every key)"),
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Development => "development",
        Mode::Production => "production",
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_report_counts_and_renders_each_level() {
        let mut r = Report::default();
        r.ok("config", "valid");
        r.warn("store", "two pending migrations");
        r.fix_in_production(Mode::Production, "rtc.udp_port", "in use");
        r.fix_in_production(Mode::Development, "rtc.tcp_port", "in use");
        assert_eq!((r.to_fix(), r.warnings()), (1, 2));
        let text = r.render();
        assert!(text.contains("  FIX   rtc.udp_port  in use"), "{text}");
        assert!(text.contains("  warn  store         two pending"), "{text}");
        assert!(text.ends_with("1 to fix, 2 warnings\n"), "{text}");
    }

    #[tokio::test]
    async fn a_config_that_does_not_validate_is_the_one_finding() {
        let r = run(None, [("HUSHPAY__AUTH__LEEWAY_SECS".into(), "60".into())]).await;
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.to_fix(), 1);
        assert!(r.findings[0].message.contains("auth.leeway_secs"), "{r:?}");
    }

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn postgres_across_the_network_without_tls_is_to_fix_in_production() {
        // 0.0.0.0 is no loopback address; on Linux a connection to it reaches this machine,
        // where port 1 refuses at once
        let store = ("HUSHPAY__STORE", "postgres://hp:pw@0.0.0.0:1/hushpay");
        let production: Vec<_> = crate::config::PRODUCTION_ENV
            .into_iter()
            .chain([store])
            .collect();
        let r = run(None, vars(&production)).await;
        assert_eq!((r.findings.len(), r.to_fix()), (1, 1), "{r:?}");
        let text = &r.findings[0].message;
        assert!(
            text.contains("without TLS") && text.contains("sslmode=verify-full"),
            "{text}"
        );
        assert!(text.contains("Deploying") && !text.contains("pw"), "{text}");

        let r = run(None, vars(&[store])).await;
        let warned = r
            .findings
            .iter()
            .find(|f| f.message.contains("without TLS"));
        assert_eq!(warned.map(|f| f.level), Some(Level::Warn), "{r:?}");
    }
}
