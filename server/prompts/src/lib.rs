//! # hushpay-prompts: the IVR's prompt audio, sans-IO
//!
//! What this crate promises (like `hushpay-media`, which it builds on): no I/O, no clock, no
//! tasks — WAV bytes come in from the caller, time is an input, packets and deadlines go out.
//!
//! * [`prompt`]: the prompt names ([`prompt::PROMPT_NAMES`]) and a [`prompt::PromptSet`]
//!   encoded once with libopus in 20 ms frames; a set is complete or refused;
//! * [`speech`] (English) and [`speech_es`] (Spanish): amounts and digit strings as runs of
//!   prompt names (concatenation);
//! * [`language`]: the languages with a prompt set, picked by a payment's locale;
//! * [`player`]: one outgoing stream carrying forwarded audio or prompts, with sequence numbers
//!   and timestamps continuous across every switch and packets paced by the caller's clock.
//!
//! It is a crate of its own so the masking core stays about masking; the gateway's IVR
//! (`server/gateway/src/ivr`) and SFU (`sfu/ivr_audio.rs`) use it.

pub mod language;
pub mod player;
pub mod prompt;
pub mod speech;
pub mod speech_es;
