//! # hushpay-fuzzing: the bodies of Hushpay's fuzz targets
//!
//! One module per parser that reads bytes from outside. Each exposes `run(data: &[u8])`: it feeds
//! the bytes to the real parser (never a copy of it) and checks the invariant that parser
//! promises; a broken invariant or a panic inside the parser is a crash.
//!
//! The same functions run in two places:
//!
//! * `fuzz/` (outside the workspace build): one `cargo fuzz` target per module, a one-line
//!   `fuzz_target!` that calls `run`; `scripts/fuzz.sh SECONDS` runs them all under libFuzzer
//!   with coverage guidance (a nightly-only build, done on the stable toolchain with
//!   `RUSTC_BOOTSTRAP=1`);
//! * `tests/replay_corpus.rs` (plain `cargo test`, part of the README's test command): every
//!   committed input of `fuzz/seeds/<target>/` and `fuzz/corpus/<target>/` is replayed through
//!   the same `run`, so a fixed crash stays fixed without a nightly build or sanitizers.
//!
//! | target | parser | invariant checked beyond "no panic" |
//! |---|---|---|
//! | `rtp` | [`hushpay_media::rtp`], [`hushpay_media::rfc4733`] | parsed slices lie inside the input; rewrite and build round-trip |
//! | `masker` | [`hushpay_media::masker::Masker`] fed a packet program | no digit the strict detector finds reaches the agent ([`masker`]) |
//! | `masker_g711` | the same masker on a phone leg (PCMU/PCMA, 8 kHz events, SIP INFO keys) | the `masker` invariants for G.711: no digit reaches the agent, a masked packet is the law's silence ([`masker_g711`]) |
//! | `signal` | `hushpay_protocol::signal::parse` (what the gateway calls per frame) | refusals use the stable codes and never echo the frame |
//! | `chat_scan` | [`hushpay_card::chat_scan`] | redacted text holds no card number; the scanner never keeps one across messages |
//! | `sealed_card` | [`hushpay_card::sealed`] envelope and plaintext | only a card sealed to the key and binding opens; accepted plaintexts re-seal to the same card |
//! | `recording` | [`hushpay_recording`] reader, packets, metadata | what a cut file yields is a prefix of what was written |
//! | `webhook_url` | [`hushpay_vault::webhook`] destination check | an accepted URL never names an internal host as the HTTP client parses it |
//! | `jwt` | [`hushpay_auth::Validator`] (the pre-check runs first) | no token is accepted that the test key did not sign byte for byte |
//! | `sip` | [`hushpay_sip::Endpoint`] fed a datagram and a TCP stream (framer) | only responses leave it (Hushpay originates no call); a stranger gets at most a 403 and no state; calls time out |
//! | `sdp` | [`hushpay_sip::sdp::negotiate`] | an accepted offer's answer negotiates back to the same codec, address and RFC 3264 direction, one media line per offered line |
//! | `rtc_endpoint` | [`hushpay_rtc::Endpoint`] datagram routing (UDP and ICE-TCP frames) with live peers | attackers' datagrams are refused; every legitimate one reaches its peer; the peers stay connected |

pub mod bytes;
pub mod chat_scan;
mod dtmf_opus;
pub mod jwt;
pub mod masker;
pub mod masker_g711;
pub mod recording;
pub mod rtc_endpoint;
pub mod rtp;
pub mod sdp;
pub mod sealed_card;
pub mod seeds;
pub mod signal;
pub mod sip;
pub mod webhook_url;

/// A fuzz target: its name (the `fuzz/fuzz_targets/<name>.rs` file and the corpus folders) and
/// its body.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target, in the order `scripts/fuzz.sh` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "rtp",
        run: rtp::run,
    },
    Target {
        name: "masker",
        run: masker::run,
    },
    Target {
        name: "signal",
        run: signal::run,
    },
    Target {
        name: "chat_scan",
        run: chat_scan::run,
    },
    Target {
        name: "sealed_card",
        run: sealed_card::run,
    },
    Target {
        name: "recording",
        run: recording::run,
    },
    Target {
        name: "jwt",
        run: jwt::run,
    },
    Target {
        name: "webhook_url",
        run: webhook_url::run,
    },
    Target {
        name: "rtc_endpoint",
        run: rtc_endpoint::run,
    },
    Target {
        name: "sip",
        run: sip::run,
    },
    Target {
        name: "sdp",
        run: sdp::run,
    },
    Target {
        name: "masker_g711",
        run: masker_g711::run,
    },
];
