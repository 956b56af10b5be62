//! Peer connection setup shared by the SFU and the participant bot: the media engine (Opus plus
//! telephone-event at 48 and 8 kHz, no RED, `useinbandfec=0`), the setting engine (mDNS off),
//! explicit UDP bind addresses, and the SDP munging the media rules in DESIGN.md ask for.

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

/// Opus fmtp we answer with: no in-band FEC (its copies carry earlier frames, tones included),
/// and `maxplaybackrate=16000` (RFC 7587 section 6.1): browsers then encode wideband SILK
/// (HD voice, 7 kHz audio band) instead of fullband hybrid, which the masker decodes in 18 us a
/// packet instead of 29 us (docs/benchmarks.md, media core). Keep in step with
/// [`MAX_PLAYBACK_RATE`].
pub const OPUS_FMTP: &str = "minptime=10;useinbandfec=0;maxplaybackrate=16000";

/// The `maxplaybackrate` in [`OPUS_FMTP`]: what a sender honouring our SDP encodes for.
pub const MAX_PLAYBACK_RATE: u32 = 16_000;

/// Opus fmtp parameters we set ourselves: an offer's values for them are dropped before
/// matching (webrtc-rs refuses a codec whose shared fmtp parameters differ).
const OPUS_PARAMS_WE_SET: [&str; 3] =
    ["useinbandfec=", "maxplaybackrate=", "sprop-maxcapturerate="];

/// The audio codecs both the SFU and the bot register: Opus, telephone-event at 48 and 8 kHz.
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

/// Payload types a peer will send with, read from its offer (the answer mirrors them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedAudio {
    pub opus_pt: u8,
    pub event_pts: Vec<(u8, u32)>,
}

/// Reads the first audio section's Opus and telephone-event payload types.
pub fn negotiated_audio(sdp: &str) -> Option<NegotiatedAudio> {
    let mut opus = None;
    let mut events = Vec::new();
    let mut in_audio = false;
    let mut seen_audio = false;
    for line in sdp.lines() {
        if let Some(m) = line.strip_prefix("m=") {
            if seen_audio {
                break;
            }
            in_audio = m.starts_with("audio ");
            seen_audio |= in_audio;
            continue;
        }
        if !in_audio {
            continue;
        }
        if let Some((pt, name)) = rtpmap(line) {
            match encoding(name) {
                Some((n, 48_000)) if n == "opus" && opus.is_none() => opus = Some(pt),
                Some((n, rate)) if n == "telephone-event" => events.push((pt, rate)),
                _ => {}
            }
        }
    }
    Some(NegotiatedAudio {
        opus_pt: opus?,
        event_pts: events,
    })
}

/// `opus/48000/2` -> ("opus", 48000), lower-cased.
fn encoding(name: &str) -> Option<(String, u32)> {
    let mut parts = name.trim().split('/');
    let n = parts.next()?.to_ascii_lowercase();
    let rate = parts.next()?.trim().parse().ok()?;
    Some((n, rate))
}

fn rtpmap(line: &str) -> Option<(u8, &str)> {
    let rest = line.trim_end().strip_prefix("a=rtpmap:")?;
    let (pt, name) = rest.split_once(' ')?;
    Some((pt.parse().ok()?, name))
}

/// Munges an offer before it is applied: in each audio section, drops the 8 kHz
/// telephone-event entry when a 48 kHz one is offered too (Chrome offers both and webrtc-rs
/// answers with a duplicated payload type), drops RED (never negotiated), and sets
/// `useinbandfec=0` and `maxplaybackrate=16000` on Opus (the answer echoes them, which is how
/// the browser learns them): webrtc-rs matches codecs by fmtp, and Chrome's
/// `useinbandfec=1` (or Firefox's `maxplaybackrate=48000`) would leave Opus unmatched (no
/// downlink could be added).
pub fn munge_offer(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len());
    for section in split_sections(sdp) {
        let drop = pts_to_drop(&section);
        let opus = opus_pts(&section);
        for line in &section {
            if let Some(fixed) = opus_fmtp(line, &opus) {
                push_line(&mut out, &fixed);
                continue;
            }
            if let Some(m) = line.strip_prefix("m=") {
                let kept: Vec<&str> = m
                    .split(' ')
                    .enumerate()
                    .filter(|(i, f)| *i < 3 || !drop.iter().any(|p| p.to_string() == *f))
                    .map(|(_, f)| f)
                    .collect();
                push_line(&mut out, &format!("m={}", kept.join(" ")));
            } else if !attribute_for(line, &drop) {
                push_line(&mut out, line);
            }
        }
    }
    out
}

