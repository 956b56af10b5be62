//! The run: every bot on the calling thread (one mio poll over the bots' sockets and the
//! signalling thread's waker, a deadline heap for str0m's timeouts and one for the 20 ms send
//! ticks), signalling on its own thread ([`crate::signal`]); then set-up, warm-up, the
//! measurement window and a drain, and the [`Report`]. See the crate doc.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mio::net::UdpSocket;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::audio::{self, Audio};
use crate::bot::{Bot, BotError};
use crate::metrics::{self, Counters};
use crate::report::{Report, Rss, Span};
use crate::signal::{Job, PairJob, SignalEvent, Signalling};
use crate::tally::{Tally, role};
use crate::{Config, LoadgenError, Minter, Role, TokenRequest, proc_stat};
use hushpay_rtc::Deadlines;

const WAKER: Token = Token(usize::MAX);
const MAX_DATAGRAM: usize = 2048;
/// Frames between the loop positions of consecutive pairs (so their digits do not coincide).
const PAIR_STAGGER: usize = 37;
/// Agents send a chat message every this many packets (1 s) with `chat`.
const CHAT_EVERY: u32 = 50;

/// `/proc` counters read at the window's edges.
#[derive(Debug, Default, Clone, Copy)]
struct Sample {
    gateway_cpu_us: Option<u64>,
    own_cpu_us: u64,
    gateway_wait_us: Option<u64>,
    own_wait_us: u64,
    udp_drops: Option<u64>,
}

impl Sample {
    fn take(gateway: Option<u32>) -> Result<Self, LoadgenError> {
        let me = std::process::id();
        Ok(Self {
            gateway_cpu_us: gateway.map(proc_stat::cpu_us).transpose()?,
            own_cpu_us: proc_stat::cpu_us(me)?,
            gateway_wait_us: gateway.map(proc_stat::run_delay_us).transpose()?,
            own_wait_us: proc_stat::run_delay_us(me)?,
            udp_drops: proc_stat::udp_rcvbuf_errors().ok(),
        })
    }
}

/// The bots and what drives them.
struct Fleet<'a> {
    cfg: &'a Config,
    audio: Audio,
    bots: Vec<Bot>,
    tally: Tally,
    timers: Deadlines,
    sending: bool,
}

/// Connects `cfg.pairs` call pairs through the gateway, measures, and reports.
pub fn run(cfg: &Config, minter: &dyn Minter) -> Result<Report, LoadgenError> {
    let load = proc_stat::load_1min()?;
    if cfg.strict && load > cfg.max_load {
        return Err(LoadgenError::Busy {
            load,
            max: cfg.max_load,
        });
    }
    let n = cfg.pairs * 2;
    let start = Instant::now();
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let mut fleet = Fleet {
        cfg,
        audio: audio::looped(cfg.dtmf_every)?,
        bots: Vec::with_capacity(n),
        tally: Tally::new(n),
        timers: Deadlines::default(),
        sending: true,
    };
    let ip = match cfg.gateway.ip() {
        ip if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        ip => ip,
    };
    let mut offers = Vec::with_capacity(n);
    for i in 0..n {
        let mut socket = UdpSocket::bind(SocketAddr::new(ip, 0))?;
        poll.registry()
            .register(&mut socket, Token(i), Interest::READABLE)?;
        let mut bot = Bot::new(start, socket).map_err(|e| LoadgenError::Offer(e.to_string()))?;
        offers.push(
            bot.offer(cfg.chat)
                .map_err(|e| LoadgenError::Offer(e.to_string()))?,
        );
        fleet.bots.push(bot);
    }
    let jobs = jobs(cfg, minter, offers)?;
    let rss_before = cfg.gateway_pid.map(proc_stat::rss_kib).transpose()?;

    let (events_tx, events) = mpsc::channel();
    let signalling = Signalling::start(
        cfg.gateway,
        jobs,
        cfg.concurrency,
        cfg.ramp,
        events_tx,
        Arc::clone(&waker),
    )?;
    let setup_start = Instant::now();
    let mut io = Io {
        poll,
        events: Events::with_capacity(256),
        buf: vec![0u8; MAX_DATAGRAM],
        signals: events,
    };
    let (mut first, mut last) = (Sample::default(), Sample::default());
    let mut scrapes: Vec<JoinHandle<Option<Counters>>> = Vec::new();
    let mut rss_end = None;
    loop {
        let now = Instant::now();
        let Some(settled) = fleet.tally.settled_at else {
            if now - setup_start > cfg.setup_timeout {
                fleet.tally.time_out(&mut fleet.timers, now);
                continue;
            }
            fleet.run_due(now);
            io.turn(&mut fleet, Some(setup_start + cfg.setup_timeout))?;
            continue;
        };
        if fleet.tally.live_pairs() == 0 && fleet.tally.window.is_none() {
            fleet.tally.window = Some((now, Some(now)));
            break;
        }
        let phase_deadline = match fleet.tally.window {
            None if now >= settled + cfg.warmup => {
                first = Sample::take(cfg.gateway_pid)?;
                scrapes.push(scrape(cfg.gateway));
                fleet.tally.window = Some((now, None));
                Some(now + cfg.window)
            }
            None => Some(settled + cfg.warmup),
            Some((ws, None)) if now >= ws + cfg.window => {
                last = Sample::take(cfg.gateway_pid)?;
                rss_end = cfg.gateway_pid.map(proc_stat::rss_kib).transpose()?;
                scrapes.push(scrape(cfg.gateway));
                fleet.tally.window = Some((ws, Some(now)));
                fleet.sending = false;
                Some(now + cfg.drain)
            }
            Some((ws, None)) => Some(ws + cfg.window),
            Some((_, Some(we))) if now >= we + cfg.drain => break,
            Some((_, Some(we))) => Some(we + cfg.drain),
        };
        fleet.run_due(now);
        io.turn(&mut fleet, phase_deadline)?;
    }
    let wall_s = start.elapsed().as_secs_f64();
    signalling.leave().map_err(LoadgenError::Signalling)?;

    let counters: Vec<Option<Counters>> = scrapes
        .into_iter()
        .map(|h| h.join().ok().flatten())
        .collect();
    let counters = match counters.as_slice() {
        [Some(before), Some(after)] => metrics::delta(before, after),
        _ => Counters::new(),
    };
    Ok(fleet.report(Measured {
        load,
        wall_s,
        setup_start,
        first,
        last,
        rss: rss_before.zip(rss_end),
        counters,
    }))
}

