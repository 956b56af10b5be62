//! # hushpay-protocol
//!
//! The wire contract of `GET /v1/rtc` and the chat data channel, documented in
//! docs/protocol.md: the types both ends (the gateway, the participant bots, any Rust client)
//! serialize and parse, and nothing else (no sockets, no sessions, no rooms).
//!
//! * [`signal`]: signalling frames (client and server), the stable error codes,
//!   [`PROTOCOL_VERSION`](signal::PROTOCOL_VERSION) and the frame parser;
//! * [`chat`]: what travels on the `chat` data channel;
//! * [`payment`]: the payment facts a patient may see (`payment_requested`, `payment_ended`,
//!   the `payment_link` chat message);
//! * [`ice`]: TURN servers as `RTCIceServer` entries (`joined`, `token_refreshed`);
//! * [`redact`]: strips submitted values from serde's error messages, so a refusal never
//!   echoes input (card numbers included).

pub mod chat;
pub mod ice;
pub mod payment;
pub mod redact;
pub mod signal;
