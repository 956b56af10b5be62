//! SDP text the engine reads and rewrites (RFC 8866 lines, `\r\n` or `\n`): the payload types a
//! peer sends with, and the answer's audio parameters (RFC 7587).
//!
//! Every answer asks for 20 ms packets (`a=ptime:20`, `a=maxptime:20`) and sets Opus to
//! `useinbandfec=0` (in-band FEC copies carry earlier frames, tones included) and
//! `maxplaybackrate=16000` (browsers then encode wideband SILK, which the masker decodes in
//! about 18 µs a packet instead of 29 µs for fullband hybrid).

/// Opus fmtp the engine answers with. Keep in step with [`MAX_PLAYBACK_RATE`].
pub const OPUS_FMTP: &str = "minptime=10;useinbandfec=0;maxplaybackrate=16000";
/// The `maxplaybackrate` in [`OPUS_FMTP`].
pub const MAX_PLAYBACK_RATE: u32 = 16_000;
/// The packet time asked of every sender: the masker holds one packet back and masks one
/// before and one after a tone, so 20 ms packets keep the onset and the muted span short.
pub const PTIME_MS: u32 = 20;

/// Opus fmtp parameters the engine sets itself: a peer's values for them are replaced.
const OPUS_PARAMS_WE_SET: [&str; 3] =
    ["useinbandfec=", "maxplaybackrate=", "sprop-maxcapturerate="];

/// Payload types a peer sends with, read from its SDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiatedAudio {
    /// Opus.
    pub opus_pt: u8,
    /// telephone-event payload types with their clock rates.
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

/// Munges an answer before it is sent: in each audio section, `a=ptime`/`a=maxptime` of 20 ms
/// and the Opus fmtp with [`OPUS_FMTP`]'s `useinbandfec` and `maxplaybackrate` (other
/// parameters kept).
pub fn munge_answer(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len() + 96);
    for section in split_sections(sdp) {
        let audio = section.first().is_some_and(|l| l.starts_with("m=audio "));
        let opus = if audio {
            opus_pts(&section)
        } else {
            Vec::new()
        };
        for line in &section {
            if audio && (line.starts_with("a=ptime:") || line.starts_with("a=maxptime:")) {
                continue;
            }
            match opus_fmtp(line, &opus) {
                Some(fixed) => push_line(&mut out, &fixed),
                None => push_line(&mut out, line),
            }
        }
        if audio {
            if !section.iter().any(|l| opus_fmtp(l, &opus).is_some()) {
                for pt in &opus {
                    push_line(&mut out, &format!("a=fmtp:{pt} {OPUS_FMTP}"));
                }
            }
            push_line(&mut out, &format!("a=ptime:{PTIME_MS}"));
            push_line(&mut out, &format!("a=maxptime:{PTIME_MS}"));
        }
    }
    out
}

/// The Opus payload types of one section.
pub fn opus_pts(section: &[&str]) -> Vec<u8> {
    section
        .iter()
        .filter_map(|l| rtpmap(l))
        .filter(|(_, n)| encoding(n).is_some_and(|(n, _)| n == "opus"))
        .map(|(pt, _)| pt)
        .collect()
}

/// The Opus fmtp line with our `useinbandfec=0` and `maxplaybackrate`, if `line` is the fmtp
/// of one of `opus`.
pub fn opus_fmtp(line: &str, opus: &[u8]) -> Option<String> {
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

/// `opus/48000/2` -> ("opus", 48000), lower-cased.
pub fn encoding(name: &str) -> Option<(String, u32)> {
    let mut parts = name.trim().split('/');
    let n = parts.next()?.to_ascii_lowercase();
    let rate = parts.next()?.trim().parse().ok()?;
    Some((n, rate))
}

/// `a=rtpmap:111 opus/48000/2` -> (111, "opus/48000/2").
pub fn rtpmap(line: &str) -> Option<(u8, &str)> {
    let rest = line.trim_end().strip_prefix("a=rtpmap:")?;
    let (pt, name) = rest.split_once(' ')?;
    Some((pt.parse().ok()?, name))
}

/// Appends `line` with `\r\n`.
pub fn push_line(out: &mut String, line: &str) {
    out.push_str(line);
    out.push_str("\r\n");
}

/// The session section, then one per `m=` line; empty lines dropped, line ends trimmed.
pub fn split_sections(sdp: &str) -> Vec<Vec<&str>> {
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_asks_for_20_ms_wideband_opus_without_fec_in_audio_sections_only() {
        let sdp = "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n\
            m=audio 9 UDP/TLS/RTP/SAVPF 111 110\r\na=rtpmap:111 opus/48000/2\r\n\
            a=fmtp:111 minptime=10;useinbandfec=1;stereo=1\r\n\
            a=rtpmap:110 telephone-event/48000\r\na=fmtp:110 0-16\r\na=ptime:60\r\n\
            m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=sctp-port:5000\r\n";
        let m = munge_answer(sdp);
        assert!(!m.contains("a=ptime:60"));
        let audio = &m[m.find("m=audio").unwrap()..m.find("m=application").unwrap()];
        assert!(audio.contains("a=ptime:20\r\na=maxptime:20\r\n"), "{m}");
        assert!(
            audio.contains(
                "a=fmtp:111 minptime=10;stereo=1;useinbandfec=0;maxplaybackrate=16000\r\n"
            ),
            "{m}"
        );
        assert!(audio.contains("a=fmtp:110 0-16\r\n"));
        assert_eq!(m.matches("a=ptime:").count(), 1, "not in the data section");
        assert!(m.starts_with("v=0\r\n"));
        let n = negotiated_audio(&m).unwrap();
        assert_eq!((n.opus_pt, n.event_pts), (111, vec![(110, 48_000)]));
    }

    #[test]
    fn an_opus_without_fmtp_gets_ours() {
        let sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n";
        assert!(munge_answer(sdp).contains(&format!("a=fmtp:111 {OPUS_FMTP}\r\n")));
    }

    #[test]
    fn garbage_is_not_a_negotiation() {
        assert_eq!(negotiated_audio("not sdp"), None);
        assert_eq!(munge_answer(""), "");
        assert_eq!(rtpmap("a=rtpmap:999 opus/48000"), None);
        assert_eq!(encoding("opus/fast"), None);
    }
}