/// The packet time asked of every sender: the masker holds one packet back and masks one
/// before and one after a tone, so 20 ms packets keep the onset and the muted span short.
pub const PTIME_MS: u32 = 20;

/// Munges our answer before it is sent: each audio section asks for 20 ms packets
/// (`a=ptime:20`, `a=maxptime:20`, RFC 4566 / RFC 7587 section 7). The masker does not rely on
/// it (it holds a longer packet for its own duration), but a peer that honours it is masked
/// with less speech around a tone.
pub fn munge_answer(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len() + 64);
    for section in split_sections(sdp) {
        let audio = section.first().is_some_and(|l| l.starts_with("m=audio "));
        for line in &section {
            if audio && (line.starts_with("a=ptime:") || line.starts_with("a=maxptime:")) {
                continue;
            }
            push_line(&mut out, line);
        }
        if audio {
            push_line(&mut out, &format!("a=ptime:{PTIME_MS}"));
            push_line(&mut out, &format!("a=maxptime:{PTIME_MS}"));
        }
    }
    out
}

fn opus_pts(section: &[&str]) -> Vec<u8> {
    section
        .iter()
        .filter_map(|l| rtpmap(l))
        .filter(|(_, n)| encoding(n).is_some_and(|(n, _)| n == "opus"))
        .map(|(pt, _)| pt)
        .collect()
}

/// The Opus fmtp line with our `useinbandfec=0` and `maxplaybackrate`, if `line` is one.
/// webrtc-rs answers with the offer's fmtp, so this is also what the browser reads back.
fn opus_fmtp(line: &str, opus: &[u8]) -> Option<String> {
    let rest = line.strip_prefix("a=fmtp:")?;
    let (pt, params) = rest.split_once(' ')?;
    if !opus.contains(&pt.parse().ok()?) {
        return None;
    }
    let mut kept: Vec<&str> = params
        .split(';')
        .map(str::trim)
        .filter(|p| {
            let p = p.to_ascii_lowercase();
            !p.is_empty() && !OPUS_PARAMS_WE_SET.iter().any(|k| p.starts_with(k))
        })
        .collect();
    let rate = format!("maxplaybackrate={MAX_PLAYBACK_RATE}");
    kept.extend(["useinbandfec=0", rate.as_str()]);
    Some(format!("a=fmtp:{pt} {}", kept.join(";")))
}

fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push_str("\r\n");
}

fn split_sections(sdp: &str) -> Vec<Vec<&str>> {
    let mut sections: Vec<Vec<&str>> = vec![Vec::new()];
    for line in sdp.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        if line.starts_with("m=") {
            sections.push(Vec::new());
        }
        if let Some(s) = sections.last_mut() {
            s.push(line);
        }
    }
    sections
}

fn pts_to_drop(section: &[&str]) -> Vec<u8> {
    if !section.first().is_some_and(|l| l.starts_with("m=audio ")) {
        return Vec::new();
    }
    let maps: Vec<(u8, (String, u32))> = section
        .iter()
        .filter_map(|l| rtpmap(l))
        .filter_map(|(pt, n)| Some((pt, encoding(n)?)))
        .collect();
    let is_event = |n: &str| n == "telephone-event";
    let has_48k = maps.iter().any(|(_, (n, r))| is_event(n) && *r == 48_000);
    maps.iter()
        .filter(|(_, (n, r))| (has_48k && is_event(n) && *r == 8_000) || n == "red")
        .map(|(pt, _)| *pt)
        .collect()
}

