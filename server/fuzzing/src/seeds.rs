//! The seed corpus: small, real inputs for every target, made by the crates' own code (Opus
//! packets the encoder made once, [`crate::dtmf_opus`]; envelopes from `sealed::seal`, track files from `TrackWriter`),
//! the messages of docs/protocol.md, the card-number forms of SECURITY.md and the JWT attack
//! corpus. `cargo run -p hushpay-fuzzing --example write_seeds` writes them to
//! `fuzz/seeds/<target>/`; `tests/replay_corpus.rs` checks the committed files are exactly these.

use hushpay_card::sealed::CardPayload;
use hushpay_card::{Cvc, Expiry, Pan, PostalCode};
use hushpay_media::rfc4733::TelephoneEvent;
use hushpay_media::rtp::RtpBuilder;
use hushpay_recording::{RecordedPacket, SignedMetadata};

use crate::masker::program::Program;
use crate::{masker, recording, sealed_card};

/// One seed: target, file name, bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seed {
    pub target: &'static str,
    pub name: String,
    pub bytes: Vec<u8>,
}

/// Every seed of every target.
pub fn all() -> Vec<Seed> {
    let mut out = Vec::new();
    let mut add = |target: &'static str, list: Vec<(String, Vec<u8>)>| {
        out.extend(list.into_iter().map(|(name, bytes)| Seed {
            target,
            name,
            bytes,
        }));
    };
    add("rtp", rtp());
    add("masker", masker());
    add("signal", signal());
    add("chat_scan", chat_scan());
    add("sealed_card", sealed_card());
    add("recording", recording());
    add("jwt", jwt());
    add("webhook_url", webhook_url());
    add("rtc_endpoint", rtc_endpoint());
    add("sip", sip());
    add("sdp", sdp());
    add("masker_g711", masker_g711());
    out
}

fn named<T: Into<Vec<u8>>>(list: Vec<(&str, T)>) -> Vec<(String, Vec<u8>)> {
    list.into_iter()
        .map(|(n, b)| (n.to_owned(), b.into()))
        .collect()
}

fn rtp_packet(pt: u8, marker: bool, seq: u16, ts: u32, payload: &[u8]) -> Vec<u8> {
    RtpBuilder {
        marker,
        payload_type: pt,
        sequence: seq,
        timestamp: ts,
        ssrc: masker::SSRC,
    }
    .build(payload)
}

/// 20 ms Opus packets of a keyed `4` ([`crate::dtmf_opus`]).
fn dtmf_opus() -> Vec<Vec<u8>> {
    crate::dtmf_opus::PACKETS
        .iter()
        .map(|p| p.to_vec())
        .collect()
}

fn rtp() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for (i, p) in dtmf_opus().iter().enumerate() {
        out.push((
            format!("opus-dtmf-4-{i}"),
            rtp_packet(111, i == 0, 7 + i as u16, 960 * i as u32, p),
        ));
    }
    let ev = |end: bool, duration: u16| {
        TelephoneEvent {
            code: 4,
            end,
            volume: 10,
            duration,
        }
        .build()
    };
    out.push((
        "rfc4733-start".into(),
        rtp_packet(110, true, 20, 9600, &ev(false, 960)),
    ));
    out.push((
        "rfc4733-end".into(),
        rtp_packet(110, false, 23, 9600, &ev(true, 4800)),
    ));
    out.push(("rfc4733-payload".into(), ev(true, 800).to_vec()));
    // A browser's packet: one-byte header extension (ssrc-audio-level), padding.
    let mut browser = vec![0xb0, 111, 0, 9, 0, 0, 0x25, 0x80, 0x48, 0x55, 0x53, 0x48];
    browser.extend_from_slice(&[0xbe, 0xde, 0, 1, 0x10, 0x9e, 0, 0]);
    browser.extend_from_slice(&[0xf8, 0xff, 0xfe, 0, 0, 2]);
    out.push(("extension-and-padding".into(), browser));
    out
}

