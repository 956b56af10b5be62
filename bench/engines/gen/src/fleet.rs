//! The generator's run: every bot on one thread (one epoll set over the bots' sockets, a
//! deadline heap for str0m timeouts and one for 20 ms send ticks), offers posted by a few
//! signalling threads, then warm-up, the measurement window and a drain; see the crate doc.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use engines_common::deadlines::Deadlines;
use engines_common::signal;
use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::bot::{Bot, BotError};
use crate::proc_stat::{self, ProcError};
use crate::report::{Report, percentile_ms};
use crate::tally::{Sample, Tally};

/// Packet interval of every bot.
pub const PACKET_INTERVAL: Duration = Duration::from_millis(20);
const WAKER: Token = Token(usize::MAX);
const MAX_DATAGRAM: usize = 2048;

/// What one run does.
#[derive(Debug, Clone)]
pub struct Config {
    /// Label for the result line.
    pub engine: String,
    /// The forwarder's signalling address (`POST /offer/<peer>`).
    pub signal: SocketAddr,
    /// The forwarder's process id (CPU and RSS).
    pub forwarder_pid: u32,
    pub pairs: usize,
    /// Measurement window.
    pub window: Duration,
    /// Time between every bot having media and the window.
    pub warmup: Duration,
    /// After the window, how long to wait for the window's last packets.
    pub drain: Duration,
    /// Give up when not every bot has media after this long.
    pub setup_timeout: Duration,
    /// Offers in flight at once.
    pub concurrency: usize,
    /// Opus payload bytes per packet.
    pub payload_len: usize,
    /// A 1-minute load average above this before the start marks the run busy.
    pub max_load: f64,
}

