//! `hushpay loadgen`: N concurrent patient + agent call pairs against a running gateway, each
//! a pair of participant bots over real WebRTC, both sides talking, the patient keying an
//! in-band DTMF digit now and then. Reports the gateway's CPU (from /proc), its packet
//! counters (from /metrics), packets lost, and the forwarding latency patient -> agent (masked,
//! the 20 ms hold-back included) and agent -> patient, p50/p99, measured from the patient bot's
//! send instant to the agent bot's arrival instant for the same RTP timestamp.
//!
//! Tokens are minted with the gateway's own keys (same configuration as `hushpay token mint`),
//! so the load generator needs no API key. Audio is encoded once and shared by all bots.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use hushpay_auth::{MintRequest, Role};
use hushpay_bots::{Bot, BotConfig, SentLog, encode};
use hushpay_media::Digit;
use hushpay_media::signal::{Rng, TonePair, add_noise};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::app::AppState;
use crate::tenants;

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
    /// Seconds of audio per call.
    #[arg(long, default_value_t = 20)]
    pub seconds: u64,
    /// An in-band DTMF digit every this many seconds of patient audio (0: none).
    #[arg(long, default_value_t = 4)]
    pub dtmf_every: u64,
    /// PID of the gateway, to report its CPU time.
    #[arg(long)]
    pub gateway_pid: Option<u32>,
    /// Delay between pair starts (milliseconds), to spread the audio ticks.
    #[arg(long, default_value_t = 20)]
    pub ramp_ms: u64,
}

/// What one call pair measured.
#[derive(Debug, Default)]
struct PairResult {
    p2a: Vec<u32>,
    a2p: Vec<u32>,
    sent: u64,
    received: u64,
    failed: Option<String>,
}

