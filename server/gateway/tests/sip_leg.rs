//! The RTP leg of an answered phone call, with the test as the trunk (plain UDP sockets): the
//! caller's RTP reaches the application, RTP from another address does not, the application's
//! RTP reaches the caller, a hold re-INVITE is answered `recvonly` and reported, BYE ends the
//! leg.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hushpay::sip::config::RawSip;
use hushpay::sip::leg::LegEvent;
use hushpay::sip::metrics::SipMetrics;
use hushpay_sip::EndReason;
use tokio::net::UdpSocket;

const CONFIG: &str = "listen = '127.0.0.1:0'\n[[trunks]]\nname = 'carrier'\ntenant = 'acme'\nsources = ['127.0.0.1/32']\n[[dispatch]]\ntenant = 'acme'\n";

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
        "{method} sip:payline@{target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{sip_port};branch=z9hG4bK-leg-{cseq}-{method}\r\nFrom: <sip:caller@127.0.0.1>;tag=leg-caller\r\nTo: <sip:payline@{target}>{to_tag}\r\nCall-ID: leg-call-1\r\nCSeq: {cseq} {method}\r\nContact: <sip:caller@127.0.0.1:{sip_port}>\r\nMax-Forwards: 70\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn offer(rtp_port: u16, direction: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na={direction}\r\n"
    )
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

fn rtp_packet(seq: u16) -> Vec<u8> {
    let mut p = vec![
        0x80,
        0,
        (seq >> 8) as u8,
        seq as u8,
        0,
        0,
        0,
        160,
        1,
        2,
        3,
        4,
    ];
    p.extend(std::iter::repeat_n(0xFFu8, 160)); // µ-law silence
    p
}

#[tokio::test]
async fn the_leg_carries_rtp_both_ways_and_reports_hold_and_hang_up() {
    let raw: RawSip = toml::from_str(CONFIG).unwrap();
    let metrics = Arc::new(SipMetrics::default());
    let mut server =
        hushpay::sip::server::start(raw.validate().unwrap().unwrap(), Arc::clone(&metrics))
            .await
            .unwrap();
    let target = server.udp_addr.to_string();
    let sip = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let rtp = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (sip_port, rtp_port) = (
        sip.local_addr().unwrap().port(),
        rtp.local_addr().unwrap().port(),
    );

    let invite = request(
        "INVITE",
        &target,
        1,
        "",
        sip_port,
        Some(&offer(rtp_port, "sendrecv")),
    );
    sip.send_to(&invite, server.udp_addr).await.unwrap();
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
    let mut call = server.calls.recv().await.unwrap();
    assert_eq!(call.leg.local_addr().port(), leg_port);

    // caller -> application
    let leg_addr = format!("127.0.0.1:{leg_port}");
    rtp.send_to(&rtp_packet(1), &leg_addr).await.unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), call.leg.recv())
        .await
        .unwrap();
    let Some(LegEvent::Rtp(packet)) = got else {
        panic!("{got:?}")
    };
    assert_eq!(packet, rtp_packet(1));
    let mut pcm = Vec::new();
    hushpay_media::g711::decode_ulaw(&packet[12..], &mut pcm);
    assert!(pcm.iter().all(|&s| s == 0));

    // a stranger's RTP to the same port: dropped and counted
    let stranger = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    stranger.send_to(&rtp_packet(99), &leg_addr).await.unwrap();
    for _ in 0..100 {
        if metrics.rtp_foreign.load(Ordering::Relaxed) == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(metrics.rtp_foreign.load(Ordering::Relaxed), 1);

    // application -> caller
    assert!(call.leg.send_rtp(rtp_packet(7)).await);
    let mut buf = vec![0u8; 2048];
    let (n, from) = tokio::time::timeout(Duration::from_secs(5), rtp.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], &rtp_packet(7)[..]);
    assert_eq!(
        from.port(),
        leg_port,
        "symmetric RTP: sent from the leg's own port"
    );

    // hold
    let hold = request(
        "INVITE",
        &target,
        2,
        &to_tag,
        sip_port,
        Some(&offer(rtp_port, "sendonly")),
    );
    sip.send_to(&hold, server.udp_addr).await.unwrap();
    let ok = recv_response(&sip, 200).await;
    assert!(ok.contains("a=recvonly\r\n"), "{ok}");
    sip.send_to(
        &request("ACK", &target, 2, &to_tag, sip_port, None),
        server.udp_addr,
    )
    .await
    .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(5), call.leg.recv())
        .await
        .unwrap();
    assert_eq!(got, Some(LegEvent::Hold(true)));

    // hang up
    sip.send_to(
        &request("BYE", &target, 3, &to_tag, sip_port, None),
        server.udp_addr,
    )
    .await
    .unwrap();
    recv_response(&sip, 200).await;
    let got = tokio::time::timeout(Duration::from_secs(5), call.leg.recv())
        .await
        .unwrap();
    assert_eq!(got, Some(LegEvent::Ended(EndReason::RemoteBye)));
    assert_eq!(call.leg.recv().await, None, "the leg's task is gone");
}
