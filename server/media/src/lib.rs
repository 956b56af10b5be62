//! # hushpay-media: the sans-IO media core of Hushpay
//!
//! What this crate promises:
//!
//! * **No I/O, no clock, no tasks.** It never opens a socket, never spawns, never reads the clock.
//!   Time is an input: every call that depends on time takes a [`std::time::Instant`] supplied by
//!   the caller (`now`), and every deadline the crate needs is handed back as
//!   [`masker::Output::Timeout`]. Tests step time by hand, so an hour of audio runs in seconds.
//! * **The agent never hears a keyed digit.** [`masker::Masker`] consumes RFC 4733
//!   telephone-event packets (never forwarded), holds each Opus packet one packet time, decodes it
//!   to 8 kHz, runs a deliberately sensitive "looks like DTMF" flag ([`flagger`]) and substitutes the
//!   constant Opus silence frame for every flagged packet plus one before and one after. Sequence
//!   numbers stay gap-free (consumed packets are renumbered away), RTP timestamps are kept, no packet
//!   is dropped or turned into a 1-byte DTX packet.
//! * **Digits are detected once.** The strict ITU-T Q.24 detector ([`detector`]) and the RFC 4733
//!   key tracker ([`key_tracker`]) each report one digit per key press; a key that arrives both
//!   in-band and as an event is reported once.
//! * **Card digits are secret.** In secure mode digits go to the [`collector`] only (never to an
//!   output the caller might log); they live in a zeroizing buffer whose `Debug` is redacted.
//! * **Hostile bytes never panic.** Every parser returns a typed [`MediaError`].
//!
//! Map: [`rtp`], [`rfc4733`] and [`wav`] parse bytes; [`key_tracker`] turns events into key
//! presses; [`goertzel`], [`detector`] and [`flagger`] look at 8 kHz PCM; [`opus_codec`] wraps
//! libopus, [`g711`] encodes and decodes the phone leg's µ-law and A-law, and [`opus_toc`] reads a packet's coded bandwidth; [`masker`] is the per-stream state machine (Opus, or G.711 on a phone leg); [`transcode`] turns a phone leg's G.711 into Opus and back; [`collector`] gathers payment fields;
//! [`offline`] drives the same code over whole buffers (the `hushpay media` CLI); [`signal`],
//! [`resample`] and [`level`] are helpers shared by tests, benches and the CLI.
//!
//! Audio conventions: PCM is 16-bit signed linear at 8 kHz for detection. Level reference
//! (G.711 convention): a full-scale 16-bit sine is +3.14 dBm0, so a 0 dBm0 sine has amplitude
//! `32768 * 10^(-3.14/20)` ~ 22 827 ([`level::DBM0_SINE_AMPLITUDE`]).

mod agent_view;
pub mod collector;
pub mod detector;
pub mod digit;
pub mod error;
pub mod flagger;
pub mod g711;
pub mod goertzel;
pub mod key_tracker;
pub mod level;
pub mod masker;
pub mod offline;
pub mod opus_codec;
pub mod opus_toc;
mod recent_keys;
pub mod renumber;
pub mod resample;
pub mod rfc4733;
pub mod rtp;
pub mod seq;
pub mod signal;
pub mod transcode;
pub mod wav;

pub use digit::Digit;
pub use error::MediaError;