/// Phone-leg programs (`masker_g711`): PCMU and PCMA card numbers in-band, 8 kHz events, SIP
/// INFO keys, raw payloads of odd lengths, events not negotiated, jitter and replays.
fn masker_g711() -> Vec<(String, Vec<u8>)> {
    let card = "4111111111111111#";
    let list = vec![
        (
            "pcmu-inband-card",
            Program::g711(false, true, 1)
                .silence(100)
                .keyed(card, 10, 60, 60),
        ),
        (
            "pcma-inband-card",
            Program::g711(true, true, 2)
                .ptime(10)
                .silence(50)
                .keyed(card, 10, 60, 60),
        ),
        (
            "rfc4733-8k-presses",
            Program::g711(false, true, 3)
                .silence(40)
                .event_press_8k('4', 120)
                .silence(60)
                .event_press_8k('1', 80)
                .silence(40),
        ),
        (
            "sip-info-keys",
            Program::g711(false, true, 4)
                .silence(60)
                .signalled('7', 100)
                .silence(200)
                .silence(200)
                .signalled('#', 0)
                .silence(200)
                .silence(200)
                .signalled('0', 160)
                .silence(60),
        ),
        (
            "secure-mode-info-and-inband",
            Program::g711(true, true, 5)
                .noise(60, 30)
                .secure()
                .noisy_tone('4', 15, 50, 20)
                .signalled('4', 60)
                .noise(50, 30)
                .noisy_tone('2', 18, 50, 20)
                .noise(80, 30)
                .insecure()
                .noise(60, 30),
        ),
        (
            "no-events-negotiated-40ms",
            Program::g711(false, false, 6)
                .ptime(40)
                .event_press_8k('5', 60)
                .keyed("5", 12, 70, 50),
        ),
        (
            "raw-payloads-jitter-replays",
            Program::g711(true, true, 7)
                .jitter(9)
                .keyed("12", 10, 60, 40)
                .raw_opus(&[])
                .raw_opus(&[0x55; 7])
                .raw_opus(&[0xd5; 161])
                .gap(90)
                .replay(2)
                .replay(2)
                .jitter(0)
                .keyed("3", 10, 60, 40),
        ),
    ];
    list.into_iter()
        .map(|(n, p)| (n.to_owned(), p.bytes()))
        .collect()
}

fn masker() -> Vec<(String, Vec<u8>)> {
    let card = "4111111111111111#";
    let raw = dtmf_opus();
    let mut raw_program = Program::new(2, 0, 9).silence(40);
    for p in &raw {
        raw_program = raw_program.raw_opus(p);
    }
    let event_packet = rtp_packet(
        110,
        true,
        3,
        0,
        &TelephoneEvent {
            code: 1,
            end: false,
            volume: 10,
            duration: 960,
        }
        .build(),
    );
    let list = vec![
        (
            "inband-card-20ms",
            Program::new(2, 0, 1).silence(100).keyed(card, 10, 60, 60),
        ),
        (
            "inband-card-10ms-quiet",
            Program::new(1, 1, 2)
                .ptime(10)
                .silence(50)
                .keyed("5555555555554444", 24, 45, 45),
        ),
        (
            "inband-40ms-and-60ms",
            Program::new(3, 0, 3)
                .ptime(40)
                .keyed("3782", 8, 70, 50)
                .ptime(60)
                .keyed("8224", 8, 70, 50),
        ),
        (
            "rfc4733-presses",
            Program::new(2, 0, 4)
                .silence(40)
                .event_press('4', 120)
                .silence(60)
                .event_press('1', 80)
                .silence(40),
        ),
        (
            "rfc4733-8k-clock-with-inband",
            Program::new(2, 0, 5)
                .event('9', true, false, 160, true)
                .tone('9', 12, 60)
                .event('9', false, true, 480, true)
                .silence(60),
        ),
        (
            "secure-mode-noisy-keys",
            Program::new(0, 2, 6)
                .noise(60, 30)
                .secure()
                .noisy_tone('4', 15, 50, 20)
                .noise(50, 30)
                .noisy_tone('2', 18, 50, 20)
                .noise(80, 30)
                .insecure()
                .noise(60, 30),
        ),
        (
            "twist-and-offset",
            Program::new(2, 0, 7)
                .tone_with('6', 10, 4, (37, -37), 80)
                .silence(40)
                .tone_with('#', 20, -7, (-30, 30), 50)
                .silence(40),
        ),
        (
            "jitter-gaps-replays",
            Program::new(2, 0, 8)
                .jitter(7)
                .keyed("12", 10, 60, 40)
                .gap(90)
                .replay(2)
                .replay(2)
                .jitter(0)
                .keyed("3", 10, 60, 40),
        ),
        ("raw-opus-dtmf", raw_program),
        (
            "raw-rtp",
            Program::new(2, 0, 10)
                .silence(40)
                .raw_rtp(false, &event_packet)
                .raw_rtp(true, &[0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xf8, 0xff])
                .silence(40),
        ),
    ];
    list.into_iter()
        .map(|(n, p)| (n.to_owned(), p.bytes()))
        .collect()
}

