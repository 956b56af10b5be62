//! Issue 13 point 4 (reachable from real networks), the parts a loopback test can prove:
//! `joined` and `token_refreshed` carry TURN REST API credentials that a TURN server holding
//! the shared secret accepts (recomputed here), the credential and the secret never reach the
//! gateway's logs, with `rtc.public_ip` every host candidate the gateway signals carries the
//! public address, and a STUN server that never answers stops the start with a clear error.
//! The real NATs, coturn and Chromium are in tests/browser/netns-*.test.mjs.

use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha1::Sha1;

use crate::common::TestGateway;
use crate::common::binary::Binary;
use crate::harness::token;
use crate::signal_ws::*;

const SECRET: &str = "turn-shared-secret-0123456789-abcdef";
const URLS: &str = r#"["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"]"#;

/// `base64(HMAC-SHA1(secret, username))`, as coturn computes it for `use-auth-secret`.
fn coturn_password(username: &str) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Checks an `iceServers` list: the configured URLs, `<expiry>:<participant id>` with the
/// expiry `ttl` from now, and the password coturn would compute.
fn check_ice_servers(v: &Value, participant_id: &str, ttl: u64) -> String {
    let servers = v["iceServers"].as_array().expect("iceServers");
    assert_eq!(servers.len(), 1, "{v}");
    let s = &servers[0];
    let urls: Value = serde_json::from_str(URLS).unwrap();
    assert_eq!(s["urls"], urls);
    let username = s["username"].as_str().unwrap();
    let (expiry, who) = username.split_once(':').unwrap();
    assert_eq!(
        who, participant_id,
        "the participant id, never the identity"
    );
    let expiry: f64 = expiry.parse().unwrap();
    let expected = unix_now_f64() + ttl as f64;
    assert!(
        (expiry - expected).abs() < 3.0,
        "expiry {expiry}, expected about {expected}"
    );
    let credential = s["credential"].as_str().unwrap();
    assert_eq!(credential, coturn_password(username));
    credential.to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joined_and_token_refreshed_carry_turn_rest_credentials() {
    let gw = TestGateway::start_with_toml(
        &format!("[turn]\nurls = {URLS}\nshared_secret = \"{SECRET}\"\nttl_secs = 300\n"),
        &[],
    )
    .await;
    let (_t, key) = gw.tenant("clinic").await;
    let (tok, _) = mint(&gw, &key, "jane.doe@example.org", "r-1", "patient", 60).await;
    let mut ws = open(&gw, &tok).await.unwrap();
    send(&mut ws, json!({"type": "join", "v": 1})).await;
    let joined = next(&mut ws).await;
    assert_eq!(joined["type"], "joined", "{joined}");
    let me = joined["participant"]["participant_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let first = check_ice_servers(&joined, &me, 300);
    let username = joined["iceServers"][0]["username"].as_str().unwrap();
    assert!(
        !username.contains("jane.doe"),
        "the identity stays out of the TURN username"
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (fresh, exp) = mint(&gw, &key, "jane.doe@example.org", "r-1", "patient", 120).await;
    let refreshed = refresh(&mut ws, &fresh).await;
    assert_eq!(refreshed["type"], "token_refreshed", "{refreshed}");
    assert_eq!(refreshed["exp"], exp);
    let second = check_ice_servers(&refreshed, &me, 300);
    assert_ne!(first, second, "fresh credentials (a later expiry)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_turn_joined_has_no_ice_servers() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let (tok, _) = mint(&gw, &key, "p-1", "r-1", "patient", 60).await;
    let ws_joined = {
        let mut ws = open(&gw, &tok).await.unwrap();
        send(&mut ws, json!({"type": "join", "v": 1})).await;
        next(&mut ws).await
    };
    assert_eq!(ws_joined["type"], "joined");
    assert!(ws_joined.get("iceServers").is_none(), "{ws_joined}");
}

/// The binary at `trace` level: neither the shared secret nor a minted credential appears in
/// anything it writes, while the username (not a secret) does reach the client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_and_secret_never_reach_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("turn-secret");
    std::fs::write(&secret_file, format!("{SECRET}\n")).unwrap();
    let secret_path = secret_file.display().to_string();
    let mut gw = Binary::start(
        dir.path(),
        0,
        &[
            ("HUSHPAY_LOG", "trace"),
            ("HUSHPAY__STORE", "memory"),
            ("HUSHPAY__TURN__URLS", URLS),
            ("HUSHPAY__TURN__SHARED_SECRET_FILE", &secret_path),
        ],
    );
    let api_key = gw.api_key.clone().expect("demo key");
    let client = reqwest::Client::new();
    let mut credentials = Vec::new();
    for (i, identity) in ["p-1", "a-1"].into_iter().enumerate() {
        let role = if i == 0 { "patient" } else { "agent" };
        let v: Value = client
            .post(format!("{}/v1/access-tokens", gw.url))
            .bearer_auth(&api_key)
            .json(&json!({"identity": identity, "room": "r-logs", "role": role}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let tok = v["token"].as_str().unwrap();
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("{}?access_token={tok}", gw.rtc_url()))
                .await
                .unwrap();
        send(&mut ws, json!({"type": "join", "v": 1})).await;
        let joined = next(&mut ws).await;
        let me = joined["participant"]["participant_id"].as_str().unwrap();
        credentials.push(check_ice_servers(&joined, me, 600));
        send(&mut ws, json!({"type": "refresh", "token": tok})).await;
        let refreshed = next_unwarned(&mut ws).await;
        credentials.push(check_ice_servers(&refreshed, me, 600));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _ = gw.child.kill();
    let _ = gw.child.wait();
    let mut logs = String::new();
    for f in ["stdout-0.log", "stderr-0.log"] {
        logs.push_str(&std::fs::read_to_string(dir.path().join(f)).unwrap());
    }
    assert!(
        logs.contains("TRACE") || logs.contains("trace"),
        "control: the log ran at trace level"
    );
    assert!(
        logs.contains("r-logs") || logs.contains("/v1/rtc"),
        "control: the sessions were logged"
    );
    assert!(!logs.contains(SECRET), "the TURN secret is in the logs");
    for c in &credentials {
        if let Some(at) = logs.find(c.as_str()) {
            let line_start = logs[..at].rfind('\n').map_or(0, |i| i + 1);
            let line_end = logs[at..].find('\n').map_or(logs.len(), |i| at + i);
            panic!(
                "a TURN credential is in the logs: {}",
                &logs[line_start..line_end]
            );
        }
        let escaped = c.replace('/', "\\/").replace('+', "\\u002b");
        assert!(
            !logs.contains(&escaped),
            "a TURN credential (escaped) is in the logs"
        );
    }
}

/// A webrtc-rs peer connection's offer (audio and the chat channel), as a client sends it.
async fn client_offer() -> (
    std::sync::Arc<dyn webrtc::peer_connection::PeerConnection>,
    String,
) {
    struct Quiet;
    #[async_trait::async_trait]
    impl webrtc::peer_connection::PeerConnectionEventHandler for Quiet {}
    let pc = hushpay_bots::peer::build("127.0.0.1:0".parse().unwrap(), std::sync::Arc::new(Quiet))
        .await
        .unwrap();
    pc.add_transceiver_from_kind(rtc::rtp_transceiver::rtp_sender::RtpCodecKind::Audio, None)
        .await
        .unwrap();
    pc.create_data_channel("chat", None).await.unwrap();
    let offer = pc.create_offer(None).await.unwrap();
    let sdp = offer.sdp.clone();
    pc.set_local_description(offer).await.unwrap();
    (pc, sdp)
}

/// `rtc.public_ip` replaces the bind address in every host candidate the gateway signals and
/// in its answer (the bind address is 127.0.0.1, the public one 127.0.0.2: nothing leaves
/// the machine). The end-to-end proof through a real 1:1 NAT is
/// tests/browser/netns-public-ip.test.mjs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_candidates_advertise_the_public_ip() {
    let gw = TestGateway::start(&[("HUSHPAY__RTC__PUBLIC_IP", "127.0.0.2")]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let tok = token(&gw, &key, "p-1", "r-pub", "patient").await;
    let mut ws = joined(&gw, &tok).await;
    let (_pc, offer) = client_offer().await;
    send(&mut ws, json!({"type": "offer", "sdp": offer})).await;
    let mut answer = None;
    let mut candidates = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(Some(Ok(msg))) =
        tokio::time::timeout_at(deadline, futures_util::StreamExt::next(&mut ws)).await
    {
        let tokio_tungstenite::tungstenite::Message::Text(t) = msg else {
            continue;
        };
        let v: Value = serde_json::from_str(&t).unwrap();
        match v["type"].as_str() {
            Some("answer") => answer = Some(v["sdp"].as_str().unwrap().to_owned()),
            Some("candidate") => candidates.push(v["candidate"].as_str().unwrap().to_owned()),
            _ => {}
        }
    }
    let answer = answer.expect("an answer");
    // The engine puts its candidates in the answer (and may trickle more).
    candidates.extend(
        answer
            .lines()
            .filter_map(|l| l.strip_prefix("a="))
            .filter(|l| l.starts_with("candidate:"))
            .map(str::to_owned),
    );
    assert!(!candidates.is_empty(), "the gateway signalled candidates");
    for line in &candidates {
        assert!(
            line.contains(" 127.0.0.2 ") && line.contains("typ host"),
            "{line}"
        );
        assert!(
            !line.contains("127.0.0.1"),
            "the bind address is not advertised: {line}"
        );
    }
    for line in answer
        .lines()
        .filter(|l| l.starts_with("a=candidate:") || l.starts_with("c="))
    {
        assert!(!line.contains("127.0.0.1"), "{line}");
    }
}

/// `rtc.stun_server` that never answers: `serve` stops at start-up with a message that names
/// the setting and the way out, instead of advertising an address nobody can reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_stun_server_stops_the_start_with_a_clear_error() {
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hushpay"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir.path())
        .env("HUSHPAY_LOG", "warn")
        .env("HUSHPAY__STORE", "memory")
        .env(
            "HUSHPAY__RTC__STUN_SERVER",
            silent.local_addr().unwrap().to_string(),
        )
        .env("HUSHPAY__RTC__STUN_TIMEOUT_MS", "400")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the start fails");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "within the timeout"
    );
    assert!(
        stderr.contains("rtc.stun_server: cannot discover the public address")
            && stderr.contains("no answer from STUN server")
            && stderr.contains("set rtc.public_ip"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("listening on"));
}
