//! Configuration: a TOML file, then `HUSHPAY__SECTION__KEY` environment overrides, then one
//! [`RawConfig::validate`] that produces the [`Config`] the program uses.
//!
//! Raw and validated forms are separate types (ripgrep's pattern): nothing downstream sees an
//! unchecked value, and production mode refuses unsafe settings in one place. Each section's
//! `validate` lives beside the code it configures and returns a
//! [`ConfigError`](crate::config_error::ConfigError) from its own module, so no section imports
//! this file, which imports them all.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

pub use crate::config_error::ConfigError;

/// Development (generated keys, demo tenant, HS256 allowed) or production (none of those).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Development,
    Production,
}

/// Signing algorithm for participant tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
pub enum Algorithm {
    #[default]
    EdDSA,
    HS256,
}

/// The configuration exactly as written: every field optional or defaulted.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub mode: Mode,
    pub data_dir: Option<PathBuf>,
    /// `sqlite` (the file `hushpay.db` in the data dir), `sqlite:PATH`, `memory`, or a
    /// PostgreSQL URL (`postgres://user@host:port/db`).
    pub store: Option<String>,
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub auth: RawAuth,
    #[serde(default)]
    pub demo: RawDemo,
    /// The SFU (`[rtc]`): media bind address and limits.
    #[serde(default)]
    pub rtc: crate::sfu::limits::RawRtc,
    /// TURN servers handed to participants (`[turn]`, crate::ice::turn).
    #[serde(default)]
    pub turn: crate::ice::turn::RawTurn,
    /// The vault's keys (`[vault]`).
    #[serde(default)]
    pub vault: crate::vault::config::RawVault,
    /// Payment sessions (`[payments]`): the processor connector.
    #[serde(default)]
    pub payments: crate::payments::config::RawPayments,
    /// Webhook deliveries (`[webhooks]`).
    #[serde(default)]
    pub webhooks: crate::webhooks::config::RawWebhooks,
    /// The card iframe (`[widget]`): its origin and assets.
    #[serde(default)]
    pub widget: crate::widget::config::RawWidget,
    /// The automated IVR (`[ivr]`): prompts and timing.
    #[serde(default)]
    pub ivr: crate::ivr::config::RawIvr,
    /// Call recording (`[recording]`).
    #[serde(default)]
    pub recording: crate::recording::config::RawRecording,
    /// One node of a cluster (`[cluster]`, crate::cluster); absent: a single node.
    #[serde(default)]
    pub cluster: crate::cluster::config::RawCluster,
    /// SIP trunk ingress (off unless `sip.listen` is set).
    #[serde(default)]
    pub sip: crate::sip::config::RawSip,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<SocketAddr>,
    /// The URL browsers and tenant backends use to reach this gateway.
    pub public_url: Option<String>,
    pub body_limit_bytes: Option<usize>,
    /// `/metrics` on a listener of its own (`crate::metrics_access`).
    pub metrics_listen: Option<SocketAddr>,
    /// A file whose first line is the bearer token `/metrics` asks for.
    pub metrics_token_file: Option<PathBuf>,
    /// On SIGTERM the gateway takes no new rooms and waits this long at most for its calls
    /// to end before it exits (`/readyz` answers 503 from the signal on). Default 3600.
    pub drain_timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub algorithm: Option<Algorithm>,
    /// PKCS#8 PEM Ed25519 key. Generated in development mode when absent.
    pub signing_key_file: Option<PathBuf>,
    /// HS256 secret (development only).
    pub hs256_secret: Option<String>,
    pub default_ttl_secs: Option<u64>,
    pub max_ttl_secs: Option<u64>,
    pub leeway_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDemo {
    /// Create the demo tenant on first start (development mode only; default true there).
    pub tenant: Option<bool>,
}

