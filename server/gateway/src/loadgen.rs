//! `hushpay loadgen`: N concurrent patient + agent call pairs against a running gateway, both
//! sides talking, the patient keying an in-band DTMF digit now and then. Reports the gateway's
//! CPU (from /proc), its packet counters (from /metrics), packets lost, and the forwarding
//! latency patient -> agent (masked, the 20 ms hold-back included) and agent -> patient,
//! p50/p99, measured from the sending bot's send instant to the receiving bot's arrival
//! instant for the same RTP timestamp.
//!
//! Two engines of bots:
//! * `str0m` (the default): [`hushpay_loadgen`], many sans-IO bots on one thread, measured
//!   over a window after every pair connected and a warm-up, with µs of gateway CPU per
//!   forwarded packet, RSS, set-up time and a BUSY flag (the load generator is not the
//!   bottleneck);
//! * `webrtc`: the webrtc-rs participant bots ([`crate::bot`]), a socket and tasks per bot,
//!   measured over the whole run: the old generator, kept for comparison.
//!
//! Both print [`hushpay_loadgen::Report`]'s lines. Tokens are minted with the gateway's own
//! keys (same configuration as `hushpay token mint`), so the load generator needs no API key.
//! Audio is encoded once and shared by all bots.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hushpay_auth::{MintRequest, Role};
use hushpay_bots::{Bot, BotConfig, SentLog};
use hushpay_loadgen::metrics::{self, Counters};
use hushpay_loadgen::report::{Rss, Span};
use hushpay_loadgen::{Report, TokenRequest, proc_stat};
use hushpay_store::Tenant;

use crate::app::AppState;
use crate::tenants;

/// Which bots load the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    /// str0m (sans-IO) bots, many per thread.
    Str0m,
    /// webrtc-rs bots, a socket and tasks per bot (the old generator).
    Webrtc,
}

/// `hushpay loadgen` arguments.
#[derive(Debug, clap::Args)]
pub struct LoadgenArgs {
    /// Gateway address (HTTP/WebSocket).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub gateway: SocketAddr,
    /// Tenant (id or name) whose rooms are used.
    #[arg(long, default_value = "demo")]
    pub tenant: String,
    /// Concurrent patient + agent pairs.
    #[arg(long, default_value_t = 10)]
    pub pairs: usize,
    /// Seconds of audio per call (str0m: the measurement window).
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// An in-band DTMF digit every this many seconds of patient audio (0: none).
    #[arg(long, default_value_t = 4)]
    pub dtmf_every: u64,
    /// PID of the gateway, to report its CPU time and memory.
    #[arg(long)]
    pub gateway_pid: Option<u32>,
    /// Delay between pair starts (milliseconds), to spread the audio ticks.
    #[arg(long, default_value_t = 20)]
    pub ramp_ms: u64,
    /// Seconds after every pair is connected before the measurement window (str0m).
    #[arg(long, default_value_t = 3.0)]
    pub warmup: f64,
    /// Open the `chat` data channel; agents send a message every second (str0m; the webrtc
    /// bots always open it).
    #[arg(long)]
    pub chat: bool,
    /// A 1-minute load average above this before the start flags the run BUSY.
    #[arg(long, default_value_t = 0.7)]
    pub max_load: f64,
    /// Refuse to run when the load average is above --max-load.
    #[arg(long)]
    pub strict: bool,
    /// Pairs in set-up (signalling) at once (str0m).
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// The bots: str0m, or webrtc (the old webrtc-rs bots, for comparison).
    #[arg(long, value_enum, default_value_t = Engine::Str0m)]
    pub engine: Engine,
}

/// Runs the load and prints the report.
pub async fn run(state: &AppState, args: LoadgenArgs) -> anyhow::Result<()> {
    let tenant = tenants::resolve_tenant(state.store.as_ref(), &args.tenant).await?;
    let report = match args.engine {
        Engine::Str0m => str0m(state, tenant, &args).await?,
        Engine::Webrtc => webrtc(state, &tenant, &args).await?,
    };
    println!("{report}");
    Ok(())
}

