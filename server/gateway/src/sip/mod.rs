//! SIP trunk ingress (issue 15, first part): the sockets around the sans-IO `hushpay-sip`
//! endpoint.
//!
//! * [`config`]: the `[sip]` section (off by default): listen address (UDP and TCP on the same
//!   port), trunks with source allowlists and/or digest credentials, dispatch rules.
//! * [`server`]: one driver task owns the [`hushpay_sip::Endpoint`]; UDP datagrams and TCP
//!   frames (cut by [`hushpay_sip::framing::Framer`]) go in with the time they arrived, responses
//!   go out on the transport they came on. An offered call gets an RTP socket ([`leg`]) and is
//!   answered with its address; the application receives a [`leg::PhoneCall`] on a channel.
//!   Refusals are counted in [`metrics::SipMetrics`] (`hushpay_sip_refused_total{reason}`).
//!
//! Not yet here (the lead's next step): the call joins its room as the patient, its audio goes
//! through the masker and the recorder. Until then the binary logs offered calls and drains their
//! media (see `main.rs`).

pub mod config;
pub mod leg;
pub mod metrics;
pub mod server;
