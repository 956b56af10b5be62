//! The bake-off's load generator as a library (the CLI in `main.rs` only parses options and
//! prints the result line), so it can move into a tools crate as a `loadgen` engine.
//!
//! Call-pair bots on str0m 0.25 (sans-IO, RTP mode), all driven by one thread: bot `2k` and
//! `2k+1` are the two ends of a call through the forwarder under test. Each bot has its own UDP
//! socket (the forwarder demultiplexes by remote address, so bots need their own 5-tuple; one
//! epoll set covers them all) and sends a 20 ms Opus packet every 20 ms. Every payload carries
//! its send sequence and send instant ([`payload`]), so the paired bot measures the one-way
//! latency of each packet from its own send instant to its arrival.
//!
//! [`fleet::run`] connects every pair (offers over HTTP, a few at a time), waits for every bot
//! to receive media, warms up, then measures over a window: loss and latency of the packets
//! sent in the window, the forwarder's CPU ([`proc_stat`], `/proc/PID/stat`) and µs of it per
//! packet the bots received in the window, its RSS, and the generator's own CPU. The 1-minute
//! load average before the start is kept in the [`report::Report`], which flags a run started
//! on a busy machine.

pub mod bot;
pub mod fleet;
pub mod payload;
pub mod proc_stat;
pub mod report;
mod tally;