/// Mints every bot's token and pairs the offers with them (room `load-<run>-<k>`).
fn jobs(
    cfg: &Config,
    minter: &dyn Minter,
    offers: Vec<String>,
) -> Result<Vec<PairJob>, LoadgenError> {
    let run_id = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        ^ u128::from(std::process::id());
    let ttl = cfg.setup_timeout + cfg.warmup + cfg.window + cfg.drain + Duration::from_secs(300);
    let mut jobs = Vec::with_capacity(cfg.pairs);
    let mut offers = offers.into_iter();
    for k in 0..cfg.pairs {
        let room = format!("load-{run_id:x}-{k}");
        let job = |bot: usize, offer: Option<String>| -> Result<Job, LoadgenError> {
            let (identity, role) = match role(bot) {
                Role::Agent => (format!("agent-{k}"), Role::Agent),
                Role::Patient => (format!("patient-{k}"), Role::Patient),
            };
            let token = minter
                .mint(&TokenRequest {
                    room: room.clone(),
                    identity,
                    role,
                    ttl,
                })
                .map_err(LoadgenError::Mint)?;
            let offer = offer.ok_or_else(|| LoadgenError::Offer("missing".into()))?;
            Ok(Job { bot, token, offer })
        };
        let agent = job(2 * k, offers.next())?;
        let patient = job(2 * k + 1, offers.next())?;
        jobs.push(PairJob { agent, patient });
    }
    Ok(jobs)
}

/// Scrapes the gateway's counters on a thread of its own (the media thread does not wait).
fn scrape(gateway: SocketAddr) -> JoinHandle<Option<Counters>> {
    std::thread::spawn(move || metrics::scrape(gateway))
}

/// The media thread's poll, read buffer and the signalling thread's channel.
struct Io {
    poll: Poll,
    events: Events,
    buf: Vec<u8>,
    signals: mpsc::Receiver<SignalEvent>,
}

impl Io {
    /// Waits for a datagram, a signalling event or the next deadline, and handles what came.
    fn turn(&mut self, fleet: &mut Fleet<'_>, phase: Option<Instant>) -> Result<(), LoadgenError> {
        let next = [fleet.timers.earliest(), fleet.tally.ticks.earliest(), phase]
            .into_iter()
            .flatten()
            .min();
        let timeout = next.map(|t| t.saturating_duration_since(Instant::now()));
        match self.poll.poll(&mut self.events, timeout) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
        for event in self.events.iter() {
            if event.token() == WAKER {
                while let Ok(signal) = self.signals.try_recv() {
                    fleet.signal(signal);
                }
                continue;
            }
            let i = event.token().0;
            if i < fleet.bots.len() {
                fleet.read(i, &mut self.buf)?;
            }
        }
        Ok(())
    }
}

/// What [`run`] measured outside the fleet.
struct Measured {
    load: f64,
    wall_s: f64,
    setup_start: Instant,
    first: Sample,
    last: Sample,
    rss: Option<(u64, u64)>,
    counters: Counters,
}

