//! Reaching the gateway from real networks, kept apart from the media engine so it outlives a
//! change of engine: what the gateway advertises and what it hands its participants.
//!
//! * [`turn`]: the `[turn]` section and short-lived TURN credentials (the TURN REST API
//!   shared-secret scheme coturn implements as `use-auth-secret`), sent in `joined` and
//!   `token_refreshed` as `iceServers`;
//! * [`stun`]: a STUN binding request at start-up that finds the public address
//!   (`rtc.stun_server`) when `rtc.public_ip` is not set;
//! * [`advertise`]: host candidates carry `rtc.public_ip` instead of the bind address.
//!
//! Nothing here knows the WebRTC engine: candidates are SDP candidate strings, credentials are
//! the `RTCIceServer` shape browsers take.

pub mod advertise;
pub mod stun;
pub mod turn;