/// Where records live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Memory,
    /// A PostgreSQL server (its `Debug` never shows a password). Boxed: the parsed URL is
    /// large next to a path.
    Postgres(Box<hushpay_store::PgUrl>),
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub mode: Mode,
    pub data_dir: PathBuf,
    pub store: StoreLocation,
    pub listen: SocketAddr,
    pub public_url: String,
    pub body_limit_bytes: usize,
    /// Who may read `/metrics`.
    pub metrics: crate::metrics_access::MetricsAccess,
    pub auth: AuthConfig,
    pub demo_tenant: bool,
    pub sfu: crate::sfu::limits::SfuConfig,
    pub vault: crate::vault::config::VaultConfig,
    pub connector: crate::payments::config::ConnectorConfig,
    pub webhooks: crate::webhooks::config::WebhookConfig,
    pub widget: crate::widget::config::WidgetConfig,
    pub ivr: crate::ivr::config::IvrConfig,
    pub recording: crate::recording::config::RecordingConfig,
    /// `Some` on a node of a cluster.
    pub cluster: Option<crate::cluster::config::ClusterConfig>,
    /// SIP trunk ingress, when configured.
    pub sip: Option<crate::sip::config::SipSettings>,
    /// How long a drain (SIGTERM) waits for the node's calls to end.
    pub drain_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub issuer: String,
    pub audience: String,
    pub algorithm: Algorithm,
    pub signing_key_file: PathBuf,
    /// True when the key file path was chosen by the operator (not the generated default).
    pub signing_key_configured: bool,
    pub hs256_secret: Option<String>,
    pub default_ttl: Duration,
    pub max_ttl: Duration,
    pub leeway_secs: u64,
}

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./hushpay-data";
const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
const ENV_PREFIX: &str = "HUSHPAY__";

impl RawConfig {
    /// Reads `path` (if any), applies environment overrides from `env`, and parses.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut table = match path {
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|source| ConfigError::Read {
                    path: p.to_owned(),
                    source,
                })?;
                text.parse::<toml::Table>()
                    .map_err(|e| ConfigError::Parse(e.to_string()))?
            }
            None => toml::Table::new(),
        };
        apply_env(&mut table, env)?;
        toml::Value::Table(table)
            .try_into()
            .map_err(|e: toml::de::Error| ConfigError::Parse(e.to_string()))
    }

    /// Checks every value and derives defaults. Production refuses development shortcuts.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let data_dir = self
            .data_dir
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let store = parse_store(self.store.as_deref(), &data_dir)?;
        let listen = match self.server.listen {
            Some(a) => a,
            None => DEFAULT_LISTEN
                .parse()
                .map_err(|e| ConfigError::Parse(format!("{e}")))?,
        };
        let public_url = self
            .server
            .public_url
            .unwrap_or_else(|| format!("http://{listen}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError::Invalid {
                key: "server.public_url",
                reason: "must start with http:// or https://".into(),
            });
        }
        let body_limit_bytes = self.server.body_limit_bytes.unwrap_or(DEFAULT_BODY_LIMIT);
        if !(1024..=16 * 1024 * 1024).contains(&body_limit_bytes) {
            return Err(ConfigError::Invalid {
                key: "server.body_limit_bytes",
                reason: "must be between 1 KiB and 16 MiB".into(),
            });
        }
        let metrics = crate::metrics_access::MetricsAccess::validate(
            self.server.metrics_listen,
            self.server.metrics_token_file,
        )?;
        let auth = validate_auth(self.auth, &data_dir)?;
        let mut sfu = self.rtc.validate()?;
        // A development gateway beside another (tests, a second checkout) takes any free port
        // when `rtc.udp_port` is taken; production refuses to start instead.
        sfu.udp_port_fallback = self.mode == Mode::Development;
        sfu.turn = self.turn.validate()?;
        let vault = self.vault.validate(&data_dir)?;
        let connector = self.payments.validate()?;
        let webhooks = self.webhooks.validate()?;
        let widget = self.widget.validate()?;
        let ivr = self.ivr.validate()?;
        let recording = self.recording.validate(&data_dir)?;
        let cluster = self.cluster.validate(&public_url)?;
        let sip = self.sip.validate()?;
        if cluster.is_some() && !matches!(store, StoreLocation::Postgres(_)) {
            return Err(ConfigError::Invalid {
                key: "cluster",
                reason: "the nodes of a cluster share one PostgreSQL store: set `store` to its URL"
                    .into(),
            });
        }
        let drain_timeout = Duration::from_secs(self.server.drain_timeout_secs.unwrap_or(3600));
        if drain_timeout > Duration::from_secs(24 * 3600) {
            return Err(ConfigError::Invalid {
                key: "server.drain_timeout_secs",
                reason: "at most 86400 (one day)".into(),
            });
        }
        let config = Config {
            mode: self.mode,
            demo_tenant: self.demo.tenant.unwrap_or(self.mode == Mode::Development),
            data_dir,
            store,
            listen,
            public_url,
            body_limit_bytes,
            metrics,
            auth,
            sfu,
            vault,
            connector,
            webhooks,
            widget,
            ivr,
            recording,
            cluster,
            sip,
            drain_timeout,
        };
        if config.mode == Mode::Production {
            refuse_unsafe_production(&config)?;
        }
        Ok(config)
    }
}