impl Fleet<'_> {
    /// Drains bot `i` and books its events and next deadline.
    fn drain(&mut self, i: usize, at: Instant) {
        let tally = &mut self.tally;
        let drained = self.bots[i].drain(&mut |ev| tally.event(i, ev, at));
        match drained {
            Ok(next) if !self.tally.failed[i] => self.timers.set(i, next),
            Ok(_) => {}
            Err(e) => self.fail(i, &e, at),
        }
    }

    fn fail(&mut self, i: usize, e: &BotError, at: Instant) {
        self.tally.fail(i, &e.to_string(), &mut self.timers, at);
    }

    /// Applies what the signalling thread said.
    fn signal(&mut self, signal: SignalEvent) {
        let now = Instant::now();
        match signal {
            SignalEvent::Answer { bot, sdp } => {
                if bot >= self.bots.len() || self.tally.failed[bot] {
                    return;
                }
                match self.bots[bot].answer(&sdp) {
                    Ok(()) => self.drain(bot, now),
                    Err(e) => self.fail(bot, &e, now),
                }
            }
            SignalEvent::Failed { bot, why } => {
                self.tally.fail(bot, &why, &mut self.timers, now);
            }
            SignalEvent::Closed { bot, why } => {
                let why = format!("the gateway ended the session: {why}");
                self.tally.fail(bot, &why, &mut self.timers, now);
            }
        }
    }

    /// Reads bot `i`'s socket to `WouldBlock`.
    fn read(&mut self, i: usize, buf: &mut [u8]) -> Result<(), LoadgenError> {
        loop {
            match self.bots[i].socket_mut().recv_from(buf) {
                Ok((len, from)) => {
                    let at = Instant::now();
                    if self.tally.failed[i] {
                        continue;
                    }
                    match self.bots[i].receive(at, from, &buf[..len]) {
                        Ok(()) => self.drain(i, at),
                        Err(e) => self.fail(i, &e, at),
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Runs every due str0m timeout and (while sending) every due send tick.
    fn run_due(&mut self, now: Instant) {
        while let Some(i) = self.timers.pop_due(now) {
            match self.bots[i].timeout(now) {
                Ok(()) => self.drain(i, now),
                Err(e) => self.fail(i, &e, now),
            }
        }
        if !self.sending {
            return;
        }
        while let Some(i) = self.tally.ticks.pop_due(now) {
            let t = Instant::now();
            let frames = match role(i) {
                Role::Agent => &self.audio.agent,
                Role::Patient => &self.audio.patient,
            };
            let seq = self.bots[i].next_seq();
            let frame = (seq as usize + (i / 2) * PAIR_STAGGER) % frames.len();
            if let Some(seq) = self.bots[i].send_audio(t, Arc::clone(&frames[frame])) {
                self.tally.sent(i, seq, t);
                if self.cfg.chat
                    && role(i) == Role::Agent
                    && seq % CHAT_EVERY == 0
                    && self.tally.chat_open[i]
                {
                    let text = format!("{{\"type\":\"chat\",\"text\":\"load test {}\"}}", i / 2);
                    if self.bots[i].send_chat(&text) && self.tally.in_window(t) {
                        self.tally.chat_sent += 1;
                    }
                }
            }
            self.drain(i, t);
            self.tally.reschedule(i);
        }
    }

    fn report(mut self, m: Measured) -> Report {
        let cfg = self.cfg;
        let (ws, we) = match self.tally.window {
            Some((ws, Some(we))) => (ws, we),
            Some((ws, None)) => (ws, ws),
            None => (m.setup_start, m.setup_start),
        };
        let measured_s = (we - ws).as_secs_f64();
        let diff = |f: fn(&Sample) -> Option<u64>| {
            f(&m.first)
                .zip(f(&m.last))
                .map(|(a, b)| b.saturating_sub(a))
        };
        let pct = |us: u64| us as f64 / (measured_s.max(1e-9) * 1e6) * 100.0;
        let gateway_wait = diff(|s| s.gateway_wait_us);
        let own_wait = m.last.own_wait_us.saturating_sub(m.first.own_wait_us);
        self.tally.p2a_us.sort_unstable();
        self.tally.a2p_us.sort_unstable();
        if self.tally.disconnects > 0 {
            eprintln!("warning: {} ICE disconnects", self.tally.disconnects);
        }
        let send_errors: u64 = self.bots.iter().map(|b| b.send_errors).sum();
        if send_errors > 0 {
            eprintln!("warning: {send_errors} datagrams the bots' sockets refused");
        }
        let tally = self.tally;
        Report {
            engine: "str0m".into(),
            pairs: cfg.pairs,
            failures: tally.failures,
            seconds: cfg.window.as_secs(),
            wall_s: m.wall_s,
            span: Span::Window {
                warmup_s: cfg.warmup.as_secs_f64(),
            },
            measured_s,
            gateway_cpu_us: diff(|s| s.gateway_cpu_us).map(|us| us as f64),
            loadgen_cpu_us: Some(m.last.own_cpu_us.saturating_sub(m.first.own_cpu_us) as f64),
            counters: m.counters,
            sent: tally.sent,
            received: tally.received,
            forwarded: tally.forwarded,
            p2a_us: tally.p2a_us,
            a2p_us: tally.a2p_us,
            rss: m.rss.map(|(before, end)| Rss {
                mb: end as f64 / 1024.0,
                kib_per_pair: end.saturating_sub(before) as f64 / cfg.pairs.max(1) as f64,
            }),
            setup_s: tally.settled_at.map(|s| (s - m.setup_start).as_secs_f64()),
            wait_pct: gateway_wait.map(|gw| (pct(gw), pct(own_wait))),
            udp_drops: diff(|s| s.udp_drops),
            chat: cfg.chat.then_some((tally.chat_sent, tally.chat_received)),
            load: m.load,
            max_load: cfg.max_load,
        }
    }
}
