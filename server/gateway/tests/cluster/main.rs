//! Issue 14 end to end: several `hushpay serve` processes on one PostgreSQL schema and one
//! NATS server (the test's own), participant bots over real WebRTC on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;
#[path = "../sfu/harness.rs"]
#[allow(dead_code)]
mod harness;

mod bus_loss;
mod drain;
mod elsewhere;
mod limits;
mod node_loss;
mod nodes;
mod store_loss;
mod three_nodes;
