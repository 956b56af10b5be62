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
//! The application's side of a call (it joins its room as the patient, its audio goes through
//! the masker to the agents and the recorder) is [`crate::sfu::phone`]; the binary hands it
//! [`server::SipServer::take_calls`].

pub mod config;
pub mod hand_off;
pub mod leg;
pub mod metrics;
pub mod server;
pub mod tls;