/// A token for `tenant`, minted with the gateway's signer.
fn mint(state: &AppState, tenant: &Tenant, req: &TokenRequest) -> anyhow::Result<String> {
    let role = match req.role {
        hushpay_loadgen::Role::Agent => Role::Agent,
        hushpay_loadgen::Role::Patient => Role::Patient,
    };
    Ok(state
        .tokens
        .signer
        .mint_now(MintRequest {
            tenant: tenant.id.to_string(),
            identity: req.identity.clone(),
            room: req.room.clone(),
            role,
            grants: None,
            ttl: Some(req.ttl),
            api_key_id: None,
        })
        .context("mint")?
        .token)
}

async fn str0m(state: &AppState, tenant: Tenant, args: &LoadgenArgs) -> anyhow::Result<Report> {
    let mut cfg = hushpay_loadgen::Config::new(args.gateway);
    cfg.pairs = args.pairs;
    cfg.window = Duration::from_secs(args.seconds);
    cfg.warmup = Duration::try_from_secs_f64(args.warmup).context("--warmup")?;
    cfg.dtmf_every = Duration::from_secs(args.dtmf_every);
    cfg.gateway_pid = args.gateway_pid;
    cfg.ramp = Duration::from_millis(args.ramp_ms);
    cfg.concurrency = args.concurrency;
    cfg.chat = args.chat;
    cfg.max_load = args.max_load;
    cfg.strict = args.strict;
    let state = state.clone();
    // the bots' media loop runs on this thread, off the runtime
    let report = tokio::task::spawn_blocking(move || {
        let minter = |req: &TokenRequest| mint(&state, &tenant, req).map_err(|e| format!("{e:#}"));
        hushpay_loadgen::run(&cfg, &minter)
    })
    .await
    .context("the load generator's thread")??;
    Ok(report)
}

/// What one call pair measured (webrtc engine).
#[derive(Debug, Default)]
struct PairResult {
    p2a: Vec<u32>,
    a2p: Vec<u32>,
    sent: u64,
    received: u64,
    /// When both bots were connected.
    connected_at: Option<Instant>,
    failed: Option<String>,
}

async fn webrtc(state: &AppState, tenant: &Tenant, args: &LoadgenArgs) -> anyhow::Result<Report> {
    let load = proc_stat::load_1min()?;
    if args.strict && load > args.max_load {
        anyhow::bail!(
            "refusing to run: 1-minute load average {load:.2} > {:.2} (another job is running)",
            args.max_load
        );
    }
    let (patient_audio, agent_audio) = hushpay_loadgen::audio::call(args.seconds, args.dtmf_every)?;
    let (patient_audio, agent_audio) = (Arc::new(patient_audio), Arc::new(agent_audio));
    let before = scrape(args.gateway).await.unwrap_or_default();
    let cpu0 = args.gateway_pid.and_then(|p| proc_stat::cpu_us(p).ok());
    let rss0 = args.gateway_pid.and_then(|p| proc_stat::rss_kib(p).ok());
    let self0 = proc_stat::cpu_us(std::process::id()).ok();
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let mut handles = Vec::with_capacity(args.pairs);
    for i in 0..args.pairs {
        let room = format!("load-{run_id}-{i}");
        let ttl = Duration::from_secs(args.seconds + 300);
        let token = |identity: String, role| {
            let req = TokenRequest {
                room: room.clone(),
                identity,
                role,
                ttl,
            };
            mint(state, tenant, &req)
        };
        let agent = token(format!("agent-{i}"), hushpay_loadgen::Role::Agent)?;
        let patient = token(format!("patient-{i}"), hushpay_loadgen::Role::Patient)?;
        let (pa, aa) = (Arc::clone(&patient_audio), Arc::clone(&agent_audio));
        let url = format!("ws://{}/v1/rtc", args.gateway);
        handles.push(tokio::spawn(pair(url, agent, patient, pa, aa)));
        tokio::time::sleep(Duration::from_millis(args.ramp_ms)).await;
    }
    let mut results = Vec::with_capacity(handles.len());
    for h in handles {
        results.push(h.await.unwrap_or_else(failed));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = scrape(args.gateway).await.unwrap_or_default();
    let cpu1 = args.gateway_pid.and_then(|p| proc_stat::cpu_us(p).ok());
    let rss1 = args.gateway_pid.and_then(|p| proc_stat::rss_kib(p).ok());
    let self1 = proc_stat::cpu_us(std::process::id()).ok();
    let used = |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| b.saturating_sub(a) as f64);
    let mut p2a: Vec<u32> = results.iter().flat_map(|r| r.p2a.iter().copied()).collect();
    let mut a2p: Vec<u32> = results.iter().flat_map(|r| r.a2p.iter().copied()).collect();
    p2a.sort_unstable();
    a2p.sort_unstable();
    let received: u64 = results.iter().map(|r| r.received).sum();
    let failures: Vec<String> = results.iter().filter_map(|r| r.failed.clone()).collect();
    // set-up: until the last pair was connected (not measured when a pair failed)
    let setup_s = if failures.is_empty() {
        results
            .iter()
            .filter_map(|r| r.connected_at)
            .max()
            .map(|t| (t - started).as_secs_f64())
    } else {
        None
    };
    Ok(Report {
        engine: "webrtc".into(),
        pairs: args.pairs,
        failures,
        seconds: args.seconds,
        wall_s: elapsed,
        span: Span::WholeRun,
        measured_s: elapsed,
        gateway_cpu_us: used(cpu0, cpu1),
        loadgen_cpu_us: used(self0, self1),
        counters: metrics::delta(&before, &after),
        sent: results.iter().map(|r| r.sent).sum(),
        received,
        forwarded: received,
        p2a_us: p2a,
        a2p_us: a2p,
        rss: rss0.zip(rss1).map(|(before, end)| Rss {
            mb: end as f64 / 1024.0,
            kib_per_pair: end.saturating_sub(before) as f64 / args.pairs.max(1) as f64,
        }),
        setup_s,
        wait_pct: None,
        udp_drops: None,
        chat: None,
        load,
        max_load: args.max_load,
    })
}

