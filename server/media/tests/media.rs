//! The media crate's integration tests, one binary (fast to link), one module per behaviour.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "media/collector_fields.rs"]
mod collector_fields;
#[path = "media/common.rs"]
mod common;
#[path = "media/conformance_q24.rs"]
mod conformance_q24;
#[path = "media/keyed_speech.rs"]
mod keyed_speech;
#[path = "media/masker_edges.rs"]
mod masker_edges;
#[path = "media/masker_invariants.rs"]
mod masker_invariants;
#[path = "media/masks_digit_onset.rs"]
mod masks_digit_onset;
#[path = "media/masks_g711_phone_leg.rs"]
mod masks_g711_phone_leg;
#[path = "media/masks_long_packets.rs"]
mod masks_long_packets;
#[path = "media/masks_off_frequency_keys.rs"]
mod masks_off_frequency_keys;
#[path = "media/rfc4733_key_tracker.rs"]
mod rfc4733_key_tracker;
#[path = "media/rfc4733_keys_never_reach_the_agent.rs"]
mod rfc4733_keys_never_reach_the_agent;
#[path = "media/secure_mode.rs"]
mod secure_mode;
#[path = "media/signalled_keys.rs"]
mod signalled_keys;
#[path = "media/speech_keys.rs"]
mod speech_keys;
#[path = "media/talk_off.rs"]
mod talk_off;
