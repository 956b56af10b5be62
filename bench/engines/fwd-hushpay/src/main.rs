//! `fwd-hushpay`: the bake-off's plain audio forwarder on Hushpay's own media transport,
//! `hushpay-rtc` (issue 13): the baseline the gateway's engine thread is measured against.
//!
//! The same signalling and forwarding as `fwd-str0m` (peers `2k` and `2k+1` are a call pair,
//! each one's Opus RTP goes to the other, offers by `POST /offer/<peer>` applied on the loop
//! thread), but the peers live in a [`hushpay_rtc::Endpoint`] (str0m in RTP mode behind one
//! UDP port, routing by remote address or STUN ufrag, a panic guard per call, the gateway's
//! answer munging) and the loop is [`hushpay_rtc::driver::Driver`], the gateway's own. Per
//! forwarded packet: the driver reads the datagram, `Endpoint::handle_datagram` decrypts it
//! and drains the peer, the [`Worker`](hushpay_rtc::driver::Worker) gets `PeerEvent::Rtp` and
//! calls `Endpoint::write_rtp` on the partner with the same `Arc` payload, the driver sends
//! the partner's datagram.

mod forwarder;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, mpsc};

use anyhow::Context;
use clap::Parser;
use engines_common::signal;
use hushpay_rtc::EndpointConfig;
use hushpay_rtc::driver::Driver;

use forwarder::{Command, Forwarder};

#[derive(Debug, Parser)]
#[command(about = "Plain audio forwarder on hushpay-rtc (its Endpoint and Driver)")]
struct Args {
    /// UDP address every peer's media uses (the one host candidate).
    #[arg(long, default_value = "127.0.0.1:0")]
    udp: SocketAddr,
    /// Signalling address (`POST /offer/<peer>`).
    #[arg(long, default_value = "127.0.0.1:0")]
    http: SocketAddr,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let driver = Driver::bind(EndpointConfig::udp(args.udp)).context("binding the media socket")?;
    let local = driver.config().udp;
    let listener = TcpListener::bind(args.http).context("binding the signalling socket")?;
    let http = listener.local_addr()?;
    let (tx, rx) = mpsc::channel::<Command>();
    let waker = driver.waker();
    signal::serve(
        listener,
        Arc::new(move |peer, offer| {
            let (reply_tx, reply_rx) = mpsc::channel();
            tx.send(Command {
                peer,
                offer,
                reply: reply_tx,
            })
            .map_err(|_| "the media loop has stopped".to_owned())?;
            waker.wake().map_err(|e| e.to_string())?;
            reply_rx
                .recv()
                .map_err(|_| "the media loop dropped the offer".to_owned())?
        }),
    );
    eprintln!("fwd-hushpay ready udp={local} http={http}");
    let mut forwarder = Forwarder::new(rx);
    let stats = driver.run(&mut forwarder)?;
    eprintln!("fwd-hushpay stopped: {stats:?}");
    Ok(())
}
