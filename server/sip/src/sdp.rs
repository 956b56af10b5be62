//! SDP offer/answer (RFC 3264) for a phone leg: plain RTP, PCMU (PT 0) or PCMA (PT 8), and
//! RFC 4733 `telephone-event/8000` on whatever dynamic payload type the offer uses.
//!
//! The answer takes the first codec of the offer's audio line that Hushpay supports, keeps the
//! offer's telephone-event payload type, mirrors the direction (`sendonly` → `recvonly`,
//! `inactive` → `inactive`: a trunk putting the caller on hold) and rejects every other media
//! line with port 0. No supported codec, no usable audio line or an unparseable offer is an
//! [`SdpError`], which the UAS answers `488 Not Acceptable Here`. The connection address and port
//! of Hushpay's side are the caller's (the RTP socket the application bound).

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

use bytesstr::BytesStr;
use ezk_sdp_types::{
    Direction as EzkDirection, MediaType, SessionDescription, TaggedAddress, TransportProtocol,
};

/// Largest SDP body parsed.
pub const MAX_SDP_BYTES: usize = 8 * 1024;

/// Why an offer cannot be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    #[error("offer is not valid SDP")]
    Unparseable,
    #[error("offer is larger than {MAX_SDP_BYTES} bytes")]
    TooLarge,
    #[error("offer has no plain-RTP audio line")]
    NoAudio,
    #[error("offer's audio line has no IP connection address")]
    NoConnection,
    #[error("offer has no codec in common (PCMU, PCMA)")]
    NoCommonCodec,
}

/// A G.711 codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// µ-law, static payload type 0.
    Pcmu,
    /// A-law, static payload type 8.
    Pcma,
}

impl Codec {
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu => 0,
            Codec::Pcma => 8,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
        }
    }
}

/// Media direction, as seen from the side that wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    SendRecv,
    SendOnly,
    RecvOnly,
    Inactive,
}

impl Direction {
    /// The answer's direction for an offer's (RFC 3264 §6.1).
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendRecv => Direction::SendRecv,
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            Direction::Inactive => Direction::Inactive,
        }
    }

    fn attr(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Whether the offerer stops sending us audio (hold).
    pub fn is_hold(self) -> bool {
        matches!(self, Direction::SendOnly | Direction::Inactive)
    }
}

impl From<EzkDirection> for Direction {
    fn from(d: EzkDirection) -> Self {
        match d {
            EzkDirection::SendRecv => Direction::SendRecv,
            EzkDirection::SendOnly => Direction::SendOnly,
            EzkDirection::RecvOnly => Direction::RecvOnly,
            EzkDirection::Inactive => Direction::Inactive,
        }
    }
}

/// A media line of the offer that is not answered (rejected with port 0 in the answer).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rejected {
    media: String,
    proto: String,
    fmt: u8,
}

/// What was agreed for the audio line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Negotiated {
    /// Where the caller's side receives RTP (`0.0.0.0` on an old-style hold).
    pub remote_rtp: SocketAddr,
    pub codec: Codec,
    /// The telephone-event payload type, when the offer has one at 8000 Hz.
    pub telephone_event: Option<u8>,
    /// The offer's direction.
    pub offered: Direction,
    /// Position of the audio line among the offer's media lines, and the others.
    audio_index: usize,
    others: Vec<Rejected>,
}

impl Negotiated {
    /// Whether the offer puts the call on hold (direction, or the RFC 2543 `c=0.0.0.0`).
    pub fn is_hold(&self) -> bool {
        self.offered.is_hold() || self.remote_rtp.ip().is_unspecified()
    }
}