fn validate_auth(raw: RawAuth, data_dir: &Path) -> Result<AuthConfig, ConfigError> {
    let default_ttl = Duration::from_secs(raw.default_ttl_secs.unwrap_or(600));
    let max_ttl = Duration::from_secs(raw.max_ttl_secs.unwrap_or(3600));
    if default_ttl.is_zero() || default_ttl > max_ttl {
        return Err(ConfigError::Invalid {
            key: "auth.default_ttl_secs",
            reason: "must be positive and at most auth.max_ttl_secs".into(),
        });
    }
    if max_ttl > Duration::from_secs(24 * 3600) {
        return Err(ConfigError::Invalid {
            key: "auth.max_ttl_secs",
            reason: "at most 86400 (one day)".into(),
        });
    }
    let leeway_secs = raw.leeway_secs.unwrap_or(5);
    if leeway_secs > 5 {
        return Err(ConfigError::Invalid {
            key: "auth.leeway_secs",
            reason: "at most 5 seconds".into(),
        });
    }
    let algorithm = raw.algorithm.unwrap_or_default();
    if algorithm == Algorithm::HS256 && raw.hs256_secret.as_ref().is_none_or(|s| s.len() < 32) {
        return Err(ConfigError::Invalid {
            key: "auth.hs256_secret",
            reason: "HS256 needs a secret of at least 32 bytes".into(),
        });
    }
    let signing_key_configured = raw.signing_key_file.is_some();
    Ok(AuthConfig {
        issuer: non_empty(raw.issuer, "hushpay", "auth.issuer")?,
        audience: non_empty(raw.audience, "hushpay", "auth.audience")?,
        algorithm,
        signing_key_file: raw
            .signing_key_file
            .unwrap_or_else(|| data_dir.join("keys").join("dev-signing-key.pem")),
        signing_key_configured,
        hs256_secret: raw.hs256_secret,
        default_ttl,
        max_ttl,
        leeway_secs,
    })
}

fn non_empty(v: Option<String>, default: &str, key: &'static str) -> Result<String, ConfigError> {
    let v = v.unwrap_or_else(|| default.to_owned());
    if v.trim().is_empty() || v.len() > 256 {
        return Err(ConfigError::Invalid {
            key,
            reason: "1 to 256 characters".into(),
        });
    }
    Ok(v)
}

fn parse_store(raw: Option<&str>, data_dir: &Path) -> Result<StoreLocation, ConfigError> {
    match raw.unwrap_or("sqlite") {
        "sqlite" => Ok(StoreLocation::Sqlite(data_dir.join("hushpay.db"))),
        "memory" => Ok(StoreLocation::Memory),
        url if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            hushpay_store::PgUrl::parse(url)
                .map(|url| StoreLocation::Postgres(Box::new(url)))
                .map_err(|e| ConfigError::Invalid {
                    key: "store",
                    reason: e.to_string(),
                })
        }
        other => match other.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() => Ok(StoreLocation::Sqlite(PathBuf::from(path))),
            _ => Err(ConfigError::Invalid {
                key: "store",
                reason: format!(
                    "expected `sqlite`, `sqlite:PATH`, `memory` or `postgres://...`, got `{other}`"
                ),
            }),
        },
    }
}

