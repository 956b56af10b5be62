//! Start-up: the data directory, the store, the keys and (in development) the demo tenant.
//! Shared by `serve` and the admin commands, so both see the same records.

use std::sync::Arc;

use anyhow::Context;
use hushpay_store::{MemoryStore, PgStore, SqliteStore, Store};

use crate::app::AppState;
use crate::config::{Config, StoreLocation};
use crate::metrics::Metrics;
use crate::sfu::transcript::{AuditIncidents, VaultChatArchive};
use crate::tenants;
use crate::tokens::{Tokens, create_private_dir};

/// Name of the tenant created on the first development start.
pub const DEMO_TENANT: &str = "demo";

/// Opens the configured store, creating the data directory for SQLite and applying
/// migrations (SQLite and PostgreSQL).
pub fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    Ok(match &config.store {
        StoreLocation::Memory => Arc::new(MemoryStore::new()),
        StoreLocation::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_private_dir(dir)
                    .with_context(|| format!("cannot create data directory {}", dir.display()))?;
            }
            Arc::new(
                SqliteStore::open(path)
                    .with_context(|| format!("cannot open store {}", path.display()))?,
            )
        }
        StoreLocation::Postgres(url) => Arc::new(
            PgStore::open_blocking(url).with_context(|| format!("cannot open store {url}"))?,
        ),
    })
}

/// Asks `rtc.stun_server` for the public address when it is set and `rtc.public_ip` is not
/// (at start-up of `serve`, before any candidate is advertised). No answer in
/// `rtc.stun_timeout_ms` stops the start: a gateway that advertises an address nobody outside
/// can reach would fail every call instead.
pub async fn discover_public_ip(sfu: &mut crate::sfu::limits::SfuConfig) -> anyhow::Result<()> {
    if let Some(public) = sfu.public_ip {
        tracing::info!(%public, bind = %sfu.media_ip, "host candidates advertise rtc.public_ip");
        return Ok(());
    }
    let Some(server) = sfu.stun_server.clone() else {
        return Ok(());
    };
    let mapped = crate::ice::stun::discover(&server, sfu.media_ip, sfu.stun_timeout)
        .await
        .with_context(|| {
            format!(
                "rtc.stun_server: cannot discover the public address from {} \
                 (set rtc.public_ip, or fix the STUN server or the firewall)",
                sfu.media_ip
            )
        })?;
    tracing::info!(
        public = %mapped.ip(),
        bind = %sfu.media_ip,
        stun_server = %server,
        "public address discovered by STUN; host candidates advertise it"
    );
    println!("  public media address (STUN {server}): {}", mapped.ip());
    sfu.public_ip = Some(mapped.ip());
    Ok(())
}

/// Builds the application state: store, tokens, metrics.
pub fn state(config: Config) -> anyhow::Result<AppState> {
    let store = open_store(&config)?;
    let tokens = Tokens::from_config(&config).context("cannot set up access-token keys")?;
    if tokens.generated_development_key {
        warn_development_key(&config);
    }
    let metrics = Arc::new(Metrics::new());
    let (vault, generated) = crate::vault::VaultState::open(&config.vault, Arc::clone(&store))
        .context("cannot set up the vault keys")?;
    let mut sfu = crate::sfu::Sfu::new(
        config.sfu.clone(),
        Arc::clone(&metrics),
        Arc::new(VaultChatArchive::new(
            Arc::clone(&vault.vault),
            Arc::clone(&store) as _,
        )),
        Arc::new(AuditIncidents::new(Arc::clone(&vault.vault))),
        Arc::clone(&store),
    )
    .context("cannot start the media engine (rtc.udp_port, rtc.tcp_port)")?;
    for path in [generated.kek, generated.hpke].into_iter().flatten() {
        eprintln!(
            "  *  DEVELOPMENT VAULT KEY GENERATED: {} (production refuses it)",
            path.display()
        );
    }
    let vault = Arc::new(vault);
    let payments = crate::payments::PaymentService::new(
        Arc::clone(&store),
        Arc::clone(&vault),
        config.connector.build(),
    );
    let recorder = Arc::new(crate::recording::Recorder::new(
        config.recording.clone(),
        Arc::clone(&vault.vault),
        Arc::clone(&store) as _,
        Arc::clone(&metrics),
    ));
    if config.recording.enabled {
        sfu.recorder = Arc::clone(&recorder) as Arc<dyn crate::sfu::forward::RecorderTap>;
        payments.add_change_hook(Arc::clone(&recorder) as _);
    }
    let sfu = Arc::new(sfu);
    recorder.attach(&sfu);
    let webhooks = crate::webhooks::Webhooks::new(
        Arc::clone(&store),
        Arc::clone(&vault),
        config.webhooks.clone(),
    )
    .context("cannot build the webhook client")?;
    if config.ivr.prompts_dir.is_some() || !config.ivr.prompts.is_empty() {
        // An operator's prompt replacements are checked now (the set is encoded again at
        // the first IVR payment).
        config
            .ivr
            .load_prompts()
            .context("cannot load the IVR prompts")?;
    }
    let (widget, asset_error) = crate::widget::Widget::load(&config);
    if let Some(e) = asset_error {
        tracing::warn!(error = %e, "card iframe unavailable");
    }
    Ok(AppState {
        config: Arc::new(config),
        store,
        tokens: Arc::new(tokens),
        metrics,
        sfu,
        vault,
        payments: Arc::new(payments),
        webhooks: Arc::new(webhooks),
        widget: Arc::new(widget),
        recorder,
    })
}

fn warn_development_key(config: &Config) {
    eprintln!();
    eprintln!("  ************************************************************************");
    eprintln!(
        "  *  DEVELOPMENT SIGNING KEY GENERATED: {}",
        config.auth.signing_key_file.display()
    );
    eprintln!("  *  It is for development only. Production mode refuses it: set");
    eprintln!("  *  mode = \"production\" and auth.signing_key_file to a key you manage.");
    eprintln!("  ************************************************************************");
    eprintln!();
}

/// What the demo-tenant step did.
#[derive(Debug)]
pub enum DemoTenant {
    /// Created now; the key is shown this once.
    Created { tenant_id: String, api_key: String },
    /// Existed from an earlier start.
    Existing { tenant_id: String },
}

/// Creates the demo tenant and its first API key if it does not exist yet.
pub async fn ensure_demo_tenant(state: &AppState, now: i64) -> anyhow::Result<DemoTenant> {
    let store = state.store.as_ref();
    if let Some(t) = store.tenant_by_name(DEMO_TENANT).await? {
        return Ok(DemoTenant::Existing {
            tenant_id: t.id.to_string(),
        });
    }
    let origins = vec![state.config.public_url.trim_end_matches('/').to_owned()];
    let origins = origins
        .into_iter()
        .filter(|o| tenants::valid_origin(o))
        .collect();
    let audit = crate::admin::audit;
    audit(state, "system", None, "tenant.create", DEMO_TENANT, "ok").await?;
    let tenant = tenants::create_tenant(store, DEMO_TENANT, origins, now).await?;
    audit(
        state,
        "system",
        Some(&tenant.id),
        "apikey.create",
        tenant.id.as_str(),
        "ok",
    )
    .await?;
    let key = tenants::create_api_key(store, &tenant.id, "demo (first start)", now).await?;
    Ok(DemoTenant::Created {
        tenant_id: tenant.id.to_string(),
        api_key: key.key,
    })
}