/// Parses an offer and picks the answer.
pub fn negotiate(offer: &[u8]) -> Result<Negotiated, SdpError> {
    if offer.len() > MAX_SDP_BYTES {
        return Err(SdpError::TooLarge);
    }
    let text = std::str::from_utf8(offer).map_err(|_| SdpError::Unparseable)?;
    let sdp =
        SessionDescription::parse(&BytesStr::from(text)).map_err(|_| SdpError::Unparseable)?;
    let mut chosen = None;
    let mut others = Vec::new();
    let mut last_err = SdpError::NoAudio;
    for (i, md) in sdp.media_descriptions.iter().enumerate() {
        let plain_audio = md.media.media_type == MediaType::Audio
            && md.media.proto == TransportProtocol::RtpAvp
            && md.media.port != 0;
        if chosen.is_none() && plain_audio {
            match audio_choice(&sdp, md) {
                Ok(c) => {
                    chosen = Some((i, c));
                    continue;
                }
                Err(e) => last_err = e,
            }
        }
        others.push(Rejected {
            media: md.media.media_type.to_string(),
            proto: md.media.proto.to_string(),
            fmt: md.media.fmts.first().copied().unwrap_or(0),
        });
    }
    let (audio_index, (remote_rtp, codec, telephone_event, offered)) = chosen.ok_or(last_err)?;
    Ok(Negotiated {
        remote_rtp,
        codec,
        telephone_event,
        offered,
        audio_index,
        others,
    })
}

type Choice = (SocketAddr, Codec, Option<u8>, Direction);

fn audio_choice(
    sdp: &SessionDescription,
    md: &ezk_sdp_types::MediaDescription,
) -> Result<Choice, SdpError> {
    let conn = md
        .connection
        .as_ref()
        .or(sdp.connection.as_ref())
        .ok_or(SdpError::NoConnection)?;
    let ip: IpAddr = match &conn.address {
        TaggedAddress::IP4(a) => (*a).into(),
        TaggedAddress::IP6(a) => (*a).into(),
        TaggedAddress::IP4FQDN(_) | TaggedAddress::IP6FQDN(_) => {
            return Err(SdpError::NoConnection);
        }
    };
    let codec_of = |pt: u8| -> Option<Codec> {
        match md.rtpmap.iter().find(|m| m.payload == pt) {
            Some(m) if m.clock_rate == 8000 && m.encoding.eq_ignore_ascii_case("PCMU") => {
                Some(Codec::Pcmu)
            }
            Some(m) if m.clock_rate == 8000 && m.encoding.eq_ignore_ascii_case("PCMA") => {
                Some(Codec::Pcma)
            }
            Some(_) => None,
            None if pt == 0 => Some(Codec::Pcmu),
            None if pt == 8 => Some(Codec::Pcma),
            None => None,
        }
    };
    let codec = md
        .media
        .fmts
        .iter()
        .find_map(|&pt| codec_of(pt))
        .ok_or(SdpError::NoCommonCodec)?;
    let telephone_event = md.media.fmts.iter().copied().find(|&pt| {
        md.rtpmap.iter().any(|m| {
            m.payload == pt
                && m.clock_rate == 8000
                && m.encoding.eq_ignore_ascii_case("telephone-event")
        })
    });
    let direction = if md.direction != EzkDirection::SendRecv {
        md.direction
    } else {
        sdp.direction
    };
    Ok((
        SocketAddr::new(ip, md.media.port),
        codec,
        telephone_event,
        direction.into(),
    ))
}