fn refuse_unsafe_production(c: &Config) -> Result<(), ConfigError> {
    if c.auth.algorithm == Algorithm::HS256 {
        return Err(ConfigError::Production("HS256 tokens (use EdDSA)".into()));
    }
    if !c.auth.signing_key_configured {
        return Err(ConfigError::Production(
            "generated development signing keys: set auth.signing_key_file".into(),
        ));
    }
    if !c.public_url.starts_with("https://") {
        return Err(ConfigError::Production(format!(
            "plain-HTTP public URL {}: set server.public_url to https://",
            c.public_url
        )));
    }
    if let Some(problem) = c.sfu.turn.production_problem() {
        return Err(ConfigError::Production(problem));
    }
    if let Some(problem) = c.vault.production_problem() {
        return Err(ConfigError::Production(problem));
    }
    if let Some(problem) = c.widget.production_problem(&c.public_url) {
        return Err(ConfigError::Production(problem));
    }
    if c.store == StoreLocation::Memory {
        return Err(ConfigError::Production(
            "the in-memory store loses every record".into(),
        ));
    }
    if let StoreLocation::Postgres(url) = &c.store
        && let Some(problem) = crate::store_tls::plaintext_problem(url)
    {
        return Err(ConfigError::Production(problem));
    }
    if c.metrics.is_open() {
        return Err(ConfigError::Production(
            "/metrics open to anyone (all tenants' counters): set server.metrics_listen or \
             server.metrics_token_file"
                .into(),
        ));
    }
    if c.webhooks.danger_allow_private_webhook_targets {
        return Err(ConfigError::Production(
            "webhooks.danger_allow_private_webhook_targets (internal webhook targets)".into(),
        ));
    }
    Ok(())
}

