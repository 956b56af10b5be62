//! The `hushpay` command line: one struct parsed by clap, dispatched in `main`.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "hushpay", version = crate::version::LONG, about = "Hushpay payment-capture gateway")]
pub struct Cli {
    /// Configuration file (TOML). Environment variables `HUSHPAY__SECTION__KEY` override it.
    #[arg(long, global = true, env = "HUSHPAY_CONFIG")]
    pub config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration without starting the gateway: keys, store, public URL and
    /// widget origin, NATS, TURN, ports. Exits 0 when nothing must be fixed.
    Doctor,
    /// Print the OpenAPI 3.1 document of the HTTP API (what `GET /v1/openapi.json` serves and
    /// docs/openapi.json holds).
    Openapi,
    /// Run the gateway.
    Serve {
        /// Address to listen on (port 0 picks a free port and prints it).
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Vault keys: `hushpay keys rotate --tenant NAME`.
    #[command(subcommand)]
    Keys(crate::vault::cli::KeysCommand),
    /// The audit log: `hushpay audit verify`.
    #[command(subcommand)]
    Audit(crate::vault::cli::AuditCommand),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(crate::admin::TenantCommand),
    /// Manage tenant API keys.
    #[command(subcommand)]
    Apikey(crate::admin::ApikeyCommand),
    /// Mint participant access tokens.
    #[command(subcommand)]
    Token(crate::admin::TokenCommand),
    /// Check the DTMF detector and the masker on your own audio.
    #[command(subcommand)]
    Media(crate::media_cli::MediaCommand),
    /// Load a running gateway with concurrent patient + agent call pairs (WebRTC bots: str0m,
    /// many per thread, or the webrtc-rs ones).
    Loadgen(crate::loadgen::LoadgenArgs),
}
