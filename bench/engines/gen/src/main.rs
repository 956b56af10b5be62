//! `gen`: the bake-off's load generator CLI. Connects `--pairs` call pairs of str0m bots through
//! the forwarder at `--signal`, measures over a window and prints one result line (see
//! `loadgen::report`). Exits non-zero without a line when set-up fails, and with `--strict`
//! when the machine was busy before the start.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Parser;
use loadgen::fleet::{self, Config};

#[derive(Debug, Parser)]
#[command(about = "Call-pair load generator for the engine bake-off")]
struct Args {
    /// Engine label for the result line.
    #[arg(long)]
    engine: String,
    /// Forwarder signalling address.
    #[arg(long)]
    signal: SocketAddr,
    /// Forwarder process id (CPU, RSS).
    #[arg(long)]
    pid: u32,
    #[arg(long, default_value_t = 50)]
    pairs: usize,
    /// Measurement window, seconds.
    #[arg(long, default_value_t = 20.0)]
    seconds: f64,
    /// Warm-up after every bot has media, seconds.
    #[arg(long, default_value_t = 3.0)]
    warmup: f64,
    /// Offers in flight at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Opus payload bytes per 20 ms packet.
    #[arg(long, default_value_t = 80)]
    payload_bytes: usize,
    /// 1-minute load average above which the run is flagged BUSY.
    #[arg(long, default_value_t = 0.7)]
    max_load: f64,
    /// Refuse to report a BUSY run (exit 2).
    #[arg(long)]
    strict: bool,
    /// Set-up timeout, seconds.
    #[arg(long, default_value_t = 120.0)]
    setup_timeout: f64,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let cfg = Config {
        engine: a.engine,
        signal: a.signal,
        forwarder_pid: a.pid,
        pairs: a.pairs,
        window: Duration::from_secs_f64(a.seconds),
        warmup: Duration::from_secs_f64(a.warmup),
        drain: Duration::from_millis(500),
        setup_timeout: Duration::from_secs_f64(a.setup_timeout),
        concurrency: a.concurrency,
        payload_len: a.payload_bytes,
        max_load: a.max_load,
    };
    let report = fleet::run(&cfg)?;
    if report.busy && a.strict {
        eprintln!(
            "refusing to report: load {:.2} > {:.2} before the start",
            report.load, a.max_load
        );
        std::process::exit(2);
    }
    println!("{report}");
    Ok(())
}
