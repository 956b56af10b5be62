//! hushpay-loadgen: the engine of `hushpay loadgen`, a load generator that is not the
//! bottleneck of the gateway it measures.
//!
//! # What it promises
//! * **Real calls through a real gateway.** [`run`] opens `pairs` rooms on the gateway at
//!   [`Config::gateway`], each with an agent and a patient bot that join over the signalling
//!   WebSocket (`GET /v1/rtc`: `join` → `joined`, `offer` → `answer`; the gateway's candidates
//!   are in its answer) with tokens the caller mints ([`Minter`]: this crate knows no gateway
//!   type and no signing key). Both bots talk for the whole run; the patient's audio is real
//!   Opus (the gateway's masker decodes it) with an in-band DTMF digit every
//!   [`Config::dtmf_every`], encoded once ([`audio`]) and shared by every bot.
//! * **Many bots per thread.** Every bot is a str0m `Rtc` in RTP mode with its own UDP socket,
//!   all driven by the calling thread (one mio poll, a deadline heap for str0m's timeouts and
//!   one for the 20 ms send ticks). Signalling runs on one other thread ([`signal`]: tokio and
//!   tokio-tungstenite, `concurrency` pairs in set-up at once); the media thread never waits on
//!   it. No data channel unless [`Config::chat`].
//! * **Latency per packet**, one way, from the sender's send instant to the receiver's arrival
//!   instant, matched by RTP timestamp (the masker may replace a payload, never a timestamp):
//!   patient→agent includes the masker's 20 ms hold.
//! * **A measurement window.** Set-up (every pair connected and receiving, or failed), then a
//!   warm-up, then the window: loss and latency of the packets sent in it, the gateway's CPU
//!   (`/proc/PID/stat`) and µs of it per packet the bots received in it, its RSS, its metric
//!   counters (`/metrics`). The 1-minute load average before the start is in the [`Report`],
//!   which is flagged BUSY above [`Config::max_load`] (or the run refused with
//!   [`Config::strict`]).
//! * **The result lines of `hushpay loadgen`** ([`report::Report`]'s `Display`): the lines the
//!   command always printed, then the window's, then one `result key=value ...` line for
//!   scripts (`bench/sfu.sh`).

pub mod audio;
mod bot;
mod fleet;
pub mod metrics;
pub mod proc_stat;
pub mod report;
pub mod signal;
mod tally;

use std::net::SocketAddr;
use std::time::Duration;

pub use fleet::run;
pub use report::Report;

/// A participant's role (what the token says).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Agent,
    Patient,
}

/// A token to mint for one bot.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// Room name (unique per pair and run).
    pub room: String,
    pub identity: String,
    pub role: Role,
    /// Lifetime: the whole run and a margin.
    pub ttl: Duration,
}

/// Mints participant tokens for the caller's tenant (the gateway's own signer).
pub trait Minter {
    /// A signed token for `request`, or why not.
    fn mint(&self, request: &TokenRequest) -> Result<String, String>;
}

impl<F: Fn(&TokenRequest) -> Result<String, String>> Minter for F {
    fn mint(&self, request: &TokenRequest) -> Result<String, String> {
        self(request)
    }
}

/// What one run does.
#[derive(Debug, Clone)]
pub struct Config {
    /// The gateway's HTTP/WebSocket address.
    pub gateway: SocketAddr,
    /// Call pairs (rooms).
    pub pairs: usize,
    /// Measurement window.
    pub window: Duration,
    /// After every pair has media, before the window.
    pub warmup: Duration,
    /// After the window, how long to wait for its last packets.
    pub drain: Duration,
    /// Pairs not connected and receiving by then fail.
    pub setup_timeout: Duration,
    /// An in-band DTMF digit on the patient's audio every this often (zero: none).
    pub dtmf_every: Duration,
    /// The gateway's process id (CPU, RSS); without it they are not reported.
    pub gateway_pid: Option<u32>,
    /// Delay between pair starts.
    pub ramp: Duration,
    /// Pairs in set-up (signalling) at once.
    pub concurrency: usize,
    /// Open the `chat` data channel; agents send a chat message every second.
    pub chat: bool,
    /// A 1-minute load average above this before the start flags the run BUSY.
    pub max_load: f64,
    /// Refuse to run when the machine is busy.
    pub strict: bool,
}

impl Config {
    /// The defaults of `hushpay loadgen` for `gateway`.
    pub fn new(gateway: SocketAddr) -> Self {
        Self {
            gateway,
            pairs: 10,
            window: Duration::from_secs(20),
            warmup: Duration::from_secs(3),
            drain: Duration::from_secs(1),
            setup_timeout: Duration::from_secs(120),
            dtmf_every: Duration::from_secs(4),
            gateway_pid: None,
            ramp: Duration::from_millis(20),
            concurrency: 8,
            chat: false,
            max_load: 0.7,
            strict: false,
        }
    }
}

/// Why a run could not report.
#[derive(Debug, thiserror::Error)]
pub enum LoadgenError {
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("audio: {0}")]
    Audio(#[from] audio::AudioError),
    #[error("/proc: {0}")]
    Proc(#[from] proc_stat::ProcError),
    #[error("minting a token: {0}")]
    Mint(String),
    #[error("a bot's offer: {0}")]
    Offer(String),
    #[error("refusing to run: 1-minute load average {load:.2} > {max:.2} (another job is running)")]
    Busy { load: f64, max: f64 },
    #[error("the signalling thread: {0}")]
    Signalling(String),
}