fn signal() -> Vec<(String, Vec<u8>)> {
    let sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111 110\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:110 telephone-event/48000\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:1\r\na=sctp-port:5000\r\n";
    let offer = serde_json::json!({"type": "offer", "sdp": sdp}).to_string();
    named(vec![
        ("auth", r#"{"type":"auth","token":"eyJhbGciOiJFZERTQSJ9.e30.c2ln"}"#.to_owned()),
        ("join", r#"{"type":"join","v":1}"#.to_owned()),
        ("join-no-version", r#"{"type":"join"}"#.to_owned()),
        ("offer", offer),
        (
            "candidate",
            r#"{"type":"candidate","candidate":"candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host","sdpMid":"0","sdpMLineIndex":0}"#.to_owned(),
        ),
        ("candidate-end", r#"{"type":"candidate","candidate":null}"#.to_owned()),
        ("mute", r#"{"type":"mute","muted":true}"#.to_owned()),
        ("ping", r#"{"type":"ping","nonce":42}"#.to_owned()),
        ("leave", r#"{"type":"leave"}"#.to_owned()),
        ("recording-pause", r#"{"type":"recording","action":"pause"}"#.to_owned()),
        ("reserved-payment", r#"{"type":"payment_request"}"#.to_owned()),
        ("unknown-type", r#"{"type":"dance"}"#.to_owned()),
        ("schema-mismatch-pan", r#"{"type":"mute","muted":"4111111111111111"}"#.to_owned()),
        // Found by the signal target's invariant (a refusal never echoes a value): fixed in
        // extract::redact_quoted.
        ("schema-mismatch-integer-pan", r#"{"type":"mute","muted":4111111111111111}"#.to_owned()),
        ("schema-mismatch-escaped-quote-pan", r#"{"type":"mute","muted":"x\"4111111111111111"}"#.to_owned()),
    ])
}

fn chat_scan() -> Vec<(String, Vec<u8>)> {
    // Message separator: NUL; the first byte of a message is its sender.
    let split = "a4111 1111\0bthe next four?\0a1111 1111\0a737";
    named(vec![
        ("plain", "a4111111111111111"),
        ("spaces", "amy card is 4111 1111 1111 1111 thanks"),
        (
            "dashes-dots-slashes",
            "a5555-5555-5555-4444 or 4111.1111.1111.1111 / 3782/822463/10005",
        ),
        ("full-width", "a４１１１ １１１１ １１１１ １１１１"),
        ("arabic-indic", "a٤١١١١١١١١١١١١١١١"),
        ("devanagari", "a४१११ ११११ ११११ ११११"),
        ("mathematical", "a𝟒𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏𝟏"),
        (
            "zero-width",
            "a4\u{200B}1\u{200C}1\u{200D}1\u{2060}1\u{FEFF}1\u{00AD}111111111 1",
        ),
        ("keycaps", "a4️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣1️⃣"),
        ("mixed-scripts", "a٤١١١ 1111 ११११ ๑๑๑๑"),
        ("split-over-messages", split),
        (
            "phone-then-card",
            "acall +1 555 123 4567 4111 1111 1111 1111",
        ),
        (
            "benign",
            "acall me on +1 (555) 123-4567\0bDOB 01/02/1980, MRN 00123456\0border 12345678901234567890",
        ),
    ])
}

fn test_card(pan: &str, cvc: Option<&str>, postal: Option<&str>) -> Option<CardPayload> {
    let pan = Pan::parse(pan).ok()?;
    let cvc = match cvc {
        Some(c) => Some(Cvc::parse(c, pan.brand()).ok()?),
        None => None,
    };
    let postal_code = match postal {
        Some(p) => Some(PostalCode::parse(p).ok()?),
        None => None,
    };
    Some(CardPayload {
        pan,
        expiry: Expiry::new(12, 2030).ok()?,
        cvc,
        postal_code,
    })
}

fn sealed_card() -> Vec<(String, Vec<u8>)> {
    let cards = [
        (
            "visa-cvc-postal",
            "4111111111111111",
            Some("737"),
            Some("94107"),
        ),
        ("amex-cvc", "378282246310005", Some("1234"), None),
        ("mastercard-bare", "5555555555554444", None, None),
    ];
    let mut out = Vec::new();
    for (i, (name, pan, cvc, postal)) in cards.into_iter().enumerate() {
        if let Some(card) = test_card(pan, cvc, postal)
            && let Some(env) = sealed_card::seal_fixture(&card, i as u64 + 1)
        {
            out.push((format!("envelope-{name}"), env.to_json().into_bytes()));
        }
    }
    out.extend(named(vec![
        (
            "plaintext-visa",
            r#"{"v":1,"pan":"4111111111111111","exp_month":12,"exp_year":2030,"cvc":"123","postal_code":"94107"}"#,
        ),
        (
            "plaintext-amex-no-cvc",
            r#"{"v":1,"pan":"378282246310005","exp_month":1,"exp_year":2031}"#,
        ),
    ]));
    out
}

fn recording() -> Vec<(String, Vec<u8>)> {
    let packets: Vec<RecordedPacket> = dtmf_opus()
        .into_iter()
        .enumerate()
        .map(|(i, payload)| RecordedPacket {
            at_ms: 20 * i as u32,
            rtp_timestamp: 960 * i as u32,
            sequence: i as u16,
            payload,
        })
        .collect();
    let mut out = Vec::new();
    if let Some(file) = recording::write_track(&packets) {
        let cut = file.len() - 30;
        out.push(("track".to_owned(), file.clone()));
        out.push(("track-cut".to_owned(), file[..cut].to_vec()));
    }
    let mut plain = Vec::new();
    for p in packets.iter().take(2) {
        let _ = p.encode_into(&mut plain);
    }
    out.push(("chunk-plaintext".to_owned(), plain));
    if let Ok(doc) = SignedMetadata::sign(&recording::METADATA_KEY, recording::metadata_fixture())
        && let Ok(json) = doc.to_json()
    {
        out.push(("metadata".to_owned(), json));
    }
    out
}

/// The literal tokens of `server/auth/tests/jwt_corpus/` (those up to 2 KiB: the fuzzer caps
/// input length).
fn jwt() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../auth/tests/jwt_corpus");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .filter_map(|e| {
            let path = e.ok()?.path();
            let name = path.file_stem()?.to_str()?.to_owned();
            if name.starts_with('_') {
                return None;
            }
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).ok()?).ok()?;
            let token = v["token"].as_str()?;
            (token.len() <= 2048).then(|| (name, token.as_bytes().to_vec()))
        })
        .collect();
    out.sort();
    out
}

fn webhook_url() -> Vec<(String, Vec<u8>)> {
    named(vec![
        ("public-host", "https://hooks.example.com/hushpay?x=1#f"),
        ("public-ip-port", "https://8.8.8.8:8443/hook"),
        ("loopback", "https://127.0.0.1/hook"),
        ("backslash", "https://127.0.0.1\\x.attacker.example/"),
        ("userinfo", "https://hooks.example.com@127.0.0.1/"),
        ("ipv6-loopback", "https://[::1]/"),
        ("ipv6-mapped", "https://[::ffff:127.0.0.1]/"),
        ("ipv6-embedded", "https://[64:ff9b::7f00:1]/"),
        ("decimal-ipv4", "https://2130706433/"),
        ("octal-ipv4", "https://0177.0.0.1/"),
        ("hex-ipv4", "https://0x7f.1/"),
        ("trailing-dot", "https://localhost./"),
        (
            "metadata-service",
            "https://169.254.169.254/latest/meta-data",
        ),
        ("percent-encoded", "https://%31%32%37.0.0.1/"),
        ("http", "http://hooks.example.com/"),
    ])
}

/// Programs of the `rtc_endpoint` target (see its module doc for the opcodes).
fn rtc_endpoint() -> Vec<(String, Vec<u8>)> {
    const UDP: u8 = 0;
    const CHECK: u8 = 1;
    const TCP: u8 = 2;
    const TCP_CHECK: u8 = 3;
    const WAIT: u8 = 4;
    const SPOOF: u8 = 5;
    const LOOKALIKE: u8 = 6;
    const AGAIN: u8 = 7;
    /// `op` with a short slice operand (length byte first).
    fn slice(out: &mut Vec<u8>, bytes: &[u8]) {
        out.push(bytes.len() as u8);
        out.extend_from_slice(bytes);
    }
    fn check(out: &mut Vec<u8>, op: u8, who: u8, peer: u8, tail: &[u8]) {
        out.extend_from_slice(&[op, who, peer]);
        slice(out, b"remoteufrag");
        slice(out, tail);
        out.extend_from_slice(&[7; 12]);
    }
    // MESSAGE-INTEGRITY (20 bytes, wrong) then FINGERPRINT (wrong)
    let mut integrity = vec![0x00, 0x08, 0x00, 0x14];
    integrity.extend_from_slice(&[0xab; 20]);
    integrity.extend_from_slice(&[0x80, 0x28, 0x00, 0x04, 1, 2, 3, 4]);
    let connect = vec![0, WAIT, 250];

    let mut forged = connect.clone();
    for who in 0..4 {
        check(&mut forged, CHECK, who, 0, &integrity);
    }
    forged.extend_from_slice(&[AGAIN, 15, WAIT, 50]);

    let mut early = vec![1];
    check(&mut early, CHECK, 2, 1, &[]);
    forged_tcp(&mut early, TCP_CHECK, &integrity);
    early.extend_from_slice(&[AGAIN, 9, WAIT, 250]);

    let mut tcp = connect.clone();
    tcp.extend_from_slice(&[TCP, 1]);
    slice(&mut tcp, &[0, 3, 1, 2, 3, 0, 0, 0, 40, 22, 0xfe]);
    tcp.extend_from_slice(&[TCP, 1]);
    slice(&mut tcp, &[0xfd, 0, 0]);
    tcp.extend_from_slice(&[TCP, 2]);
    slice(&mut tcp, &[0xff, 0xff, 0x80]);

    let mut garbage = vec![0];
    for (who, bytes) in [
        (0u8, &b""[..]),
        (1, &[0x80; 40][..]),
        (2, &[22, 0xfe, 0xfd, 0, 0][..]),
        (3, &[0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42][..]),
    ] {
        garbage.extend_from_slice(&[UDP, who]);
        slice(&mut garbage, bytes);
    }
    garbage.extend_from_slice(&[UDP, 0xf0, 127, 0, 0, 1, 0x1e, 0xc2, 4, 1, 2, 3, 4]);
    garbage.extend_from_slice(&[UDP, 0xf8, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 1, 0, 80, 1, 0]);
    garbage.extend_from_slice(&[WAIT, 200]);

    let mut lookalikes = connect.clone();
    for kind in 0..3u8 {
        lookalikes.extend_from_slice(&[LOOKALIKE, kind, kind]);
        slice(&mut lookalikes, &[0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x20, 1]);
    }

    let mut spoofed = vec![1, WAIT, 250];
    for (peer, bytes) in [
        (
            0u8,
            &[21, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 9, 0, 2, 2, 40][..],
        ),
        (1, &[0x80, 111, 0, 9, 0, 0, 0, 1, 0, 0, 0, 1, 9, 9][..]),
        (0, &[0x81, 200, 0, 1, 0, 0, 0, 1][..]),
    ] {
        spoofed.extend_from_slice(&[SPOOF, peer]);
        slice(&mut spoofed, bytes);
    }
    spoofed.extend_from_slice(&[WAIT, 100]);

    vec![
        ("connect".to_owned(), connect),
        ("forged-checks-then-churn".to_owned(), forged),
        ("forged-checks-during-handshake".to_owned(), early),
        ("tcp-frames-split".to_owned(), tcp),
        ("garbage-from-anywhere".to_owned(), garbage),
        ("dtls-rtp-rtcp-lookalikes".to_owned(), lookalikes),
        ("spoofed-from-clients".to_owned(), spoofed),
    ]
}

/// A forged check on TCP connection 0 (framed by the target, split after 5 bytes).
fn forged_tcp(out: &mut Vec<u8>, op: u8, tail: &[u8]) {
    out.extend_from_slice(&[op, 0, 0, 3]);
    out.extend_from_slice(b"abc");
    out.push(tail.len() as u8);
    out.extend_from_slice(tail);
    out.extend_from_slice(&[1; 12]);
    out.push(5);
}

const PHONE_OFFER: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n";

fn sip_request(
    method: &str,
    call_id: &str,
    cseq: u32,
    to_tag: &str,
    extra: &str,
    body: &str,
) -> String {
    let ctype = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:+441234@198.51.100.1 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-{cseq}\r\nMax-Forwards: 70\r\nFrom: \"Caller\" <sip:caller@192.0.2.10>;tag=from1\r\nTo: <sip:+441234@198.51.100.1>{to_tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContact: <sip:caller@192.0.2.10:5060>\r\n{extra}{ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn sip() -> Vec<(String, Vec<u8>)> {
    let invite = sip_request("INVITE", "fz1", 1, "", "", PHONE_OFFER);
    let auth = "Authorization: Digest username=\"pbx\", realm=\"fuzz\", nonce=\"00\", uri=\"sip:+441234@198.51.100.1\", response=\"0123456789abcdef0123456789abcdef\", algorithm=MD5, qop=auth, nc=00000001, cnonce=\"c\"\r\n";
    let hold = PHONE_OFFER.replace("a=sendrecv", "a=sendonly");
    let mut dialog = invite.clone();
    dialog.push_str(&sip_request("ACK", "fz1", 1, ";tag=x", "", ""));
    dialog.push_str(&sip_request("INVITE", "fz1", 2, ";tag=x", "", &hold));
    dialog.push_str(&sip_request("BYE", "fz1", 3, ";tag=x", "", ""));
    named(vec![
        ("options", sip_request("OPTIONS", "fz0", 1, "", "", "")),
        ("invite", invite.clone()),
        (
            "invite-digest",
            sip_request("INVITE", "fz2", 1, "", auth, PHONE_OFFER),
        ),
        ("cancel", sip_request("CANCEL", "fz1", 1, "", "", "")),
        ("bye", sip_request("BYE", "fz1", 2, ";tag=x", "", "")),
        ("register", sip_request("REGISTER", "fz3", 1, "", "", "")),
        (
            "bad-cseq",
            sip_request("OPTIONS", "fz4", 1, "", "", "").replace("CSeq: 1 OPTIONS", "CSeq: x"),
        ),
        ("dialog-stream", dialog),
        ("keepalive", "\r\n\r\n".to_owned()),
    ])
}

fn sdp() -> Vec<(String, Vec<u8>)> {
    named(vec![
        ("pcmu-pcma-te", PHONE_OFFER.to_owned()),
        ("hold-sendonly", PHONE_OFFER.replace("a=sendrecv", "a=sendonly")),
        ("video-then-audio", PHONE_OFFER.replace("m=audio", "m=video 5000 RTP/AVP 96\r\na=rtpmap:96 VP8/90000\r\nm=audio")),
        ("g729-only", "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\nm=audio 40000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n".to_owned()),
        ("ip6", PHONE_OFFER.replace("IN IP4 192.0.2.10", "IN IP6 2001:db8::1")),
    ])
}
