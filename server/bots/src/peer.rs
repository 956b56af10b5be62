//! The bot's webrtc-rs peer connection: the media engine (Opus plus telephone-event at 48 and
//! 8 kHz, no RED, `useinbandfec=0`), the setting engine (mDNS off) and an explicit UDP bind
//! address. The server's side is the media engine (`hushpay_rtc`), whose SDP rules
//! (`hushpay_rtc::sdp`) the constants here follow.

use std::net::SocketAddr;
use std::sync::Arc;

use rtc::ice::mdns::MulticastDnsMode;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};
use webrtc::peer_connection::{
    MediaEngine, PeerConnection, PeerConnectionBuilder, PeerConnectionEventHandler,
    RTCConfigurationBuilder, Registry, SettingEngineBuilder, register_default_interceptors,
};

/// Opus payload type we register (Chrome's choice too).
pub const OPUS_PT: u8 = 111;
/// telephone-event at 48 kHz (Chrome: 110).
pub const EVENT_48K_PT: u8 = 110;
/// telephone-event at 8 kHz (Chrome: 126; softphones).
pub const EVENT_8K_PT: u8 = 126;

const TELEPHONE_EVENT: &str = "audio/telephone-event";

pub use hushpay_rtc::sdp::{MAX_PLAYBACK_RATE, OPUS_FMTP};

/// The audio codecs the bot registers: Opus, telephone-event at 48 and 8 kHz.
pub fn audio_codecs() -> Vec<RTCRtpCodecParameters> {
    let codec = |mime: &str, rate: u32, channels: u16, fmtp: &str, pt: u8| RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: mime.to_owned(),
            clock_rate: rate,
            channels,
            sdp_fmtp_line: fmtp.to_owned(),
            rtcp_feedback: vec![],
        },
        payload_type: pt,
    };
    vec![
        codec("audio/opus", 48_000, 2, OPUS_FMTP, OPUS_PT),
        codec(TELEPHONE_EVENT, 48_000, 1, "0-16", EVENT_48K_PT),
        codec(TELEPHONE_EVENT, 8_000, 1, "0-16", EVENT_8K_PT),
    ]
}

/// A media engine with [`audio_codecs`] only (no RED, no video).
pub fn media_engine() -> webrtc::error::Result<MediaEngine> {
    let mut me = MediaEngine::default();
    for c in audio_codecs() {
        me.register_codec(c, RtpCodecKind::Audio)?;
    }
    Ok(me)
}

/// Builds a peer connection bound to `bind` (an explicit address: wildcard binds skip
/// loopback), with mDNS disabled.
pub async fn build(
    bind: SocketAddr,
    handler: Arc<dyn PeerConnectionEventHandler>,
) -> webrtc::error::Result<Arc<dyn PeerConnection>> {
    let mut me = media_engine()?;
    let registry = register_default_interceptors(Registry::new(), &mut me)?;
    let se = SettingEngineBuilder::new()
        .with_multicast_dns_mode(MulticastDnsMode::Disabled)
        .build();
    let pc = PeerConnectionBuilder::new()
        .with_configuration(RTCConfigurationBuilder::new().build())
        .with_media_engine(me)
        .with_setting_engine(se)
        .with_interceptor_registry(registry)
        .with_handler(handler)
        .with_udp_addrs(vec![bind])
        .build()
        .await?;
    Ok(Arc::new(pc))
}
