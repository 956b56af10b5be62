//! # hushpay — the gateway
//!
//! The only crate with sockets: configuration, the CLI, the axum HTTP/WebSocket API, access
//! tokens at the edge, and (as the later issues land) the SFU glue, payment sessions, the
//! recorder service, audit and webhooks. It composes the sans-IO crates (`hushpay-media`,
//! `hushpay-card`, `hushpay-auth`) and the store (`hushpay-store`).
//!
//! Promises at this layer:
//! - every HTTP error is JSON `{"error":{"code","message"}}` with a fitting status; request
//!   ids travel in `x-request-id`; no handler echoes a submitted value in an error;
//! - one token check ([`tokens::Tokens::authenticate`]: the validator, then the minting API
//!   key's revocation) for every use of a participant JWT: HTTP, signalling join and refresh;
//! - API keys are stored as SHA-256 hashes and shown once;
//! - configuration is validated once at start; production mode refuses development keys,
//!   HS256, plain-HTTP public URLs and the in-memory store;
//! - one node or many ([`cluster`]): a room lives on one node, payment changes reach it over
//!   NATS, and a payment for a room whose node does not answer is refused with nothing made;
//! - SIGTERM drains ([`drain`]): `/readyz` goes unready, calls run to their end, then exit.

pub mod admin;
pub mod app;
pub mod bootstrap;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod config_error;
pub mod doctor;
pub mod drain;
pub mod error;
pub mod extract;
pub mod html;
pub mod ice;
pub mod ids;
pub mod ivr;
pub mod loadgen;
pub mod media_cli;
pub mod metrics;
pub mod metrics_access;
pub mod openapi;
pub mod pages;
pub mod payments;
pub mod recording;
pub mod rooms;
pub mod routes;
pub mod sfu;
pub mod sip;
pub mod store_tls;
pub mod tenants;
pub mod token_auth;
pub mod tokens;
pub mod vault;
pub mod version;
pub mod webhooks;
pub mod widget;
