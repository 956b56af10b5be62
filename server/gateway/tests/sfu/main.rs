//! SFU end-to-end tests over real WebRTC on loopback: an in-process gateway on
//! `127.0.0.1:0`, participant bots (webrtc-rs 0.21) as patient and agent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod bad_input;
mod chat;
mod chat_deny;
mod chat_storage;
mod harness;
mod ivr_audio;
mod ivr_hand_off;
mod ivr_payment;
mod ivr_phone;
mod ivr_spanish;
mod keypad_payment;
mod masked_call;
mod payment_messages;
mod payment_secrets;
mod phone_caller;
mod phone_caller_bad_rtp;
mod phone_caller_hang_up;
mod phone_caller_info_keys;
mod phone_caller_ivr;
mod reach;
mod recording;
mod recording_audit;
mod revoked_keys;
mod room_settings;
mod rooms;
mod signal_ws;
mod token_expiry;
mod workers;
