//! `fwd-rtc`: a plain audio forwarder on webrtc-rs's sans-IO `rtc` crate 0.21 for the engine
//! bake-off (issue 13), driven exactly like `fwd-str0m`: one UDP socket, one thread, one
//! `RTCPeerConnection` per peer (default interceptors: NACK, RTCP reports, TWCC, as the gateway
//! registers them), peers `2k` and `2k+1` a call pair. Demultiplexing: remote address map, STUN
//! USERNAME for new addresses. Per forwarded packet: read, `handle_read` (SRTP decrypt, RTP
//! parse, interceptors), `poll_read` gives `RTCMessage::RtpPacket` (payload `Bytes`, no copy),
//! SSRC and payload type rewritten, `RTCRtpSender::write_rtp` on the partner (interceptors,
//! SRTP encrypt), `poll_write`, one `send_to`.

mod peers;

use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, mpsc};

use anyhow::Context;
use clap::Parser;
use engines_common::signal;
use engines_common::udp_loop::UdpLoop;

use peers::{Command, Forwarder};

#[derive(Debug, Parser)]
#[command(about = "Plain audio forwarder on rtc 0.21 (one UDP socket, one thread)")]
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
    eprintln!("fwd-rtc ready udp={local} http={http}");
    let mut forwarder = Forwarder::new(local, rx);
    udp.run(&mut forwarder)?;
    Ok(())
}
