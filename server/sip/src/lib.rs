//! # hushpay-sip: sans-IO SIP trunk ingress for phone callers
//!
//! What this crate promises:
//!
//! * **No I/O, no clock, no tasks.** Like `hushpay-media`, it never opens a socket and never reads
//!   the clock. The caller feeds datagrams or framed TCP messages with the time they arrived
//!   ([`Endpoint::handle_input`]), drains [`Output`]s (bytes to send, call events) with
//!   [`Endpoint::poll_output`], and calls [`Endpoint::handle_timeout`] at the instant the last
//!   [`Output::Timeout`] named. RFC 3261 timers (the 2xx retransmission over UDP, T1 = 500 ms
//!   doubling to T2 = 4 s, given up after 64·T1) run on that `now`, so tests step time by hand.
//! * **User agent server only.** Hushpay answers INVITE (100 Trying, then 200 OK with an SDP
//!   answer once the application has bound an RTP socket, [`Endpoint::answer`]), ACK, BYE, CANCEL
//!   (487 to the INVITE, 200 to the CANCEL), OPTIONS (200), re-INVITEs for hold and INFO
//!   carrying a keypad key ([`dtmf_info`], [`Event::Key`]). It never
//!   originates a call or forwards one, so a compromised trunk cannot use Hushpay for toll
//!   fraud. The one request that leaves this crate is the BYE of a call the application hangs up
//!   ([`Endpoint::hang_up`], [`request`]): inside the caller's dialog, sent to the trunk the
//!   INVITE came from, retransmitted over UDP like any non-INVITE request until answered.
//! * **Nobody unknown gets a call in.** A request from a source no trunk allows is refused `403`
//!   and leaves no state; a trunk is authorised by its source address allowlist (CIDRs) or by
//!   digest authentication (`401` challenge, MD5 or SHA-256, RFC 8760) ([`trunk`], [`digest`]).
//!   Dispatch rules of the trunk's tenant map the called number or a header value to a room
//!   ([`dispatch`]); no rule, no call (`404`).
//! * **Hostile bytes never panic.** Parsing returns a typed [`SipError`]; a request malformed
//!   beyond the headers a response needs gets `400`, anything less is dropped. Limits: message
//!   size, header count, calls per trunk and in all ([`config::Limits`]).
//!
//! Map: [`message`] parses a request (and the status of a response), [`response`] writes one,
//! [`request`] writes our BYE, [`sdp`] does the offer/answer for
//! a G.711 leg (PCMU, PCMA, telephone-event), [`trunk`] and [`digest`] authorise, [`dispatch`]
//! routes, [`framing`] splits a TCP byte stream into messages, [`endpoint`] is the state machine
//! and [`call`] its per-call state.
//!
//! ## Why the ezk parsers (`ezk-sip-types`, `ezk-sdp-types`)
//!
//! Candidates read (source in `~/.cargo/registry/src`, issues through the search index):
//!
//! * **`rsipstack` 0.7** (maintained, 2026): its SIP types are a fork of `rsip` vendored inside
//!   the stack, and the crate does not build without a platform backend: `default-features =
//!   false` stops at `compile_error!("no platform backend enabled; enable platform-tokio ...")`.
//!   Tokio in a sans-IO crate is what this project forbids, so it is out.
//! * **`rsip` 0.4** (sans-IO, nom): last release 2022, unmaintained, pins md-5/sha2 0.9, uuid
//!   0.8 and bstr 0.2 (duplicates of everything in the lock file); its maintained descendant is
//!   the rsipstack fork above.
//! * **`rvoip`**: a full softswitch framework (tokio, its own media), far more than a parser.
//! * **`ezk-sip-types` 0.6 / `ezk-sdp-types` 0.6** (kbalt/ezk, maintained, edition 2024): the
//!   parser layer of the `ezk-sip-core` stack, published as separate crates with no runtime
//!   (bytes, nom 7, memchr). A pull parser for the message head, typed headers (Via, CSeq,
//!   From/To tags, digest `Authorization`) and an SDP parser with typed `rtpmap`, direction and
//!   connection lines; `unwrap` appears only in their tests. Chosen. Their transaction layer is
//!   tokio-bound (`ezk-sip-core`), so the UAS state machine here is our own, sans-IO.
//!
//! What is written here rather than taken: the response text (echoing the request's Via, From,
//! To, Call-ID and CSeq lines is simpler than building typed headers), the digest computation
//! (a dozen lines of MD5/SHA-256 over the RFC 8760 strings), TCP framing by Content-Length.
//! The fuzz targets `sip` and `sdp` (server/fuzzing) drive the ezk parsers through this crate.

pub mod call;
pub mod config;
pub mod digest;
pub mod dispatch;
pub mod dtmf_info;
pub mod endpoint;
pub mod error;
pub mod framing;
pub mod message;
pub mod request;
pub mod response;
pub mod sdp;
pub mod trunk;

pub use config::{Limits, SipConfig};
pub use endpoint::{
    CallId, EndReason, Endpoint, Event, IncomingCall, Input, Output, Peer, Refusal,
    TransferOutcome, Transport,
};
pub use error::SipError;
