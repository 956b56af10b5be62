//! `hushpay`: the gateway binary. Parses the command line, reads configuration once, and
//! dispatches. `anyhow` lives here and nowhere below.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::LevelFilter;

use hushpay::cli::{Cli, Command};
use hushpay::config::{self, RawConfig};
use hushpay::{admin, app, bootstrap};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Log targets that print whole WebSocket frames at `trace` (signalling carries TURN
/// credentials and payment client secrets): capped at `debug` whatever `HUSHPAY_LOG` says, and
/// never louder than the rest of the filter.
const FRAME_LOGGERS: [&str; 2] = ["tungstenite", "tokio_tungstenite"];

fn init_tracing() {
    let mut filter = EnvFilter::try_from_env("HUSHPAY_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info"));
    let cap = filter
        .max_level_hint()
        .map_or(LevelFilter::DEBUG, |hint| hint.min(LevelFilter::DEBUG));
    for target in FRAME_LOGGERS {
        if let Ok(directive) = format!("{target}={cap}").parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    if let Command::Doctor = cli.command {
        return runtime.block_on(doctor(cli.config.as_deref()));
    }
    if let Command::Openapi = cli.command {
        // The document needs no configuration: it is the same for every gateway.
        print!("{}", hushpay::openapi::json());
        return Ok(());
    }
    let raw = RawConfig::load(cli.config.as_deref(), std::env::vars())?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve { listen } => serve(raw, listen).await,
            Command::Doctor | Command::Openapi => Ok(()),
            Command::Keys(cmd) => hushpay::vault::cli::keys(&tool_state(raw)?, cmd).await,
            Command::Audit(cmd) => hushpay::vault::cli::audit(&tool_state(raw)?, cmd).await,
            Command::Tenant(cmd) => admin::tenant(&tool_state(raw)?, cmd).await,
            Command::Apikey(cmd) => admin::apikey(&tool_state(raw)?, cmd).await,
            Command::Token(cmd) => admin::token(&tool_state(raw)?, cmd).await,
            Command::Media(cmd) => hushpay::media_cli::run(cmd),
            Command::Loadgen(args) => hushpay::loadgen::run(&tool_state(raw)?, args).await,
        }
    })
}

/// The state an administration command works on: the same store and keys as `serve`, with
/// the media engine on a free port (a running gateway holds `rtc.udp_port`, and a command
/// serves no calls).
fn tool_state(raw: RawConfig) -> anyhow::Result<hushpay::app::AppState> {
    let mut config = raw.validate()?;
    config.sfu.udp_port = 0;
    config.sfu.tcp_port = None;
    bootstrap::state(config)
}

async fn serve(raw: RawConfig, listen: Option<std::net::SocketAddr>) -> anyhow::Result<()> {
    let mut config = raw.validate()?;
    if let Some(addr) = listen {
        config.listen = addr;
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    if config.public_url == format!("http://{}", config::DEFAULT_LISTEN) || addr != config.listen {
        // The default public URL follows the real address (port 0, --listen).
        config.public_url = format!("http://{addr}");
    }
    if let Some(cluster) = &mut config.cluster
        && !cluster.public_url_configured
    {
        cluster.public_url = config.public_url.trim_end_matches('/').to_owned();
    }
    let metrics_listener = match config.metrics.listen {
        Some(a) => Some(
            tokio::net::TcpListener::bind(a)
                .await
                .with_context(|| format!("cannot listen for metrics on {a}"))?,
        ),
        None => None,
    };
    bootstrap::discover_public_ip(&mut config.sfu).await?;
    let demo = config.demo_tenant;
    let state = bootstrap::state(config)?;
    if demo {
        print_demo_tenant(&bootstrap::ensure_demo_tenant(&state, now()).await?);
    }
    println!("Hushpay listening on http://{addr}");
    println!("  health:  http://{addr}/healthz");
    println!("  JWKS:    http://{addr}/.well-known/jwks.json");
    // One line per media worker.
    for media in state.sfu.media.engines() {
        match media.tcp_addr() {
            Some(tcp) => println!("  media:   udp {} and ICE-TCP {tcp}", media.udp_addr()),
            None => println!("  media:   udp {}", media.udp_addr()),
        }
    }
    match &metrics_listener {
        Some(l) => println!("  metrics: http://{}/metrics", l.local_addr()?),
        None => println!("  metrics: http://{addr}/metrics"),
    }
    if let Some(l) = metrics_listener {
        let router = hushpay::metrics_access::router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(l, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    if let Some(widget) = &state.widget.origin {
        println!(
            "  card iframe: {widget}{}",
            hushpay::widget::page::PAGE_PATH
        );
    }
    let public = state.config.public_url.trim_end_matches('/');
    println!("  agent console: {public}{}", hushpay::pages::console::PATH);
    println!("  pay-by-link pages: {public}/pay/{{payment id}}");
    if state.widget.portal_dir.is_some() {
        println!("  demo patient portal (development): {public}/portal/");
    }
    // SIP trunk ingress: kept alive for the process's life
    let _sip = match state.config.sip.clone() {
        Some(sip) => {
            let mut server =
                hushpay::sip::server::start(sip, std::sync::Arc::clone(&state.metrics.sip))
                    .await
                    .context("cannot start the SIP listener")?;
            println!(
                "  SIP:     udp {} and tcp {}",
                server.udp_addr, server.tcp_addr
            );
            // each answered call joins its room as the patient (sfu::phone)
            let calls = tokio::spawn(hushpay::sfu::phone::serve_calls(
                state.clone(),
                server.take_calls(),
            ));
            Some((server, calls))
        }
        None => None,
    };
    tracing::info!(%addr, mode = ?state.config.mode, version = hushpay::version::LONG, "gateway started");
    if let Some(c) = &state.config.cluster {
        println!("  cluster node: {} (NATS {})", c.node_id, c.nats_url);
    }
    let drained = hushpay::drain::after(state.clone(), app::shutdown_signal());
    app::run(listener, state, drained).await?;
    tracing::info!("gateway stopped");
    Ok(())
}

/// `hushpay doctor`: the report on stdout; an error (exit 1) when something must be fixed.
async fn doctor(config: Option<&std::path::Path>) -> anyhow::Result<()> {
    println!("hushpay doctor {}", hushpay::version::LONG);
    let report = hushpay::doctor::run(config, std::env::vars()).await;
    print!("{}", report.render());
    match report.to_fix() {
        0 => Ok(()),
        n => anyhow::bail!("{n} finding(s) to fix (FIX above)"),
    }
}

fn print_demo_tenant(demo: &bootstrap::DemoTenant) {
    match demo {
        bootstrap::DemoTenant::Created { tenant_id, api_key } => {
            println!(
                "Demo tenant `{}` created: {tenant_id}",
                bootstrap::DEMO_TENANT
            );
            println!("Demo tenant API key (shown once, store it now): {api_key}");
        }
        bootstrap::DemoTenant::Existing { tenant_id } => {
            println!(
                "Demo tenant `{}`: {tenant_id} (its API key was shown on first start; \
                 `hushpay apikey create --tenant demo` makes another)",
                bootstrap::DEMO_TENANT
            );
        }
    }
}

fn now() -> i64 {
    i64::try_from(hushpay_auth::unix_now()).unwrap_or(i64::MAX)
}
