//! A raw signalling client for the credential tests: open `GET /v1/rtc`, send frames, read
//! the next frame of interest (or the close frame), mint tokens with a lifetime.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::common::TestGateway;
use crate::harness::ws_url;

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the signalling socket with `?access_token=`; `Err(status)` when the upgrade is refused.
pub async fn open(gw: &TestGateway, token: &str) -> Result<Ws, u16> {
    match tokio_tungstenite::connect_async(format!("{}?access_token={token}", ws_url(gw))).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("unexpected connect error {e}"),
    }
}

/// Opens the socket with no token in the URL (the token comes as the first frame).
pub async fn open_bare(gw: &TestGateway) -> Ws {
    tokio_tungstenite::connect_async(ws_url(gw))
        .await
        .unwrap()
        .0
}

pub async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::Text(frame.to_string().into()))
        .await
        .unwrap();
}

/// The next frame within `within`, skipping candidates and participant events; a close frame
/// reads `{"type":"closed","code":N}`, an ended stream `{"type":"ended"}`.
pub async fn next_within(ws: &mut Ws, within: Duration) -> Value {
    loop {
        let msg = tokio::time::timeout(within, ws.next())
            .await
            .expect("a frame in time");
        let Some(Ok(msg)) = msg else {
            return json!({"type": "ended"});
        };
        match msg {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).unwrap();
                let skip = ["candidate", "participant_joined", "participant_left"];
                if !skip.contains(&v["type"].as_str().unwrap_or_default()) {
                    return v;
                }
            }
            Message::Close(frame) => {
                return json!({"type": "closed", "code": frame.map(|f| u16::from(f.code))});
            }
            _ => {}
        }
    }
}

pub async fn next(ws: &mut Ws) -> Value {
    next_within(ws, Duration::from_secs(5)).await
}

/// Opens with `token`, joins, and checks `joined`.
pub async fn joined(gw: &TestGateway, token: &str) -> Ws {
    let mut ws = open(gw, token).await.expect("upgrade accepted");
    send(&mut ws, json!({"type": "join", "v": 1})).await;
    let v = next(&mut ws).await;
    assert_eq!(v["type"], "joined", "{v}");
    ws
}

/// The next frame that is not a `token_expiring` warning.
pub async fn next_unwarned(ws: &mut Ws) -> Value {
    loop {
        let v = next(ws).await;
        if v["type"] != "token_expiring" {
            return v;
        }
    }
}

/// `ping` answered by `pong`: the session is alive.
pub async fn alive(ws: &mut Ws, nonce: u64) {
    send(ws, json!({"type": "ping", "nonce": nonce})).await;
    let v = next_unwarned(ws).await;
    assert_eq!(v, json!({"type": "pong", "nonce": nonce}));
}

/// Sends `refresh` with `token`; the answer.
pub async fn refresh(ws: &mut Ws, token: &str) -> Value {
    send(ws, json!({"type": "refresh", "token": token})).await;
    next_unwarned(ws).await
}

/// A token minted over HTTP with `api_key`, and its `expires_at`.
pub async fn mint(
    gw: &TestGateway,
    api_key: &str,
    identity: &str,
    room: &str,
    role: &str,
    ttl_secs: u64,
) -> (String, u64) {
    let body = json!({"identity": identity, "room": room, "role": role, "ttl_secs": ttl_secs});
    let resp = gw.mint(api_key, body).await;
    assert_eq!(resp.status(), 201, "mint");
    let v: Value = resp.json().await.unwrap();
    (
        v["token"].as_str().unwrap().to_owned(),
        v["expires_at"].as_u64().unwrap(),
    )
}

/// Wall-clock unix time in (fractional) seconds.
pub fn unix_now_f64() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}
