//! Issue 12, finding 1 and the ended-room part of finding 3, across a restart of the real
//! `hushpay` binary (SQLite store, `kill -9` in between): a room created with
//! `require_recording_consent` and reopened by a join after the restart records nothing until
//! consent (then it does: positive control); a room ended before the restart refuses the
//! tokens issued before its end and accepts one minted after it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::binary::Binary;
use hushpay::sfu::signal::ServerMessage;
use hushpay_bots::{Bot, BotConfig};
use serde_json::{Value, json};

/// `hushpay serve` in `dir`, recording, with a 200 ms empty-room grace; the URL and (first
/// start) the demo API key.
fn start(dir: &Path, run: usize) -> (Binary, Option<String>) {
    let gw = Binary::start(
        dir,
        run,
        &[
            ("HUSHPAY__RECORDING__ENABLED", "true"),
            ("HUSHPAY__RECORDING__CHUNK_MS", "400"),
            ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "200"),
        ],
    );
    let key = gw.api_key.clone();
    (gw, key)
}

struct Client {
    http: reqwest::Client,
    url: String,
    key: String,
}

impl Client {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = req.bearer_auth(&self.key).send().await.unwrap();
        let status = resp.status().as_u16();
        let body = resp.json().await.unwrap_or(Value::Null);
        (status, body)
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let req = self.http.post(format!("{}{path}", self.url)).json(&body);
        self.send(req).await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.url)))
            .await
    }

    async fn delete(&self, path: &str) -> u16 {
        self.send(self.http.delete(format!("{}{path}", self.url)))
            .await
            .0
    }

    async fn token(&self, identity: &str, room: &str, role: &str) -> String {
        let body = json!({"identity": identity, "room": room, "role": role});
        let (status, minted) = self.post("/v1/access-tokens", body).await;
        assert_eq!(status, 201);
        minted["token"].as_str().unwrap().to_owned()
    }

    async fn connect(&self, token: String) -> Result<Bot, hushpay_bots::BotError> {
        Bot::connect(BotConfig {
            url: format!("{}/v1/rtc", self.url.replace("http://", "ws://")),
            token,
            media_ip: [127, 0, 0, 1].into(),
            keep_payloads: true,
        })
        .await
    }

    async fn bot(&self, identity: &str, room: &str, role: &str) -> Bot {
        self.connect(self.token(identity, room, role).await)
            .await
            .unwrap()
    }

    async fn recordings(&self, room: &str) -> Vec<Value> {
        let (status, body) = self.get(&format!("/v1/recordings?room={room}")).await;
        assert_eq!(status, 200);
        body["recordings"].as_array().unwrap().clone()
    }
}

/// A 440 Hz tone, 48 kHz, `ms` long.
fn tone(ms: usize) -> Vec<i16> {
    (0..ms * 48)
        .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 48_000.0).sin() * 6000.0) as i16)
        .collect()
}

async fn next_recording(bot: &mut Bot) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, bot.events.recv()).await {
            Ok(Some(ServerMessage::Recording { recording })) => {
                return serde_json::to_value(recording).unwrap();
            }
            Ok(Some(_)) => continue,
            other => panic!("no recording state: {other:?}"),
        }
    }
}

/// Polls `cond` every 50 ms for up to `within`.
async fn until<F: std::future::Future<Output = bool>>(
    within: Duration,
    mut cond: impl FnMut() -> F,
) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if cond().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}

/// On main both rooms lived in the gateway's memory only: after the restart the consent room
/// reopened without its requirement and recorded the call, and the ended room's old tokens
/// recreated it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_consent_and_ends_survive_a_gateway_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (gw, key) = start(dir.path(), 0);
    let mut c = Client {
        http: reqwest::Client::new(),
        url: gw.url.clone(),
        key: key.expect("the demo tenant's key on first start"),
    };
    let consent_room = "consent-restart";
    let body = json!({"name": consent_room, "require_recording_consent": true});
    assert_eq!(c.post("/v1/rooms", body).await.0, 201);

    let ended_room = "ended-restart";
    let old_token = c.token("agent-1", ended_room, "agent").await;
    let agent = c.connect(old_token.clone()).await.unwrap();
    assert_eq!(c.delete(&format!("/v1/rooms/{ended_room}")).await, 204);
    agent.leave().await;

    drop(gw); // kill -9
    let (gw, _) = start(dir.path(), 1);
    c.url = gw.url.clone();

    // The consent room, reopened by a join: nothing recorded before consent.
    let mut agent = c.bot("agent-1", consent_room, "agent").await;
    let patient = c.bot("patient-1", consent_room, "patient").await;
    let state = next_recording(&mut agent).await;
    assert_eq!(
        (&state["paused"], &state["reasons"]),
        (&json!(true), &json!(["consent"]))
    );
    let (_, view) = c.get(&format!("/v1/rooms/{consent_room}")).await;
    assert_eq!(view["require_recording_consent"], true, "{view}");
    patient.play(&tone(1500), &[]).await.unwrap();
    assert!(
        until(Duration::from_secs(3), || async {
            agent.recording().len() > 48_000
        })
        .await,
        "the patient's audio went through the gateway (the recorder taps the same path)"
    );
    assert!(c.recordings(consent_room).await.is_empty(), "no recording");

    // Positive control: with consent, the same call is recorded.
    let path = format!("/v1/rooms/{consent_room}/recording-consent");
    assert_eq!(c.post(&path, json!({})).await.0, 200);
    patient.play(&tone(1000), &[]).await.unwrap();
    assert!(
        until(Duration::from_secs(5), || async {
            !c.recordings(consent_room).await.is_empty()
        })
        .await,
        "recorded after consent"
    );
    agent.leave().await;
    patient.leave().await;

    // The ended room: the old token is refused; one minted after the end opens a new call.
    let Err(refused) = c.connect(old_token).await else {
        panic!("a token issued before the end is refused after a restart");
    };
    assert!(refused.0.contains("room_ended"), "{refused}");
    let (status, view) = c.get(&format!("/v1/rooms/{ended_room}")).await;
    assert_eq!((status, &view["open"]), (200, &json!(false)));
    let ended_at = view["ended_at"].as_u64().expect("ended_at");
    assert!(
        until(Duration::from_secs(3), || async {
            hushpay_auth::unix_now() > ended_at
        })
        .await
    );
    let fresh = c.bot("agent-1", ended_room, "agent").await;
    fresh.leave().await;
}
