//! `fwd-webrtc`: the bake-off's baseline, a plain audio forwarder on webrtc 0.21 built the way
//! the gateway's SFU is today (server/gateway/src/sfu/peer.rs, forward.rs): one
//! `PeerConnection` per peer with its own UDP socket and driver task, default interceptors
//! (NACK, RTCP reports, TWCC), mDNS off, a tokio multi-thread runtime. Peers `2k` and `2k+1` are
//! a call pair. Per forwarded packet: the peer's driver reads the socket and decrypts, the
//! remote track's `poll()` hands the packet to a forwarding task (one per received track), which
//! rewrites SSRC and payload type and calls `write_rtp` on the partner's
//! `TrackLocalStaticRTP`, whose driver encrypts and sends. Signalling is the shared
//! `POST /offer/<peer>` (non-trickle: the answer is sent once ICE gathering is complete).

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use clap::Parser;
use engines_common::pairing::partner;
use engines_common::sdp::munge_answer;
use engines_common::signal;
use rtc::ice::mdns::MulticastDnsMode;
use rtc::media_stream::MediaStreamTrack;
use rtc::peer_connection::sdp::RTCSessionDescription;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use tokio::sync::mpsc;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_rtp::TrackLocalStaticRTP;
use webrtc::media_stream::track_remote::{TrackRemote, TrackRemoteEvent};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, RTCIceGatheringState, Registry, SettingEngineBuilder,
    register_default_interceptors,
};

const OPUS_PT: u8 = 111;

#[derive(Debug, Parser)]
#[command(about = "Plain audio forwarder on webrtc 0.21 (one socket and driver per peer)")]
struct Args {
    /// Address each peer connection binds (port 0: one new port per peer).
    #[arg(long, default_value = "127.0.0.1:0")]
    udp: SocketAddr,
    /// Signalling address (`POST /offer/<peer>`).
    #[arg(long, default_value = "127.0.0.1:0")]
    http: SocketAddr,
}

/// A peer's downlink: the track the forwarder writes its partner's packets to.
struct Downlink {
    track: Arc<TrackLocalStaticRTP>,
    ssrc: u32,
}

#[derive(Default)]
struct Peers {
    downlinks: Mutex<HashMap<usize, Arc<Downlink>>>,
    connections: Mutex<Vec<Arc<dyn PeerConnection>>>,
}

impl Peers {
    fn downlink(&self, peer: usize) -> Option<Arc<Downlink>> {
        self.downlinks
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&peer)
            .cloned()
    }
}

fn opus() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "audio/opus".to_owned(),
        clock_rate: 48_000,
        channels: 2,
        sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
        rtcp_feedback: vec![],
    }
}

struct Handler {
    peer: usize,
    peers: Arc<Peers>,
    gathered: mpsc::Sender<()>,
}

#[async_trait::async_trait]
impl PeerConnectionEventHandler for Handler {
    async fn on_ice_gathering_state_change(&self, state: RTCIceGatheringState) {
        if state == RTCIceGatheringState::Complete {
            let _ = self.gathered.try_send(());
        }
    }

    async fn on_track(&self, track: Arc<dyn TrackRemote>) {
        let (peers, to) = (Arc::clone(&self.peers), partner(self.peer));
        tokio::spawn(async move {
            let mut downlink = None;
            while let Some(ev) = track.poll().await {
                let TrackRemoteEvent::OnRtpPacket(mut packet) = ev else {
                    if matches!(ev, TrackRemoteEvent::OnEnded) {
                        break;
                    }
                    continue;
                };
                if downlink.is_none() {
                    downlink = peers.downlink(to);
                }
                let Some(d) = &downlink else { continue };
                packet.header.ssrc = d.ssrc;
                packet.header.payload_type = OPUS_PT;
                packet.header.extension = false;
                packet.header.extensions.clear();
                let _ = d.track.write_rtp(packet).await;
            }
        });
    }
}

async fn negotiate(
    peers: Arc<Peers>,
    bind: SocketAddr,
    peer: usize,
    offer: String,
) -> Result<String, String> {
    let fail = |e: webrtc::error::Error| e.to_string();
    let mut me = MediaEngine::default();
    me.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: opus(),
            payload_type: OPUS_PT,
        },
        RtpCodecKind::Audio,
    )
    .map_err(fail)?;
    let registry = register_default_interceptors(Registry::new(), &mut me).map_err(fail)?;
    let se = SettingEngineBuilder::new()
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .build();
    let (gathered_tx, mut gathered_rx) = mpsc::channel(1);
    let handler = Arc::new(Handler {
        peer,
        peers: Arc::clone(&peers),
        gathered: gathered_tx,
    });
    let pc: Arc<dyn PeerConnection> = Arc::new(
        PeerConnectionBuilder::new()
            .with_configuration(RTCConfigurationBuilder::new().build())
            .with_media_engine(me)
            .with_setting_engine(se)
            .with_interceptor_registry(registry)
            .with_handler(handler)
            .with_udp_addrs(vec![bind])
            .build()
            .await
            .map_err(fail)?,
    );
    let desc = RTCSessionDescription::offer(offer).map_err(|e| e.to_string())?;
    pc.set_remote_description(desc).await.map_err(fail)?;
    let ssrc = ssrc_for(peer);
    let track = Arc::new(TrackLocalStaticRTP::new(MediaStreamTrack::new(
        format!("fwd-{peer}"),
        format!("fwd-{peer}-audio"),
        "forwarded audio".to_owned(),
        RtpCodecKind::Audio,
        vec![RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: opus(),
            ..Default::default()
        }],
    )));
    pc.add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
        .await
        .map_err(fail)?;
    let answer = pc.create_answer(None).await.map_err(fail)?;
    pc.set_local_description(answer).await.map_err(fail)?;
    let _ = gathered_rx.recv().await;
    let sdp = pc
        .local_description()
        .await
        .ok_or("no local description")?
        .sdp;
    peers
        .downlinks
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(peer, Arc::new(Downlink { track, ssrc }));
    peers
        .connections
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(pc);
    Ok(munge_answer(&sdp))
}

/// A distinct SSRC per peer (a forwarder's downlinks need not be random).
fn ssrc_for(peer: usize) -> u32 {
    0x1000_0000 ^ (peer as u32).wrapping_mul(0x9e37_79b9)
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting tokio")?;
    let listener = TcpListener::bind(args.http).context("binding the signalling socket")?;
    let http = listener.local_addr()?;
    let peers = Arc::new(Peers::default());
    let handle = runtime.handle().clone();
    let bind = args.udp;
    let accept = Arc::clone(&peers);
    let server = signal::serve(
        listener,
        Arc::new(move |peer, offer| {
            handle.block_on(negotiate(Arc::clone(&accept), bind, peer, offer))
        }),
    );
    eprintln!(
        "fwd-webrtc ready udp={bind} http={http} workers={}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    runtime.block_on(async {
        let _ = tokio::task::spawn_blocking(move || server.join()).await;
    });
    Ok(())
}