/// Runs the load and prints the report.
pub async fn run(state: &AppState, args: LoadgenArgs) -> anyhow::Result<()> {
    let tenant = tenants::resolve_tenant(state.store.as_ref(), &args.tenant).await?;
    let (patient_audio, agent_audio) = audio(args.seconds, args.dtmf_every)?;
    let (patient_audio, agent_audio) = (Arc::new(patient_audio), Arc::new(agent_audio));
    let before = scrape(args.gateway).await.unwrap_or_default();
    let cpu0 = args.gateway_pid.and_then(cpu_ticks);
    let self0 = cpu_ticks(std::process::id());
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    let started = Instant::now();
    let mut handles = Vec::with_capacity(args.pairs);
    for i in 0..args.pairs {
        let mint = |identity: String, role: Role| -> anyhow::Result<String> {
            Ok(state
                .tokens
                .signer
                .mint_now(MintRequest {
                    tenant: tenant.id.to_string(),
                    identity,
                    room: format!("load-{run_id}-{i}"),
                    role,
                    grants: None,
                    ttl: Some(Duration::from_secs(args.seconds + 300)),
                    api_key_id: None,
                })
                .context("mint")?
                .token)
        };
        let agent = mint(format!("agent-{i}"), Role::Agent)?;
        let patient = mint(format!("patient-{i}"), Role::Patient)?;
        let (pa, aa) = (Arc::clone(&patient_audio), Arc::clone(&agent_audio));
        let url = format!("ws://{}/v1/rtc", args.gateway);
        handles.push(tokio::spawn(pair(url, agent, patient, pa, aa)));
        tokio::time::sleep(Duration::from_millis(args.ramp_ms)).await;
    }
    let mut results = Vec::with_capacity(handles.len());
    for h in handles {
        results.push(h.await.unwrap_or_else(|e| PairResult {
            failed: Some(e.to_string()),
            ..PairResult::default()
        }));
    }
    let elapsed = started.elapsed();
    let after = scrape(args.gateway).await.unwrap_or_default();
    let cpu1 = args.gateway_pid.and_then(cpu_ticks);
    let self1 = cpu_ticks(std::process::id());
    report(
        &args,
        &results,
        elapsed,
        (cpu0, cpu1),
        (self0, self1),
        &before,
        &after,
    );
    Ok(())
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

/// Patient: a speech-like signal (voiced harmonics with a syllable envelope plus noise) with
/// an in-band DTMF digit every `dtmf_every` s. Agent: the same voice without digits.
/// Pre-encoded 20 ms Opus frames.
type Frames = Vec<Vec<u8>>;

fn audio(seconds: u64, dtmf_every: u64) -> anyhow::Result<(Frames, Frames)> {
    let n = (seconds * 48_000) as usize;
    let mut rng = Rng::new(7);
    let mut voice: Vec<i16> = (0..n)
        .map(|i| {
            let t = i as f32 / 48_000.0;
            let f0 = 120.0 + 20.0 * (t * 1.3).sin();
            let env = (0.5 + 0.5 * (t * 2.0 * std::f32::consts::PI * 4.0).sin()).powi(2);
            let s: f32 = (1..=12)
                .map(|k| (2.0 * std::f32::consts::PI * f0 * k as f32 * t).sin() / k as f32)
                .sum();
            (s * env * 4000.0) as i16
        })
        .collect();
    add_noise(&mut voice, -50.0, &mut rng);
    let mut patient = voice.clone();
    if dtmf_every > 0 {
        let digits: Vec<Digit> = "4111".chars().filter_map(Digit::from_char).collect();
        let mut at = 48_000 * dtmf_every as usize;
        let mut k = 0;
        while at + 48_000 / 5 < n {
            let mut tone = Vec::new();
            TonePair::new(digits[k % digits.len()], -10.0, 100.0).append(48_000, &mut tone);
            patient[at..at + tone.len()].copy_from_slice(&tone);
            at += 48_000 * dtmf_every as usize;
            k += 1;
        }
    }
    Ok((encode(&patient)?, encode(&voice)?))
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// `GET /metrics` over a plain TCP connection (the gateway crate has no HTTP client).
async fn scrape(addr: SocketAddr) -> Option<HashMap<String, f64>> {
    let mut s = tokio::net::TcpStream::connect(addr).await.ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: loadgen\r\n\r\n")
        .await
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).await.ok()?;
    Some(
        body.lines()
            .filter(|l| l.starts_with("hushpay_") && !l.contains('{'))
            .filter_map(|l| {
                let (k, v) = l.split_once(' ')?;
                Some((k.to_owned(), v.trim().parse().ok()?))
            })
            .collect(),
    )
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

fn report(
    args: &LoadgenArgs,
    results: &[PairResult],
    elapsed: Duration,
    gw_cpu: (Option<u64>, Option<u64>),
    own_cpu: (Option<u64>, Option<u64>),
    before: &HashMap<String, f64>,
    after: &HashMap<String, f64>,
) {
    let failed: Vec<&String> = results.iter().filter_map(|r| r.failed.as_ref()).collect();
    let mut p2a: Vec<u32> = results.iter().flat_map(|r| r.p2a.iter().copied()).collect();
    let mut a2p: Vec<u32> = results.iter().flat_map(|r| r.a2p.iter().copied()).collect();
    p2a.sort_unstable();
    a2p.sort_unstable();
    let sent: u64 = results.iter().map(|r| r.sent).sum();
    let received: u64 = results.iter().map(|r| r.received).sum();
    let delta =
        |k: &str| after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
    let secs = elapsed.as_secs_f64();
    let cpu = |(a, b): (Option<u64>, Option<u64>)| match (a, b) {
        (Some(a), Some(b)) => format!("{:.0}%", (b - a) as f64 / 100.0 / secs * 100.0),
        _ => "n/a".to_owned(),
    };
    println!(
        "pairs {} ({} failed), {} s of audio each, wall {:.1} s",
        args.pairs,
        failed.len(),
        args.seconds,
        secs
    );
    for f in failed.iter().take(3) {
        println!("  failure: {f}");
    }
    println!(
        "gateway CPU {} of one core (2 cores = 200%); load generator CPU {}",
        cpu(gw_cpu),
        cpu(own_cpu)
    );
    println!(
        "gateway packets in {:.0}, forwarded {:.0}, masked {:.0}, digits captured {:.0}",
        delta("hushpay_rtp_packets_in_total"),
        delta("hushpay_rtp_packets_out_total"),
        delta("hushpay_rtp_packets_masked_total"),
        delta("hushpay_digits_captured_total")
    );
    let recorded = delta("hushpay_recording_packets_total");
    if recorded > 0.0 || delta("hushpay_recordings_started_total") > 0.0 {
        let bytes = delta("hushpay_recording_bytes_total");
        println!(
            "recording: {:.0} recordings, packets recorded {recorded:.0}, dropped {:.0}, paused {:.0}, chunks {:.0}, {:.0} bytes ({:.1} kB per call, {:.1} kB per call-minute), write errors {:.0}",
            delta("hushpay_recordings_started_total"),
            delta("hushpay_recording_packets_dropped_total"),
            delta("hushpay_recording_packets_paused_total"),
            delta("hushpay_recording_chunks_total"),
            bytes,
            bytes / 1000.0 / args.pairs.max(1) as f64,
            bytes / 1000.0 / args.pairs.max(1) as f64 / (args.seconds.max(1) as f64 / 60.0),
            delta("hushpay_recording_write_errors_total"),
        );
    }
    println!(
        "audio packets sent {sent}, received {received}, lost {} ({:.3}%)",
        sent.saturating_sub(received),
        sent.saturating_sub(received) as f64 / sent.max(1) as f64 * 100.0
    );
    println!(
        "latency patient->agent (masked) p50 {:.1} ms p99 {:.1} ms max {:.1} ms; agent->patient p50 {:.1} ms p99 {:.1} ms",
        pct(&p2a, 0.5),
        pct(&p2a, 0.99),
        pct(&p2a, 1.0),
        pct(&a2p, 0.5),
        pct(&a2p, 0.99)
    );
}