/// Applies `HUSHPAY__SECTION__KEY=value` overrides. Values parse as TOML (numbers, booleans,
/// arrays) and fall back to plain strings.
fn apply_env(
    table: &mut toml::Table,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    for (var, value) in env {
        let Some(path) = var.strip_prefix(ENV_PREFIX) else {
            continue;
        };
        let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
        if keys.iter().any(String::is_empty) {
            return Err(ConfigError::Env {
                var,
                reason: "empty section or key".into(),
            });
        }
        let parsed = format!("v = {value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or(toml::Value::String(value));
        let (last, sections) = keys.split_last().ok_or_else(|| ConfigError::Env {
            var: var.clone(),
            reason: "no key".into(),
        })?;
        let mut node = &mut *table;
        for section in sections {
            let entry = node
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            node = entry.as_table_mut().ok_or_else(|| ConfigError::Env {
                var: var.clone(),
                reason: format!("`{section}` is not a section"),
            })?;
        }
        node.insert(last.clone(), parsed);
    }
    Ok(())
}

/// Environment of a production configuration that passes every production check (the
/// mode first): for tests of one more setting.
#[cfg(test)]
pub(crate) const PRODUCTION_ENV: [(&str, &str); 7] = [
    ("HUSHPAY__MODE", "production"),
    ("HUSHPAY__SERVER__PUBLIC_URL", "https://pay.example"),
    ("HUSHPAY__AUTH__SIGNING_KEY_FILE", "/etc/hushpay/key.pem"),
    ("HUSHPAY__VAULT__KEK_FILE", "/etc/hushpay/kek"),
    (
        "HUSHPAY__VAULT__HPKE_KEY_FILE",
        "/etc/hushpay/vault-hpke.key",
    ),
    ("HUSHPAY__WIDGET__ORIGIN", "https://elements.pay.example"),
    ("HUSHPAY__SERVER__METRICS_LISTEN", "127.0.0.1:9464"),
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn load_str(text: &str, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hushpay.toml");
        std::fs::write(&path, text).unwrap();
        RawConfig::load(Some(&path), env(vars))?.validate()
    }

    #[test]
    fn defaults_are_development_on_loopback() {
        let c = RawConfig::load(None, env(&[])).unwrap().validate().unwrap();
        assert_eq!(c.mode, Mode::Development);
        assert_eq!(c.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(
            c.store,
            StoreLocation::Sqlite(PathBuf::from("./hushpay-data/hushpay.db"))
        );
        assert_eq!(c.auth.default_ttl, Duration::from_secs(600));
        assert!(c.demo_tenant);
    }

    #[test]
    fn environment_overrides_the_file() {
        let c = load_str(
            "[server]\nlisten = \"127.0.0.1:9000\"\n[auth]\nissuer = \"file\"\n",
            &[
                ("HUSHPAY__SERVER__LISTEN", "127.0.0.1:9001"),
                ("HUSHPAY__AUTH__DEFAULT_TTL_SECS", "120"),
                ("HUSHPAY__STORE", "memory"),
                ("UNRELATED", "x"),
            ],
        )
        .unwrap();
        assert_eq!(c.listen.port(), 9001);
        assert_eq!(c.auth.issuer, "file");
        assert_eq!(c.auth.default_ttl, Duration::from_secs(120));
        assert_eq!(c.store, StoreLocation::Memory);
    }

    #[test]
    fn a_postgres_url_selects_postgresql_and_never_shows_its_password() {
        let c = load_str("store = \"postgres://hp:s3cret@127.0.0.1:5432/test\"", &[]).unwrap();
        let StoreLocation::Postgres(url) = &c.store else {
            panic!("expected PostgreSQL, got {:?}", c.store);
        };
        assert_eq!(url.to_string(), "postgres://hp@127.0.0.1:5432/test");
        assert!(!format!("{c:?}").contains("s3cret"));
        let env_url = "postgresql://postgres@127.0.0.1/test?options=-csearch_path%3Dx";
        let c = load_str("", &[("HUSHPAY__STORE", env_url)]).unwrap();
        assert!(matches!(c.store, StoreLocation::Postgres(_)));
        let err = load_str("store = \"postgres://a:pw@h:port/db\"", &[]).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { key: "store", .. }),
            "{err}"
        );
        assert!(!err.to_string().contains("pw@"), "{err}");
    }

    #[test]
    fn unknown_keys_and_bad_values_are_refused() {
        assert!(matches!(
            load_str("lisen = 1", &[]),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            load_str("[server]\nlisten = \"nope\"", &[]),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            load_str("mode = \"staging\"", &[]),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            load_str("this is not toml", &[]),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            load_str("store = \"redis\"", &[]),
            Err(ConfigError::Invalid { .. })
        ));
        assert!(matches!(
            load_str("[auth]\nleeway_secs = 30", &[]),
            Err(ConfigError::Invalid {
                key: "auth.leeway_secs",
                ..
            })
        ));
        assert!(matches!(
            load_str(
                "[server]\nlisten = \"127.0.0.1:1\"",
                &[("HUSHPAY__SERVER__LISTEN__X", "1")]
            ),
            Err(ConfigError::Env { .. })
        ));
        assert!(matches!(
            load_str("", &[("HUSHPAY____X", "1")]),
            Err(ConfigError::Env { .. })
        ));
    }

    #[test]
    fn production_refuses_development_shortcuts() {
        let https = ("HUSHPAY__SERVER__PUBLIC_URL", "https://pay.example");
        let key = ("HUSHPAY__AUTH__SIGNING_KEY_FILE", "/etc/hushpay/key.pem");
        let prod = ("HUSHPAY__MODE", "production");
        let kek = ("HUSHPAY__VAULT__KEK_FILE", "/etc/hushpay/kek");
        let widget = ("HUSHPAY__WIDGET__ORIGIN", "https://elements.pay.example");
        let hpke = (
            "HUSHPAY__VAULT__HPKE_KEY_FILE",
            "/etc/hushpay/vault-hpke.key",
        );
        let metrics = ("HUSHPAY__SERVER__METRICS_LISTEN", "127.0.0.1:9464");
        let ok = load_str("", &[prod, https, key, kek, hpke, widget, metrics]).unwrap();
        assert_eq!(ok.metrics.listen, Some("127.0.0.1:9464".parse().unwrap()));
        let open_metrics = load_str("", &[prod, https, key, kek, hpke, widget]).unwrap_err();
        assert!(
            open_metrics.to_string().contains("/metrics open"),
            "{open_metrics}"
        );
        let turn = |extra: &str| {
            load_str(
                &format!("[turn]\nurls = [\"turn:turn.example:3478?transport=tcp\"]\n{extra}"),
                &[prod, https, key, kek, hpke, widget, metrics],
            )
        };
        let inline = turn(&format!("shared_secret = \"{}\"", "t".repeat(40))).unwrap_err();
        assert!(
            inline.to_string().contains("inline TURN secret"),
            "{inline}"
        );
        let missing = turn("shared_secret_file = \"/nonexistent/turn-secret\"").unwrap_err();
        assert!(
            missing.to_string().contains("turn.shared_secret_file"),
            "{missing}"
        );
        let none = turn("").unwrap_err();
        assert!(
            none.to_string().contains("turn.shared_secret_file"),
            "{none}"
        );
        let no_widget = load_str("", &[prod, https, key, kek, hpke]).unwrap_err();
        assert!(
            no_widget.to_string().contains("widget.origin"),
            "{no_widget}"
        );
        assert!(!ok.demo_tenant);
        let no_kek = load_str("", &[prod, https, key, hpke]).unwrap_err();
        assert!(no_kek.to_string().contains("development KEK"), "{no_kek}");
        let no_hpke = load_str("", &[prod, https, key, kek]).unwrap_err();
        assert!(no_hpke.to_string().contains("HPKE"), "{no_hpke}");
        let no_key = load_str("", &[prod, https]).unwrap_err();
        assert!(
            no_key.to_string().contains("development signing keys"),
            "{no_key}"
        );
        let http = load_str("", &[prod, key]).unwrap_err();
        assert!(http.to_string().contains("plain-HTTP"), "{http}");
        let secret = "s".repeat(40);
        let hs = load_str(
            &format!("[auth]\nalgorithm = \"HS256\"\nhs256_secret = \"{secret}\""),
            &[prod, https, key],
        )
        .unwrap_err();
        assert!(hs.to_string().contains("HS256"), "{hs}");
    }

    #[test]
    fn production_refuses_postgres_across_the_network_without_tls() {
        let with_store = |store: &str, mode: &'static str| {
            let mut vars = PRODUCTION_ENV.to_vec();
            vars[0].1 = mode;
            vars.push(("HUSHPAY__STORE", store));
            load_str("", &vars)
        };
        for plain in [
            "postgres://hp:pw@db.example/hushpay",
            "postgres://hp:pw@db.example/hushpay?sslmode=prefer",
            "postgres://hp:pw@10.0.0.7/hushpay?sslmode=disable",
        ] {
            let err = with_store(plain, "production").unwrap_err();
            assert!(matches!(err, ConfigError::Production(_)), "{err}");
            assert!(err.to_string().contains("without TLS"), "{err}");
            assert!(err.to_string().contains("sslmode=verify-full"), "{err}");
            assert!(!err.to_string().contains("pw"), "{err}");
            // development keeps working as before
            with_store(plain, "development").unwrap();
        }
        for fine in [
            "postgres://hp@db.example/hushpay?sslmode=verify-full",
            "postgres://hp@db.example/hushpay?sslmode=require",
            "postgres://hp@127.0.0.1/hushpay",
            "postgresql://hp@%2Fvar%2Frun%2Fpostgresql/hushpay",
        ] {
            with_store(fine, "production").unwrap();
        }
    }

    #[test]
    fn hs256_needs_a_long_secret_even_in_development() {
        let err = load_str(
            "[auth]\nalgorithm = \"HS256\"\nhs256_secret = \"short\"",
            &[],
        );
        assert!(matches!(
            err,
            Err(ConfigError::Invalid {
                key: "auth.hs256_secret",
                ..
            })
        ));
    }
}
