//! The answer munging the gateway applies (server/gateway/src/sfu/peer.rs), done on the answer
//! text every forwarder sends: each audio section asks for 20 ms packets (`a=ptime:20`,
//! `a=maxptime:20`) and the Opus fmtp carries `useinbandfec=0;maxplaybackrate=16000`. None of
//! the three engines writes these itself, so each pays the same string pass at set-up.

/// Packet time asked of every sender.
pub const PTIME_MS: u32 = 20;
/// Opus fmtp parameters the gateway sets.
pub const OPUS_PARAMS: &str = "useinbandfec=0;maxplaybackrate=16000";

/// The answer with the gateway's audio attributes.
pub fn munge_answer(sdp: &str) -> String {
    let mut out = String::with_capacity(sdp.len() + 128);
    let mut audio = false;
    let mut opus_pts: Vec<String> = Vec::new();
    let close = |out: &mut String, audio: bool| {
        if audio {
            out.push_str(&format!("a=ptime:{PTIME_MS}\r\na=maxptime:{PTIME_MS}\r\n"));
        }
    };
    for line in sdp.lines().map(str::trim_end).filter(|l| !l.is_empty()) {
        if line.starts_with("m=") {
            close(&mut out, audio);
            audio = line.starts_with("m=audio ");
            opus_pts.clear();
        }
        if audio && (line.starts_with("a=ptime:") || line.starts_with("a=maxptime:")) {
            continue;
        }
        if let Some(rest) = line.strip_prefix("a=rtpmap:")
            && let Some((pt, name)) = rest.split_once(' ')
            && name.to_ascii_lowercase().starts_with("opus/")
        {
            opus_pts.push(pt.to_owned());
        }
        if let Some(rest) = line.strip_prefix("a=fmtp:")
            && let Some((pt, params)) = rest.split_once(' ')
            && opus_pts.iter().any(|p| p == pt)
        {
            let kept: Vec<&str> = params
                .split(';')
                .map(str::trim)
                .filter(|p| {
                    !p.is_empty()
                        && !p.starts_with("useinbandfec=")
                        && !p.starts_with("maxplaybackrate=")
                })
                .collect();
            let mut params = kept.join(";");
            if !params.is_empty() {
                params.push(';');
            }
            out.push_str(&format!("a=fmtp:{pt} {params}{OPUS_PARAMS}\r\n"));
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    close(&mut out, audio);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_for_20_ms_and_wideband_opus_without_fec() {
        let sdp = "v=0\r\ns=-\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n\
                   a=fmtp:111 minptime=10;useinbandfec=1\r\na=ptime:60\r\n\
                   m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
        let m = munge_answer(sdp);
        assert!(
            m.contains("a=fmtp:111 minptime=10;useinbandfec=0;maxplaybackrate=16000\r\n"),
            "{m}"
        );
        assert!(!m.contains("a=ptime:60"));
        let audio = &m[..m.find("m=application").unwrap_or(m.len())];
        assert!(audio.ends_with("a=ptime:20\r\na=maxptime:20\r\n"), "{m}");
        assert_eq!(m.matches("a=ptime:").count(), 1);
    }
}
