//! SIP over TLS (`[sip] tls_listen`, issue 15): a trunk that speaks TLS (a rustls client that
//! trusts the listener's self-signed certificate) probes with OPTIONS, places a call (our
//! Contact names the TLS port with `transport=tls`), and the BYE when Hushpay hangs up comes
//! back over the same connection with a TLS Via. Plain SIP sent to the TLS port gets nothing;
//! half a TLS configuration is refused at start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use hushpay::sip::config::RawSip;
use hushpay::sip::metrics::SipMetrics;
use hushpay::sip::server;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

const TRUNK: &str = "[[trunks]]\nname = 'carrier'\ntenant = 'acme'\nsources = ['127.0.0.1/32']\n[[dispatch]]\ntenant = 'acme'\ncalled = 'payline'\nroom = 'room-1'\n";

/// A listener with TLS on a free port; the certificate's DER for the client to trust.
async fn start(dir: &std::path::Path) -> (server::SipServer, Vec<u8>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let (cert_file, key_file) = (dir.join("sip-cert.pem"), dir.join("sip-key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let text = format!(
        "listen = '127.0.0.1:0'\ntls_listen = '127.0.0.1:0'\ntls_cert_file = '{}'\ntls_key_file = '{}'\n{TRUNK}",
        cert_file.display(),
        key_file.display()
    );
    let raw: RawSip = toml::from_str(&text).unwrap();
    let server = server::start(
        raw.validate().unwrap().unwrap(),
        Arc::new(SipMetrics::default()),
    )
    .await
    .unwrap();
    (server, cert.cert.der().to_vec())
}

type Tls = tokio_rustls::client::TlsStream<TcpStream>;

async fn connect(addr: std::net::SocketAddr, der: &[u8]) -> Tls {
    let mut roots = RootCertStore::empty();
    roots.add(der.to_vec().into()).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = TcpStream::connect(addr).await.unwrap();
    TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("the TLS handshake with the listener's certificate")
}

/// Reads one whole message (head and Content-Length body) from the stream.
async fn read_message(s: &mut Tls, buf: &mut Vec<u8>) -> String {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if buf.len() >= end + 4 + len {
                let msg: Vec<u8> = buf.drain(..end + 4 + len).collect();
                return String::from_utf8(msg).unwrap();
            }
        }
        let mut chunk = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut chunk))
            .await
            .expect("a message within 5 s")
            .unwrap();
        assert!(n > 0, "the listener closed the connection");
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn request(
    method: &str,
    port: u16,
    target: std::net::SocketAddr,
    extra: &str,
    body: &str,
) -> String {
    let ctype = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/sdp\r\n"
    };
    format!(
        "{method} sip:payline@{target};transport=tls SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:{port};branch=z9hG4bK-tls-{method}\r\nFrom: <sip:caller@127.0.0.1>;tag=tls-caller\r\nTo: <sip:payline@{target}>{extra}\r\nCall-ID: tls-call-1\r\nCSeq: 1 {method}\r\nContact: <sip:caller@127.0.0.1:{port};transport=tls>\r\nMax-Forwards: 70\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn header<'s>(msg: &'s str, name: &str) -> Option<&'s str> {
    msg.split("\r\n").find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

#[tokio::test]
async fn a_trunk_speaking_tls_probes_calls_and_is_hung_up_over_tls() {
    let dir = tempfile::tempdir().unwrap();
    let (mut server, der) = start(dir.path()).await;
    let tls_addr = server.tls_addr.expect("TLS listens");
    let mut s = connect(tls_addr, &der).await;
    let port = s.get_ref().0.local_addr().unwrap().port();
    let mut buf = Vec::new();

    s.write_all(request("OPTIONS", port, tls_addr, "", "").as_bytes())
        .await
        .unwrap();
    let ok = read_message(&mut s, &mut buf).await;
    assert!(ok.starts_with("SIP/2.0 200 "), "{ok}");

    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n";
    s.write_all(request("INVITE", port, tls_addr, "", sdp).as_bytes())
        .await
        .unwrap();
    let answer = loop {
        let m = read_message(&mut s, &mut buf).await;
        if !m.starts_with("SIP/2.0 1") {
            break m;
        }
    };
    assert!(answer.starts_with("SIP/2.0 200 "), "{answer}");
    assert_eq!(
        header(&answer, "Contact"),
        Some(format!("<sip:hushpay@{tls_addr};transport=tls>").as_str()),
        "our Contact is the TLS listener"
    );
    let tag = header(&answer, "To")
        .and_then(|t| t.split(";tag=").nth(1))
        .unwrap()
        .to_owned();
    let call = tokio::time::timeout(Duration::from_secs(5), server.calls.recv())
        .await
        .unwrap()
        .expect("the call reaches the application");
    assert_eq!(
        call.room,
        hushpay_sip::dispatch::RoomTarget::Room("room-1".into())
    );
    s.write_all(request("ACK", port, tls_addr, &format!(";tag={tag}"), "").as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    call.leg.hang_up();
    let bye = read_message(&mut s, &mut buf).await;
    assert!(
        bye.starts_with(&format!(
            "BYE sip:caller@127.0.0.1:{port};transport=tls SIP/2.0"
        )),
        "{bye}"
    );
    assert!(
        header(&bye, "Via").unwrap().starts_with("SIP/2.0/TLS "),
        "{bye}"
    );
}

#[tokio::test]
async fn plain_sip_to_the_tls_port_gets_nothing_and_half_a_tls_config_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, _) = start(dir.path()).await;
    let mut plain = TcpStream::connect(server.tls_addr.unwrap()).await.unwrap();
    let target = server.tls_addr.unwrap();
    plain
        .write_all(request("OPTIONS", 5060, target, "", "").as_bytes())
        .await
        .unwrap();
    let mut out = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), plain.read_to_end(&mut out)).await;
    assert!(read.is_ok(), "the listener closes the connection");
    assert!(
        !String::from_utf8_lossy(&out).contains("SIP/2.0"),
        "no SIP answer in the clear: {out:?}"
    );

    for partial in [
        "tls_listen = '127.0.0.1:0'\n",
        "tls_listen = '127.0.0.1:0'\ntls_cert_file = '/x.pem'\n",
        "tls_cert_file = '/x.pem'\ntls_key_file = '/y.pem'\n",
    ] {
        let text = format!("listen = '127.0.0.1:0'\n{partial}{TRUNK}");
        let raw: RawSip = toml::from_str(&text).unwrap();
        let err = raw.validate().unwrap_err().to_string();
        assert!(err.contains("sip.tls_listen"), "{partial}: {err}");
    }
    // files that hold no certificate: the listener does not start
    let (cert, key) = (dir.path().join("empty.pem"), dir.path().join("k.pem"));
    std::fs::write(&cert, "not a certificate").unwrap();
    std::fs::write(&key, "not a key").unwrap();
    let text = format!(
        "listen = '127.0.0.1:0'\ntls_listen = '127.0.0.1:0'\ntls_cert_file = '{}'\ntls_key_file = '{}'\n{TRUNK}",
        cert.display(),
        key.display()
    );
    let raw: RawSip = toml::from_str(&text).unwrap();
    let err = server::start(
        raw.validate().unwrap().unwrap(),
        Arc::new(SipMetrics::default()),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("sip.tls_cert_file"), "{err}");
}
