//! Hostile RTP on a phone caller's leg in a room, with the test as the trunk (plain UDP): from
//! the caller's own address, malformed datagrams (empty, truncated, version 0, a header that
//! claims more CSRCs than it has, padding longer than the payload), an Opus packet on the PCMU
//! leg and a second SSRC are refused and counted; RTP from a stranger's address is dropped and
//! counted; nothing panics, the agent keeps getting the caller's audio. The agent's audio
//! reaches the caller, not while the caller holds the call (re-INVITE `sendonly`), again once it
//! resumes; the caller's BYE takes it out of the room.

use std::sync::atomic::Ordering;
use std::time::Duration;

use hushpay_media::rtp::RtpBuilder;
use tokio::net::UdpSocket;

use crate::harness::*;
use crate::phone_caller::sip_listener;

fn request(
    method: &str,
    target: &str,
    cseq: u32,
    to_tag: &str,
    sip_port: u16,
    sdp: Option<&str>,
) -> Vec<u8> {
    let (ctype, body) = match sdp {
        Some(b) => ("Content-Type: application/sdp\r\n", b),
        None => ("", ""),
    };
    format!(
        "{method} sip:payline@{target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{sip_port};branch=z9hG4bK-bad-{cseq}-{method}\r\nFrom: <sip:caller@127.0.0.1>;tag=bad-caller\r\nTo: <sip:payline@{target}>{to_tag}\r\nCall-ID: bad-rtp-call-1\r\nCSeq: {cseq} {method}\r\nContact: <sip:caller@127.0.0.1:{sip_port}>\r\nMax-Forwards: 70\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

async fn recv_response(sock: &UdpSocket, code: u16) -> String {
    let mut buf = vec![0u8; 4096];
    loop {
        let (n, _) = tokio::time::timeout(Duration::from_secs(5), sock.recv_from(&mut buf))
            .await
            .expect("a response within 5 s")
            .unwrap();
        let text = String::from_utf8_lossy(&buf[..n]).into_owned();
        if text.starts_with(&format!("SIP/2.0 {code} ")) {
            return text;
        }
        assert!(text.starts_with("SIP/2.0 1"), "unexpected: {text}");
    }
}

/// A PCMU packet of a 1 kHz tone (audible, not DTMF).
fn pcmu(seq: u16, ssrc: u32) -> Vec<u8> {
    let mut pcm = Vec::new();
    hushpay_media::signal::append_tone(1_000.0, -10.0, 20.0, 8_000, &mut pcm);
    let mut g = Vec::new();
    hushpay_media::g711::Law::Mu.encode(&pcm, &mut g);
    RtpBuilder {
        marker: false,
        payload_type: 0,
        sequence: seq,
        timestamp: 160 * u32::from(seq),
        ssrc,
    }
    .build(&g)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_rtp_on_a_callers_leg_is_refused_and_counted_and_the_call_goes_on() {
    let gw = gateway().await;
    let (t, key) = gw.tenant("clinic").await;
    let server = sip_listener(&gw, t.id.as_str()).await;
    let agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let target = server.udp_addr.to_string();
    let sip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (sip_port, rtp_port) = (
        sip.local_addr().unwrap().port(),
        rtp.local_addr().unwrap().port(),
    );
    let offer = |direction: &str| {
        format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na={direction}\r\n"
        )
    };
    let sdp = offer("sendrecv");
    sip.send_to(
        &request("INVITE", &target, 1, "", sip_port, Some(&sdp)),
        server.udp_addr,
    )
    .await
    .unwrap();
    let ok = recv_response(&sip, 200).await;
    let leg_port: u16 = ok
        .split("m=audio ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .and_then(|p| p.parse().ok())
        .expect("an m=audio line");
    let tag = ok
        .lines()
        .find(|l| l.starts_with("To:"))
        .and_then(|l| l.split(";tag=").nth(1))
        .unwrap()
        .trim()
        .to_owned();
    let to_tag = format!(";tag={tag}");
    sip.send_to(
        &request("ACK", &target, 1, &to_tag, sip_port, None),
        server.udp_addr,
    )
    .await
    .unwrap();
    let room = loop {
        if let Some(r) = gw.state.sfu.rooms.all().into_iter().next()
            && r.participant_count() == 2
        {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let leg = format!("127.0.0.1:{leg_port}");
    let sfu = &gw.state.metrics.sfu;
    let refused_before = sfu.packets_refused.load(Ordering::Relaxed);

    let mut seq = 1u16;
    let mut hostile: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x80, 0x00, 0x00],
        {
            let mut p = pcmu(500, 7);
            p[0] = 0x00; // version 0
            p
        },
        {
            let mut p = pcmu(501, 7)[..14].to_vec();
            p[0] = 0x8F; // 15 CSRCs claimed
            p
        },
        {
            let mut p = pcmu(502, 7);
            p[0] |= 0x20; // padding
            *p.last_mut().unwrap() = 0xFF;
            p
        },
        RtpBuilder {
            marker: false,
            payload_type: 111,
            sequence: 503,
            timestamp: 0,
            ssrc: 7,
        }
        .build(&[0xF8, 0xFF, 0xFE]),
    ];
    hostile.push(pcmu(504, 0xDEAD)); // a second SSRC, after the first packet fixed it
    // The caller's stream starts (SSRC 7), hostile datagrams in the middle of it.
    for i in 0..100 {
        rtp.send_to(&pcmu(seq, 7), &leg).await.unwrap();
        seq += 1;
        if i == 10 {
            for h in &hostile {
                rtp.send_to(h, &leg).await.unwrap();
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stranger.send_to(&pcmu(seq, 7), &leg).await.unwrap();

    assert!(
        eventually(Duration::from_secs(3), || {
            sfu.packets_refused.load(Ordering::Relaxed) - refused_before >= hostile.len() as u64
        })
        .await,
        "every hostile datagram refused and counted: {}",
        sfu.packets_refused.load(Ordering::Relaxed) - refused_before
    );
    let m = &gw.state.metrics.sip;
    assert!(
        eventually(Duration::from_secs(3), || m
            .rtp_foreign
            .load(Ordering::Relaxed)
            == 1)
        .await
    );
    drained(&agent).await;
    let heard = agent.recording();
    assert!(
        heard.len() > 48 * 20 * 80,
        "the agent kept getting the caller's audio ({} samples)",
        heard.len()
    );
    assert!(
        rms(&heard) > 1_000.0,
        "the tone reached the agent: {}",
        rms(&heard)
    );

    // The agent talks: the caller hears it, not while it holds the call, again once resumed.
    let words = speech("one moment please");
    let up = agent.uplink();
    let mut heard_by_caller = Vec::new();
    for change in [None, Some((2, "sendonly")), Some((3, "sendrecv"))] {
        if let Some((cseq, direction)) = change {
            let reinvite = request(
                "INVITE",
                &target,
                cseq,
                &to_tag,
                sip_port,
                Some(&offer(direction)),
            );
            sip.send_to(&reinvite, server.udp_addr).await.unwrap();
            recv_response(&sip, 200).await;
            sip.send_to(
                &request("ACK", &target, cseq, &to_tag, sip_port, None),
                server.udp_addr,
            )
            .await
            .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        // what arrived before the direction changed is not counted
        let mut buf = vec![0u8; 2048];
        while rtp.try_recv_from(&mut buf).is_ok() {}
        let until =
            tokio::time::Instant::now() + Duration::from_millis(words.len() as u64 / 48 + 500);
        let (played, n) = tokio::join!(up.play(&words, &[]), async {
            let mut n = 0;
            while let Ok(Ok(_)) = tokio::time::timeout_at(until, rtp.recv_from(&mut buf)).await {
                n += 1;
            }
            n
        });
        played.unwrap();
        heard_by_caller.push(n);
    }
    assert!(
        heard_by_caller[0] > 20,
        "the agent reaches the caller: {heard_by_caller:?}"
    );
    assert_eq!(
        heard_by_caller[1], 0,
        "nothing sent to a caller who holds the call"
    );
    assert!(
        heard_by_caller[2] > 20,
        "and again once it resumes: {heard_by_caller:?}"
    );

    sip.send_to(
        &request("BYE", &target, 4, &to_tag, sip_port, None),
        server.udp_addr,
    )
    .await
    .unwrap();
    recv_response(&sip, 200).await;
    assert!(
        eventually(Duration::from_secs(3), || room.participant_count() == 1).await,
        "the caller left the room"
    );
}