/// The gateway's counters, scraped off the runtime's threads.
async fn scrape(addr: SocketAddr) -> Option<Counters> {
    tokio::task::spawn_blocking(move || metrics::scrape(addr))
        .await
        .ok()
        .flatten()
}

async fn pair(
    url: String,
    agent_token: String,
    patient_token: String,
    patient_audio: Arc<Vec<Vec<u8>>>,
    agent_audio: Arc<Vec<Vec<u8>>>,
) -> PairResult {
    let config = |token| BotConfig {
        url: url.clone(),
        token,
        media_ip: [127, 0, 0, 1].into(),
        keep_payloads: false,
    };
    let agent = match Bot::connect(config(agent_token)).await {
        Ok(b) => b,
        Err(e) => return failed(e),
    };
    let patient = match Bot::connect(config(patient_token)).await {
        Ok(b) => b,
        Err(e) => return failed(e),
    };
    let connected_at = Some(Instant::now());
    let (pu, au) = (patient.uplink(), agent.uplink());
    let (p_sent, a_sent) = tokio::join!(
        pu.play_packets(&patient_audio, &[]),
        au.play_packets(&agent_audio, &[])
    );
    // Let the last packets (held 20 ms by the masker) arrive.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (p_sent, a_sent) = (p_sent.unwrap_or_default(), a_sent.unwrap_or_default());
    let mut r = PairResult {
        sent: (p_sent.len() + a_sent.len()) as u64,
        connected_at,
        ..PairResult::default()
    };
    let (p2a, n1) = latencies(&p_sent, &agent);
    let (a2p, n2) = latencies(&a_sent, &patient);
    r.p2a = p2a;
    r.a2p = a2p;
    r.received = n1 + n2;
    agent.leave().await;
    patient.leave().await;
    r
}

fn failed(e: impl std::fmt::Display) -> PairResult {
    PairResult {
        failed: Some(e.to_string()),
        ..PairResult::default()
    }
}

/// Latencies (µs) of packets sent (`log`) and received by `bot`, and how many arrived.
fn latencies(log: &SentLog, bot: &Bot) -> (Vec<u32>, u64) {
    let sent: HashMap<u32, Instant> = log.iter().copied().collect();
    let rec = bot.received.lock().unwrap_or_else(|p| p.into_inner());
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(rec.packets.len());
    for (_, ts, at, _) in &rec.packets {
        if let Some(t0) = sent.get(ts)
            && seen.insert(*ts)
        {
            let us = at.saturating_duration_since(*t0).as_micros();
            out.push(u32::try_from(us).unwrap_or(u32::MAX));
        }
    }
    let n = out.len() as u64;
    (out, n)
}
