//! hushpay-rtc: the media engine's transport, sans-IO.
//!
//! # What it promises
//! * **One address for every peer.** An [`Endpoint`] holds all the WebRTC peers of one worker
//!   (str0m [`Rtc`](str0m::Rtc)s in RTP mode) behind one UDP address and, optionally, one TCP
//!   address for ICE-TCP (passive candidates). A datagram is routed by the remote address it
//!   came from, or, the first time, by the local ICE ufrag in its STUN `USERNAME` once the
//!   check passes that peer's integrity check (its ICE password); O(1) per datagram whatever
//!   the number of peers. A datagram that belongs to no peer is refused and changes nothing;
//!   a peer is reachable from at most [`MAX_ROUTES_PER_PEER`] addresses.
//! * **No I/O, no clock.** Time is an input (`now` on every call); datagrams go in with
//!   [`Endpoint::handle_datagram`] and come out of [`Endpoint::poll_output`] as [`Transmit`]s
//!   for the driver to send; [`Endpoint::poll_timeout`] says when to call
//!   [`Endpoint::handle_timeout`]. No sockets, threads, tokio or databases here: the driver
//!   that owns the sockets is [`driver`], compiled only with the `driver` feature for the
//!   binaries at the edge (the gateway, the load generator); the architecture check builds
//!   the core without it.
//! * **Audio as RTP, untouched.** Received packets come out as [`RtpIn`] (payload type,
//!   extended sequence number, timestamp, marker, the payload in one shared allocation, the
//!   arrival instant); nothing is decoded or reordered. [`Endpoint::write_rtp`] sends a
//!   packet with the sequence number and timestamp the caller chose, the payload shared
//!   (`Arc<[u8]>`) between every peer it goes to.
//! * **The media rules of the product.** Opus (no in-band FEC, `maxplaybackrate=16000`, 20 ms
//!   packets asked for) and telephone-event at 48 and 8 kHz are the only codecs; answers are
//!   munged by [`sdp::munge_answer`]. The only RTP header extension negotiated is the media
//!   section's id: audio-only calls do no bandwidth estimation, so no transport-wide
//!   congestion control feedback (a report per peer every 50 ms otherwise).
//! * **A bug in str0m costs one peer.** str0m panics on internal bugs by design; every call
//!   into a peer runs under `catch_unwind`, and a peer that panicked is removed and reported
//!   [`PeerEvent::Gone`]; the worker and its other peers go on.
//! * **Data channels** open, carry and close as [`PeerEvent`]s; messages may be chat holding
//!   card numbers, so the caller wipes them (this crate keeps no copy after handing one out).

mod deadlines;
#[cfg(feature = "driver")]
pub mod driver;
mod endpoint;
mod error;
mod peer;
pub mod sdp;
pub mod stun;
mod unwind;

/// The deadline heap the endpoint keeps its peers' timers in, for edge tools that drive many
/// sans-IO peers on one thread too (the load generator).
pub use deadlines::Deadlines;
pub use endpoint::{
    Endpoint, EndpointConfig, EndpointStats, MAX_ROUTES_PER_PEER, Output, PeerId, Transmit,
    check_candidate,
};
pub use error::EngineError;
pub use peer::{AudioPayload, PeerEvent, RtpIn, RtpOut};
pub use str0m::channel::ChannelId;
pub use str0m::net::Protocol;
