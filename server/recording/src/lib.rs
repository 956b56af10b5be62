//! # hushpay-recording
//!
//! The call recording container, sans-IO: bytes and times are inputs, bytes are outputs. No
//! tokio, no clock, no files (scripts/check-architecture.sh proves it); the gateway owns the
//! files, the clock and the keys.
//!
//! ## What it promises
//!
//! * **Encrypted at rest.** A recording has a fresh 256-bit data key ([`RecordingKey`]), which
//!   the gateway wraps with the tenant's vault key. Each track derives its own key from it
//!   (HMAC-SHA256 over the track's header), so two tracks never share a (key, nonce) pair.
//! * **Chunked AES-256-GCM** ([`chunk`]): a track file is a plaintext [`header`] and a sequence
//!   of sealed chunks. Chunk `i` uses the nonce `0^32 || i` (64-bit big-endian counter) and
//!   associated data binding the header hash, `i` and a final-chunk flag. A flipped byte, a
//!   reordered, duplicated or dropped chunk fails authentication; a file cut anywhere is
//!   reported as [`Truncation`] "after chunk N" by the [`reader`], and everything up to the
//!   last complete chunk still decrypts.
//! * **Opus packets with their timestamps** ([`packet`]): per packet the recording-clock
//!   time (ms since the recording started), the RTP timestamp and sequence number, and the
//!   payload. The [`writer`] seals a chunk every `chunk_ms` (the caller's clock), so a crash
//!   loses at most the open chunk.
//! * **Signed metadata** ([`metadata`]): tracks and pause windows with their reasons, signed
//!   with HMAC-SHA256 under a key the vault derives per tenant; any change shows in
//!   [`metadata::SignedMetadata::verify`].
//!
//! Errors are [`RecordingError`]; their messages never contain key material or audio.

pub mod chunk;
mod error;
pub mod header;
mod key;
pub mod metadata;
pub mod packet;
pub mod reader;
pub mod writer;

pub use error::RecordingError;
pub use header::TrackHeader;
pub use key::{KEY_BYTES, RecordingKey};
pub use metadata::{Metadata, PauseWindow, SignedMetadata, TrackInfo};
pub use packet::RecordedPacket;
pub use reader::{DecodedTrack, Truncation, read_track};
pub use writer::TrackWriter;