/// Run failures.
#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("bot: {0}")]
    Bot(#[from] BotError),
    #[error("/proc: {0}")]
    Proc(#[from] ProcError),
    #[error("signalling for bot {bot}: {why}")]
    Signal { bot: usize, why: String },
    #[error("set-up timed out: {with_media} of {bots} bots have media ({failed} failed)")]
    SetupTimeout {
        with_media: usize,
        bots: usize,
        failed: usize,
    },
    #[error("the run ended without a measurement window")]
    NoWindow,
}

/// Drains bot `i` and books its events and next deadline.
fn drain(
    bots: &mut [Bot],
    i: usize,
    at: Instant,
    tally: &mut Tally,
    deadlines: &mut Deadlines,
) -> Result<(), FleetError> {
    let n = bots.len();
    match bots[i].drain(&mut |ev| tally.event(i, n, ev, at)) {
        Ok(next) => deadlines.set(i, next),
        Err(e) => tally.fail(i, &e, deadlines),
    }
    Ok(())
}

/// Answers to offers, by bot.
type Answers = mpsc::Receiver<(usize, Result<String, String>)>;

/// Starts `cfg.concurrency` threads that post the offers sent on the returned channel and
/// hand each answer back through the other, waking the loop.
fn spawn_signalling(cfg: &Config, waker: &Arc<Waker>) -> (mpsc::Sender<(usize, String)>, Answers) {
    let (job_tx, job_rx) = mpsc::channel::<(usize, String)>();
    let job_rx = Arc::new(Mutex::new(job_rx));
    let (answer_tx, answer_rx) = mpsc::channel();
    for _ in 0..cfg.concurrency.max(1) {
        let (jobs, answers, waker, addr) = (
            Arc::clone(&job_rx),
            answer_tx.clone(),
            Arc::clone(waker),
            cfg.signal,
        );
        thread::spawn(move || {
            loop {
                let job = match jobs.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((bot, offer)) = job else { return };
                let answer = signal::post_offer(addr, bot, &offer).map_err(|e| e.to_string());
                if answers.send((bot, answer)).is_err() {
                    return;
                }
                let _ = waker.wake();
            }
        });
    }
    (job_tx, answer_rx)
}

/// Connects `pairs` call pairs through the forwarder, measures, and reports.
pub fn run(cfg: &Config) -> Result<Report, FleetError> {
    let load = proc_stat::load_1min()?;
    let rss_before = proc_stat::rss_kib(cfg.forwarder_pid)?;
    let n = cfg.pairs * 2;
    let mut poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let start = Instant::now();
    let mut bots = Vec::with_capacity(n);
    for i in 0..n {
        let mut socket = UdpSocket::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        poll.registry()
            .register(&mut socket, Token(i), Interest::READABLE)?;
        bots.push(Bot::new(start, socket)?);
    }
    let mut tally = Tally {
        epoch: Some(start),
        has_media: vec![false; n],
        tick_at: vec![None; n],
        failed: vec![false; n],
        ..Tally::default()
    };
    let mut timers = Deadlines::default();

    let (job_tx, answer_rx) = spawn_signalling(cfg, &waker);
    let setup_start = Instant::now();
    for (i, bot) in bots.iter_mut().enumerate() {
        let offer = bot.offer()?;
        let _ = job_tx.send((i, offer));
    }
    drop(job_tx);

    let mut events = Events::with_capacity(256);
    let mut buf = vec![0u8; MAX_DATAGRAM];
    let mut sending = true;
    let mut cpu_start = Sample::default();
    let mut cpu_end = Sample::default();
    let mut rss_end = 0u64;
    let me = std::process::id();
    loop {
        let now = Instant::now();
        // phases: set-up, warm-up, window, drain
        let Some(all) = tally.all_media_at else {
            if now - setup_start > cfg.setup_timeout {
                return Err(FleetError::SetupTimeout {
                    with_media: tally.with_media,
                    bots: n,
                    failed: tally.failures,
                });
            }
            run_due(&mut bots, now, &mut tally, &mut timers, sending, cfg)?;
            let deadline = Some(setup_start + cfg.setup_timeout);
            wait(&mut poll, &mut events, &mut timers, &mut tally, deadline)?;
            handle_events(
                &events,
                &mut bots,
                &mut buf,
                &answer_rx,
                &mut tally,
                &mut timers,
            )?;
            continue;
        };
        let phase_deadline = match tally.window {
            None if now >= all + cfg.warmup => {
                cpu_start = Sample::take(cfg.forwarder_pid, me)?;
                tally.window = Some((now, None));
                Some(now + cfg.window)
            }
            None => Some(all + cfg.warmup),
            Some((ws, None)) if now >= ws + cfg.window => {
                cpu_end = Sample::take(cfg.forwarder_pid, me)?;
                rss_end = proc_stat::rss_kib(cfg.forwarder_pid)?;
                tally.window = Some((ws, Some(now)));
                sending = false;
                Some(now + cfg.drain)
            }
            Some((ws, None)) => Some(ws + cfg.window),
            Some((_, Some(we))) if now >= we + cfg.drain => break,
            Some((_, Some(we))) => Some(we + cfg.drain),
        };
        run_due(&mut bots, now, &mut tally, &mut timers, sending, cfg)?;
        wait(
            &mut poll,
            &mut events,
            &mut timers,
            &mut tally,
            phase_deadline,
        )?;
        handle_events(
            &events,
            &mut bots,
            &mut buf,
            &answer_rx,
            &mut tally,
            &mut timers,
        )?;
    }

    let Some((ws, Some(we))) = tally.window else {
        return Err(FleetError::NoWindow);
    };
    let wall = (we - ws).as_secs_f64();
    tally.latencies_us.sort_unstable();
    let diff = |f: fn(&Sample) -> u64| f(&cpu_end).saturating_sub(f(&cpu_start));
    let fwd_cpu_us = diff(|s| s.fwd_cpu_us) as f64;
    let gen_cpu_us = diff(|s| s.gen_cpu_us) as f64;
    let setup_s = tally
        .all_media_at
        .map_or(f64::NAN, |a| (a - setup_start).as_secs_f64());
    if tally.disconnects > 0 {
        eprintln!("warning: {} ICE disconnects", tally.disconnects);
    }
    let send_errors: u64 = bots.iter().map(|b| b.send_errors).sum();
    if send_errors > 0 {
        eprintln!("warning: {send_errors} datagrams the bots' sockets refused");
    }
    Ok(Report {
        engine: cfg.engine.clone(),
        pairs: cfg.pairs,
        window_s: wall,
        sent: tally.sent,
        received: tally.received,
        forwarded: tally.forwarded,
        p50_ms: percentile_ms(&tally.latencies_us, 50.0),
        p99_ms: percentile_ms(&tally.latencies_us, 99.0),
        max_ms: percentile_ms(&tally.latencies_us, 100.0),
        cpu_pct: fwd_cpu_us / (wall * 1e6) * 100.0,
        us_per_pkt: fwd_cpu_us / tally.forwarded.max(1) as f64,
        setup_s,
        rss_mb: rss_end as f64 / 1024.0,
        udp_drops: diff(|s| s.udp_drops),
        rss_kib_per_pair: rss_end.saturating_sub(rss_before) as f64 / cfg.pairs.max(1) as f64,
        gen_cpu_pct: gen_cpu_us / (wall * 1e6) * 100.0,
        fwd_wait_pct: diff(|s| s.fwd_wait_us) as f64 / (wall * 1e6) * 100.0,
        gen_wait_pct: diff(|s| s.gen_wait_us) as f64 / (wall * 1e6) * 100.0,
        load,
        busy: load > cfg.max_load,
    })
}

/// Runs every due str0m timeout and (while sending) every due send tick.
fn run_due(
    bots: &mut [Bot],
    now: Instant,
    tally: &mut Tally,
    timers: &mut Deadlines,
    sending: bool,
    cfg: &Config,
) -> Result<(), FleetError> {
    while let Some(i) = timers.pop_due(now) {
        match bots[i].timeout(now) {
            Ok(()) => drain(bots, i, now, tally, timers)?,
            Err(e) => tally.fail(i, &e, timers),
        }
    }
    if !sending {
        return Ok(());
    }
    let epoch = tally.epoch.unwrap_or(now);
    while let Some(i) = tally.ticks.pop_due(now) {
        let t = Instant::now();
        let sent_ns = u64::try_from((t - epoch).as_nanos()).unwrap_or(u64::MAX);
        if bots[i].send_audio(t, cfg.payload_len, sent_ns).is_some() && tally.in_window(t) {
            tally.sent += 1;
        }
        drain(bots, i, t, tally, timers)?;
        tally.reschedule(i);
    }
    Ok(())
}

/// Waits for a datagram, an answer, or the next deadline.
fn wait(
    poll: &mut Poll,
    events: &mut Events,
    timers: &mut Deadlines,
    tally: &mut Tally,
    phase: Option<Instant>,
) -> Result<(), FleetError> {
    let next = [timers.earliest(), tally.ticks.earliest(), phase]
        .into_iter()
        .flatten()
        .min();
    let timeout = next.map(|t| t.saturating_duration_since(Instant::now()));
    match poll.poll(events, timeout) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Reads every ready socket to `WouldBlock` and applies every answer that came back.
fn handle_events(
    events: &Events,
    bots: &mut [Bot],
    buf: &mut [u8],
    answers: &Answers,
    tally: &mut Tally,
    timers: &mut Deadlines,
) -> Result<(), FleetError> {
    for event in events.iter() {
        if event.token() == WAKER {
            while let Ok((i, answer)) = answers.try_recv() {
                let sdp = answer.map_err(|why| FleetError::Signal { bot: i, why })?;
                match bots[i].answer(&sdp) {
                    Ok(()) => drain(bots, i, Instant::now(), tally, timers)?,
                    Err(e) => tally.fail(i, &e, timers),
                }
            }
            continue;
        }
        let i = event.token().0;
        if i >= bots.len() {
            continue;
        }
        loop {
            match bots[i].socket_mut().recv_from(buf) {
                Ok((len, from)) => {
                    let at = Instant::now();
                    if tally.failed[i] {
                        continue;
                    }
                    match bots[i].receive(at, from, &buf[..len]) {
                        Ok(()) => drain(bots, i, at, tally, timers)?,
                        Err(e) => tally.fail(i, &e, timers),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
    Ok(())
}