/// The answer's text. `local` is Hushpay's RTP address for the leg; `session` is the o= line's
/// session id and version (a re-INVITE's answer increments the version).
pub fn render_answer(n: &Negotiated, local: SocketAddr, session: u64, version: u64) -> String {
    let (family, ip) = match local.ip() {
        IpAddr::V4(a) => ("IP4", a.to_string()),
        IpAddr::V6(a) => ("IP6", a.to_string()),
    };
    let mut s = String::with_capacity(256);
    let _ = write!(
        s,
        "v=0\r\no=hushpay {session} {version} IN {family} {ip}\r\ns=hushpay\r\nc=IN {family} {ip}\r\nt=0 0\r\n"
    );
    let mut others = n.others.iter();
    let total = n.others.len() + 1;
    for i in 0..total {
        if i == n.audio_index {
            let pt = n.codec.payload_type();
            match n.telephone_event {
                Some(te) => {
                    let _ = write!(s, "m=audio {} RTP/AVP {pt} {te}\r\n", local.port());
                    let _ = write!(
                        s,
                        "a=rtpmap:{pt} {}/8000\r\na=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-15\r\n",
                        n.codec.name()
                    );
                }
                None => {
                    let _ = write!(
                        s,
                        "m=audio {} RTP/AVP {pt}\r\na=rtpmap:{pt} {}/8000\r\n",
                        local.port(),
                        n.codec.name()
                    );
                }
            }
            let _ = write!(s, "a=ptime:20\r\na={}\r\n", n.offered.answer().attr());
        } else if let Some(r) = others.next() {
            let _ = write!(s, "m={} 0 {} {}\r\n", r.media, r.proto, r.fmt);
        }
    }
    s
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn offer(m: &str, attrs: &str) -> String {
        format!(
            "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n{m}\r\n{attrs}"
        )
    }

    #[test]
    fn picks_the_first_supported_codec_of_the_offer() {
        let o = offer(
            "m=audio 40000 RTP/AVP 18 8 0 101",
            "a=rtpmap:18 G729/8000\r\na=rtpmap:101 telephone-event/8000\r\n",
        );
        let n = negotiate(o.as_bytes()).unwrap();
        assert_eq!(n.codec, Codec::Pcma);
        assert_eq!(n.telephone_event, Some(101));
        assert_eq!(n.remote_rtp, "192.0.2.10:40000".parse().unwrap());
        let a = render_answer(&n, "198.51.100.1:30000".parse().unwrap(), 7, 1);
        assert!(a.contains("m=audio 30000 RTP/AVP 8 101\r\n"), "{a}");
        assert!(a.contains("c=IN IP4 198.51.100.1\r\n"));
        assert!(a.contains("a=rtpmap:101 telephone-event/8000\r\n"));
        assert!(a.contains("a=sendrecv\r\n"));
        let o = offer("m=audio 40000 RTP/AVP 0 8", "");
        assert_eq!(negotiate(o.as_bytes()).unwrap().codec, Codec::Pcmu);
        assert_eq!(negotiate(o.as_bytes()).unwrap().telephone_event, None);
    }

    #[test]
    fn no_common_codec_or_no_audio_is_refused() {
        let o = offer(
            "m=audio 40000 RTP/AVP 18 9",
            "a=rtpmap:18 G729/8000\r\na=rtpmap:9 G722/8000\r\n",
        );
        assert_eq!(negotiate(o.as_bytes()), Err(SdpError::NoCommonCodec));
        let o = offer("m=video 40000 RTP/AVP 96", "a=rtpmap:96 VP8/90000\r\n");
        assert_eq!(negotiate(o.as_bytes()), Err(SdpError::NoAudio));
        let o = offer("m=audio 40000 RTP/SAVP 0", "");
        assert_eq!(negotiate(o.as_bytes()), Err(SdpError::NoAudio));
        assert_eq!(negotiate(b"\xff\xfe"), Err(SdpError::Unparseable));
        assert_eq!(negotiate(b"hello"), Err(SdpError::Unparseable));
        assert_eq!(
            negotiate(&vec![b'a'; MAX_SDP_BYTES + 1]),
            Err(SdpError::TooLarge)
        );
        let o = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\n";
        assert_eq!(negotiate(o.as_bytes()), Err(SdpError::NoConnection));
    }

    #[test]
    fn hold_offers_get_recvonly_or_inactive() {
        let o = offer("m=audio 40000 RTP/AVP 0", "a=sendonly\r\n");
        let n = negotiate(o.as_bytes()).unwrap();
        assert!(n.is_hold());
        assert!(
            render_answer(&n, "198.51.100.1:30000".parse().unwrap(), 1, 2)
                .contains("a=recvonly\r\n")
        );
        let o = offer("m=audio 40000 RTP/AVP 0", "a=inactive\r\n");
        let n = negotiate(o.as_bytes()).unwrap();
        assert!(
            render_answer(&n, "198.51.100.1:30000".parse().unwrap(), 1, 2)
                .contains("a=inactive\r\n")
        );
        let o =
            offer("m=audio 40000 RTP/AVP 0", "").replace("c=IN IP4 192.0.2.10", "c=IN IP4 0.0.0.0");
        assert!(negotiate(o.as_bytes()).unwrap().is_hold());
    }

    #[test]
    fn other_media_lines_are_rejected_in_place() {
        let o = offer(
            "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\nm=audio 40000 RTP/AVP 0",
            "",
        );
        let n = negotiate(o.as_bytes()).unwrap();
        let a = render_answer(&n, "198.51.100.1:30000".parse().unwrap(), 1, 1);
        let video = a.find("m=video 0 RTP/AVP 96").unwrap();
        let audio = a.find("m=audio 30000").unwrap();
        assert!(video < audio, "{a}");
    }
}