fn attribute_for(line: &str, pts: &[u8]) -> bool {
    ["a=rtpmap:", "a=fmtp:", "a=rtcp-fb:"].iter().any(|prefix| {
        line.strip_prefix(prefix)
            .and_then(|rest| rest.split([' ', ':']).next())
            .and_then(|pt| pt.parse::<u8>().ok())
            .is_some_and(|pt| pts.contains(&pt))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const CHROME_AUDIO: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\nc=IN IP4 0.0.0.0\r\n\
        a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\n\
        a=fmtp:111 minptime=10;useinbandfec=1\r\na=rtpmap:63 red/48000/2\r\n\
        a=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n\
        a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\n\
        a=rtpmap:110 telephone-event/48000\r\na=rtpmap:126 telephone-event/8000\r\n\
        m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:5000\r\n";

    #[test]
    fn strips_8k_telephone_event_and_red_from_chrome_offers() {
        let m = munge_offer(CHROME_AUDIO);
        assert!(
            m.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111 9 0 8 13 110\r\n"),
            "{m}"
        );
        assert!(!m.contains("126"));
        assert!(!m.contains("red/48000"));
        assert!(!m.contains("a=fmtp:63"));
        assert!(m.contains("a=rtpmap:110 telephone-event/48000"));
        assert!(m.contains("m=application 9 UDP/DTLS/SCTP webrtc-datachannel"));
        assert!(
            m.contains("a=fmtp:111 minptime=10;useinbandfec=0;maxplaybackrate=16000\r\n"),
            "{m}"
        );
        let n = negotiated_audio(&m).unwrap();
        assert_eq!(n.opus_pt, 111);
        assert_eq!(n.event_pts, vec![(110, 48_000)]);
    }

    #[test]
    fn drops_offered_values_for_the_opus_parameters_we_set() {
        let firefox = CHROME_AUDIO.replace(
            "minptime=10;useinbandfec=1",
            "maxplaybackrate=48000;stereo=1;useinbandfec=1;sprop-maxcapturerate=48000",
        );
        let m = munge_offer(&firefox);
        assert!(
            m.contains("a=fmtp:111 stereo=1;useinbandfec=0;maxplaybackrate=16000\r\n"),
            "{m}"
        );
    }

    #[test]
    fn fmtp_asks_for_wideband_playback() {
        assert!(OPUS_FMTP.contains(&format!("maxplaybackrate={MAX_PLAYBACK_RATE}")));
        assert!(OPUS_FMTP.contains("useinbandfec=0"));
    }

    #[test]
    fn keeps_8k_telephone_event_when_alone() {
        let sdp = CHROME_AUDIO.replace("a=rtpmap:110 telephone-event/48000\r\n", "");
        let m = munge_offer(&sdp);
        assert!(m.contains("a=rtpmap:126 telephone-event/8000"));
        assert_eq!(negotiated_audio(&m).unwrap().event_pts, vec![(126, 8_000)]);
    }

    #[test]
    fn reads_rtpmaps_with_channel_counts() {
        let sdp = CHROME_AUDIO
            .replace("telephone-event/48000", "telephone-event/48000/1")
            .replace("telephone-event/8000", "telephone-event/8000/1");
        let m = munge_offer(&sdp);
        assert!(!m.contains("a=rtpmap:126"), "{m}");
        assert_eq!(negotiated_audio(&m).unwrap().event_pts, vec![(110, 48_000)]);
    }

    #[test]
    fn garbage_is_not_a_negotiation() {
        assert_eq!(negotiated_audio("not sdp"), None);
        assert_eq!(munge_offer(""), "");
    }

    #[test]
    fn the_answer_asks_for_20_ms_packets_in_audio_sections_only() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=ptime:60\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:5000\r\n";
        let m = munge_answer(sdp);
        assert!(!m.contains("a=ptime:60"));
        let audio = &m[m.find("m=audio").unwrap()..m.find("m=application").unwrap()];
        assert!(audio.contains("a=ptime:20\r\na=maxptime:20\r\n"), "{m}");
        assert_eq!(
            m.matches("a=ptime:").count(),
            1,
            "not in the data channel section"
        );
        assert!(m.starts_with("v=0\r\n"));
    }
}
