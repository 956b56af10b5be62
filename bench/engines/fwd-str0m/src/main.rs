//! `fwd-str0m`: a plain audio forwarder on str0m 0.25 for the engine bake-off (issue 13).
//!
//! One UDP socket, one thread, every peer a sans-IO [`Rtc`] in RTP mode; peers `2k` and `2k+1`
//! are a call pair and each one's Opus RTP goes to the other. Demultiplexing: a map from remote
//! address to peer; a datagram from an unknown address must be a STUN binding request, whose
//! USERNAME names the local ufrag of its peer. Per forwarded packet: read, `handle_input`
//! (SRTP decrypt, RTP parse, receive stats), `Event::RtpPacket` with the payload in an
//! `Arc<[u8]>`, `StreamTx::write_rtp` on the partner with the same `Arc` (no payload copy),
//! drain the partner (SRTP encrypt), one `send_to`. Offers arrive by `POST /offer/<peer>` on a
//! signalling thread and are applied on the loop thread (sent over a channel, loop woken).

mod peers;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, mpsc};

use anyhow::Context;
use clap::Parser;
use engines_common::signal;
use engines_common::udp_loop::UdpLoop;

use peers::{Command, Forwarder};

#[derive(Debug, Parser)]
#[command(about = "Plain audio forwarder on str0m (one UDP socket, one thread)")]
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
    let udp = UdpLoop::bind(args.udp).context("binding the media socket")?;
    let local = udp.local_addr()?;
    let listener = TcpListener::bind(args.http).context("binding the signalling socket")?;
    let http = listener.local_addr()?;
    let (tx, rx) = mpsc::channel::<Command>();
    let waker = udp.waker();
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
    eprintln!("fwd-str0m ready udp={local} http={http}");
    let mut forwarder = Forwarder::new(local, rx);
    udp.run(&mut forwarder)?;
    Ok(())
}
