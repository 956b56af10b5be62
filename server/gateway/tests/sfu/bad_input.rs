//! Hostile and broken clients: clear errors with stable codes, no panic, and every room and
//! task released afterwards.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hushpay_auth::{MintRequest, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::common::TestGateway;
use crate::harness::*;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(gw: &TestGateway, token: Option<&str>) -> Result<Ws, u16> {
    let url = match token {
        Some(t) => format!("{}?access_token={t}", ws_url(gw)),
        None => ws_url(gw),
    };
    match tokio_tungstenite::connect_async(url).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("unexpected connect error {e}"),
    }
}

async fn send(ws: &mut Ws, text: String) {
    ws.send(Message::Text(text.into())).await.unwrap();
}

/// The next JSON frame (skipping candidates and peer events).
async fn next(ws: &mut Ws) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s")
            .expect("socket open")
            .expect("frame ok");
        match msg {
            Message::Text(t) => {
                let v: serde_json::Value = serde_json::from_str(&t).unwrap();
                if v["type"] != "candidate" && v["type"] != "participant_joined" {
                    return v;
                }
            }
            Message::Close(frame) => {
                return serde_json::json!({"type":"closed","code": frame.map(|f| u16::from(f.code))});
            }
            _ => {}
        }
    }
}

async fn expect_error(ws: &mut Ws, code: &str) {
    let v = next(ws).await;
    assert_eq!(v["type"], "error", "{v}");
    assert_eq!(
        v["error"].as_str().or(v["code"].as_str()),
        Some(code),
        "{v}"
    );
    assert!(!v["message"].as_str().unwrap_or_default().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_before_or_at_the_first_frame() {
    let gw = gateway().await;
    let (tenant, key) = gw.tenant("clinic").await;
    assert_eq!(open(&gw, Some("not-a-jwt")).await.err(), Some(401));
    let expired = gw
        .state
        .tokens
        .signer
        .mint(
            MintRequest {
                tenant: tenant.id.as_str().to_owned(),
                identity: "p".into(),
                room: "r".into(),
                role: Role::Patient,
                grants: None,
                ttl: Some(Duration::from_secs(60)),
                api_key_id: None,
            },
            hushpay_auth::unix_now() - 3600,
        )
        .unwrap();
    assert_eq!(open(&gw, Some(&expired.token)).await.err(), Some(401));
    // An API key is not a participant token.
    assert_eq!(open(&gw, Some(&key)).await.err(), Some(401));

    // Token as the first frame: a bad one gets an error frame and close code 4401.
    let mut ws = open(&gw, None).await.unwrap();
    send(&mut ws, r#"{"type":"auth","token":"bad"}"#.into()).await;
    let v = next(&mut ws).await;
    assert_eq!(v["type"], "error");
    let v = next(&mut ws).await;
    assert_eq!(v["code"], 4401, "{v}");
    let mut ws = open(&gw, None).await.unwrap();
    send(&mut ws, r#"{"type":"join"}"#.into()).await;
    expect_error(&mut ws, "missing_token").await;

    // A good first-frame token works.
    let good = token(&gw, &key, "p-1", "r-1", "patient").await;
    let mut ws = open(&gw, None).await.unwrap();
    send(
        &mut ws,
        serde_json::json!({"type":"auth","token":good}).to_string(),
    )
    .await;
    send(&mut ws, r#"{"type":"join","v":1}"#.into()).await;
    let v = next(&mut ws).await;
    assert_eq!(v["type"], "joined", "{v}");
    assert_eq!(v["participant"]["role"], "patient");
    drop(ws);
    assert_released(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_frames_get_stable_errors_and_the_session_survives() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let t = token(&gw, &key, "p-1", "r-1", "patient").await;
    let mut ws = open(&gw, Some(&t)).await.unwrap();

    send(&mut ws, r#"{"type":"offer","sdp":"v=0"}"#.into()).await;
    expect_error(&mut ws, "not_joined").await;
    send(&mut ws, r#"{"type":"join","v":7}"#.into()).await;
    expect_error(&mut ws, "unsupported_version").await;

    let mut ws = open(&gw, Some(&t)).await.unwrap();
    send(&mut ws, r#"{"type":"join"}"#.into()).await;
    assert_eq!(next(&mut ws).await["type"], "joined");
    for (frame, code) in [
        ("{not json".to_owned(), "bad_message"),
        (r#"{"type":"dance"}"#.to_owned(), "unknown_type"),
        (r#"{"type":"payment_request","amount":1}"#.to_owned(), "not_implemented"),
        (r#"{"type":"mute","muted":"yes"}"#.to_owned(), "bad_message"),
        (r#"{"type":"offer","sdp":"garbage"}"#.to_owned(), "invalid_sdp"),
        (
            "{\"type\":\"offer\",\"sdp\":\"v=0\\r\\nm=audio 9 UDP/TLS/RTP/SAVPF 111\\r\\na=rtpmap:111 opus/48000/2\\r\\n\"}".to_owned(),
            "invalid_sdp",
        ),
        (r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}"#.to_owned(), "not_joined"),
        (format!(r#"{{"type":"ping","pad":"{}"}}"#, "x".repeat(70_000)), "message_too_large"),
        (r#"{"type":"join"}"#.to_owned(), "already_joined"),
    ] {
        send(&mut ws, frame).await;
        expect_error(&mut ws, code).await;
    }
    ws.send(Message::Binary(vec![1, 2, 3].into()))
        .await
        .unwrap();
    expect_error(&mut ws, "bad_message").await;
    send(&mut ws, r#"{"type":"ping","nonce":7}"#.into()).await;
    let v = next(&mut ws).await;
    assert_eq!(v, serde_json::json!({"type":"pong","nonce":7}));

    // Flooding is rate limited.
    for _ in 0..60 {
        send(&mut ws, r#"{"type":"ping"}"#.into()).await;
    }
    let mut limited = false;
    for _ in 0..60 {
        let v = next(&mut ws).await;
        if v["type"] == "error" && v["code"] == "rate_limited" {
            limited = true;
            break;
        }
    }
    assert!(limited, "a flood is rate limited");

    // A second patient in the room is refused.
    let t2 = token(&gw, &key, "p-2", "r-1", "patient").await;
    let mut ws2 = open(&gw, Some(&t2)).await.unwrap();
    send(&mut ws2, r#"{"type":"join"}"#.into()).await;
    expect_error(&mut ws2, "role_taken").await;

    let _ = ws
        .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        }))
        .await;
    drop(ws2);
    assert_released(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn abrupt_disconnects_release_everything() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let mut agent = bot(&gw, token(&gw, &key, "a-1", "r-9", "agent").await).await;
    let patient = bot(&gw, token(&gw, &key, "p-1", "r-9", "patient").await).await;
    let up = patient.uplink();
    let audio = tone('5', 60.0);
    let play = tokio::spawn(async move { up.play(&audio.repeat(20), &[]).await });
    // The patient vanishes mid-call: no leave, no close handshake.
    patient.vanish().await;
    let _ = play.await;
    let left = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match agent.events.recv().await {
                Some(hushpay::sfu::signal::ServerMessage::ParticipantLeft { .. }) | None => {
                    return true;
                }
                Some(_) => continue,
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(left, "the agent is told the patient left");
    agent.vanish().await;
    assert_released(&gw).await;
}
