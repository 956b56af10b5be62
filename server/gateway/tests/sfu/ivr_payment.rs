//! Automated IVR payments in a real room over WebRTC on loopback: the agent asks for an `ivr`
//! payment, a patient bot follows the prompts by ear (their timing, from the energy of what
//! it receives) and keys a sandbox test card; the documented result ends each path (success,
//! invalid card, no input, hang-up), the agent's leg carries the hold prompt and not one digit
//! or prompt, the agent and the webhook get the result, and the call is handed back.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay::ivr::config::IvrConfig;
use hushpay::sfu::room::Room;
use hushpay_bots::Bot;
use hushpay_media::opus_codec::{Decoder, SILENCE_20MS};
use hushpay_prompts::language::Language;
use hushpay_prompts::prompt::PromptSet;
use hushpay_prompts::speech;
use serde_json::{Value, json};

use crate::common::TestGateway;
use crate::common::receiver::Receiver;
use crate::harness::*;
use crate::ivr_audio::{assert_continuous, packets, room_of};
use crate::ivr_phone::{Ears, Keying, Phone};

/// Prompts are measured from the first to the last loud frame: a few quiet frames at either
/// end of a clip do not count, and the decoder's overlap rings into the next frame.
const SLACK_FRAMES: usize = 8;
const RING_FRAMES: usize = 2;

fn matches(heard: usize, want: usize) -> bool {
    heard <= want + RING_FRAMES && heard + SLACK_FRAMES >= want
}

pub(crate) struct Call {
    pub(crate) gw: TestGateway,
    pub(crate) key: String,
    agent_token: String,
    pub(crate) agent: Bot,
    pub(crate) patient: Bot,
    pub(crate) phone: Phone,
    ears: Ears,
    pub(crate) room: Arc<Room>,
    /// The prompts the patient is expected to hear (English unless a test changes it).
    pub(crate) prompts: Arc<PromptSet>,
}

pub(crate) async fn call(overrides: &[(&str, &str)]) -> Call {
    let mut all = vec![("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150")];
    all.extend_from_slice(overrides);
    let gw = TestGateway::start(&all).await;
    let (t, key) = gw.tenant("clinic").await;
    let agent_token = token(&gw, &key, "agent-7", "call-ivr", "agent").await;
    let agent = bot(&gw, agent_token.clone()).await;
    let patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "call-ivr", "patient").await,
    )
    .await;
    let phone = Phone::new(&patient);
    let room = room_of(&gw, t.id.as_str(), "call-ivr");
    Call {
        gw,
        key,
        agent_token,
        agent,
        patient,
        phone,
        ears: Ears::new(),
        room,
        prompts: IvrConfig::default()
            .load_language(Language::English)
            .unwrap(),
    }
}

impl Call {
    pub(crate) fn frames(&self, names: &[&str]) -> usize {
        names
            .iter()
            .map(|n| self.prompts.clip(n).unwrap().frames())
            .sum()
    }

    /// Waits for the next prompt and checks it lasts as long as `names` played back to back.
    pub(crate) async fn hears(&mut self, names: &[&str]) -> Instant {
        let want = self.frames(names);
        let heard = self
            .ears
            .next_prompt(&self.patient, Duration::from_secs(20))
            .await
            .unwrap_or_else(|| panic!("the patient heard {names:?}"));
        assert!(
            matches(heard.frames, want),
            "{names:?}: heard {} frames, the prompts have {want}",
            heard.frames
        );
        heard.ended
    }

    pub(crate) async fn create(&self, credential: &str, extra: Value) -> Value {
        let mut body = json!({"amount": 4250, "currency": "USD", "reference": "visit-9",
                              "mode": "charge", "method": "ivr"});
        for (k, v) in extra.as_object().unwrap() {
            body[k] = v.clone();
        }
        create_payment(&self.gw, credential, body).await
    }

    pub(crate) async fn payment(&self, id: &str) -> Value {
        let v: Value = self
            .gw
            .client
            .get(self.gw.url(&format!("/v1/payments/{id}")))
            .bearer_auth(&self.key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["payment"].clone()
    }

    /// Waits for the payment to end and the call to be handed back.
    pub(crate) async fn ends(&self, id: &str, state: &str, result: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let p = self.payment(id).await;
            if p["state"] == state && !self.room.ivr.is_active() {
                assert_eq!(p["result"], result, "{p}");
                return p;
            }
            assert!(Instant::now() < deadline, "the payment ends {state}: {p}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Hangs up, leaves, checks everything was released; the gateway, still serving.
    pub(crate) async fn finish(self) -> TestGateway {
        let Call {
            gw,
            agent,
            patient,
            phone,
            ..
        } = self;
        phone.hang_up().await;
        agent.leave().await;
        patient.leave().await;
        assert_released(&gw).await;
        gw
    }
}

/// The `payment` messages the agent got so far.
pub(crate) fn payment_messages(agent: &mut Bot) -> Vec<Value> {
    let mut out = Vec::new();
    while let Ok(m) = agent.events.try_recv() {
        if let hushpay::sfu::signal::ServerMessage::Payment { payment } = m {
            out.push(serde_json::to_value(&payment).unwrap());
        }
    }
    out
}

/// The messages without the values the gateway makes up (ids, tokens, authorization codes,
/// timestamps): random digits there can spell anything, so the search for what the patient
/// keyed looks only at the rest.
pub(crate) fn keyed_facts(messages: &[Value]) -> Vec<Value> {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.retain(|k, _| {
                    !matches!(k.as_str(), "id" | "token" | "authorization_code")
                        && !k.ends_with("_at")
                });
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut out = messages.to_vec();
    out.iter_mut().for_each(strip);
    out
}

/// Decodes packets in order at 48 kHz.
fn decode(payloads: &[&Vec<u8>]) -> Vec<i16> {
    let mut dec = Decoder::new(48_000).unwrap();
    let mut out = Vec::new();
    for p in payloads {
        dec.decode_into(p, &mut out).unwrap();
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_pays_by_keypad_while_the_agent_holds_then_is_handed_back() {
    let mut c = call(&[
        ("HUSHPAY__IVR__ENTRY_TIMEOUT_SECS", "8"),
        ("HUSHPAY__RECORDING__ENABLED", "true"),
        ("HUSHPAY__RECORDING__CHUNK_MS", "500"),
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let (out, secret_file) = (dir.path().join("events.jsonl"), dir.path().join("secret"));
    let receiver = Receiver::start(&out, &secret_file, 0);
    let resp =
        c.gw.client
            .post(c.gw.url("/v1/webhooks"))
            .bearer_auth(&c.key)
            .json(&json!({"url": receiver.url()}))
            .send()
            .await
            .unwrap();
    assert_eq!(resp.status(), 201);
    let hook: Value = resp.json().await.unwrap();
    std::fs::write(&secret_file, hook["secret"].as_str().unwrap()).unwrap();

    // The agent asks for the payment with its own token (its room).
    let agent_token = c.agent_token.clone();
    let payment = c.create(&agent_token, json!({})).await;
    // The IVR runs once the payment is created (asserted below).
    let began = Instant::now();
    let id = payment["id"].as_str().unwrap().to_owned();
    let room = Arc::clone(&c.room);
    let hand_back = tokio::spawn(async move {
        while room.ivr.is_active() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Instant::now()
    });
    assert_eq!(payment["method"], "ivr");
    assert_eq!(payment["room"], "call-ivr");
    assert!(
        c.room.ivr.is_active(),
        "the IVR runs as soon as it is created"
    );

    // Card number in-band (so the agent's leg could carry tones), the rest as RFC 4733.
    let pan = "4242424242424242";
    c.hears(&["ask-card-number"]).await;
    c.phone.press(&format!("{pan}#"), Keying::InBand).await;
    c.hears(&["ask-expiration-date"]).await;
    c.phone.press("1230", Keying::Rfc4733).await;
    c.hears(&["ask-security-code"]).await;
    c.phone.press("123#", Keying::Rfc4733).await;
    let mut confirm = vec!["confirm-paying"];
    confirm.extend(speech::amount(4250, "USD"));
    confirm.push("confirm-card-ending");
    confirm.extend(speech::digits("4242"));
    confirm.push("confirm-press");
    c.hears(&confirm).await;
    c.phone.press("1", Keying::Rfc4733).await;
    let keyed = Instant::now();
    let done = c.ends(&id, "succeeded", "success").await;
    let handed_back = hand_back.await.unwrap();
    assert_eq!(done["card"]["last4"], "4242");
    assert_eq!(done["card"]["brand"], "visa");

    // Back with the agent: each hears the other again.
    let agent_up = c.agent.uplink();
    let patient_voice = speech("thank you, that went through");
    let agent_voice = speech("thanks, anything else today");
    tokio::join!(c.phone.send(&patient_voice), async {
        agent_up.play(&agent_voice, &[]).await.unwrap();
    });
    drained(&c.agent).await;

    // The agent's leg: the hold prompt only while the IVR ran, then the patient.
    let hold = c.prompts.clip("hold").unwrap();
    let hold_set: HashSet<&[u8]> = hold.packets().iter().map(Vec::as_slice).collect();
    let to_agent = packets(&c.agent);
    assert_continuous("agent downlink", &to_agent);
    let margin = Duration::from_millis(150);
    let during: Vec<&Vec<u8>> = to_agent
        .iter()
        .filter(|p| p.2 > began + margin && p.2 + margin < handed_back)
        .map(|p| &p.3)
        .collect();
    assert!(during.len() > 200, "{} packets while on hold", during.len());
    let other = during
        .iter()
        .filter(|p| !hold_set.contains(p.as_slice()) && p.as_slice() != SILENCE_20MS)
        .count();
    assert!(
        other == 0,
        "the agent heard the hold prompt and nothing else ({other} other packets): no prompt, no patient audio"
    );
    assert!(
        during
            .iter()
            .all(|p| hold_set.contains(p.as_slice()) || p.as_slice() == SILENCE_20MS),
        "the agent heard the hold prompt and nothing else: no prompt, no patient audio"
    );
    let after: Vec<&Vec<u8>> = to_agent
        .iter()
        .filter(|p| p.2 > handed_back + margin)
        .map(|p| &p.3)
        .collect();
    assert!(
        after
            .iter()
            .filter(|p| !hold_set.contains(p.as_slice()))
            .count()
            > 50,
        "the agent hears the patient after the hand-back"
    );
    let agent_heard = c.agent.recording();
    let sent = c.phone.sent.lock().unwrap().clone();
    assert!(
        multimon(&sent).contains(pan),
        "control: multimon-ng hears the card number in what the patient sent"
    );
    assert_eq!(
        multimon(&agent_heard),
        "",
        "multimon-ng recovers no digit from the agent's leg"
    );
    let held_pcm = decode(&during);
    let loops = during.len() / hold.frames() + 1;
    let control: Vec<&Vec<u8>> = hold
        .packets()
        .iter()
        .cycle()
        .take(loops * hold.frames())
        .collect();
    assert!(
        sensitive_hits(&held_pcm) <= sensitive_hits(&decode(&control)),
        "the sensitive detector finds no more on the agent's leg than in the hold prompt"
    );

    // The patient's leg: one stream from the first prompt to the agent's voice after.
    drained(&c.patient).await;
    assert_continuous("patient downlink", &packets(&c.patient));
    assert!(
        rms(&c.patient.recording()) > 0.0,
        "the patient hears the agent after the hand-back"
    );

    // The agent followed it through masked `payment` messages; no digit beyond the last 4.
    let messages = payment_messages(&mut c.agent);
    let text = serde_json::to_string(&keyed_facts(&messages)).unwrap();
    assert!(!text.contains(pan) && !text.contains("1230"), "{text}");
    let last = messages.last().expect("payment messages");
    assert_eq!(last["state"], "succeeded");
    assert!(
        messages.iter().any(|m| m["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "payment-card-number" && f["length"] == 16)),
        "masked progress: the card number's length"
    );
    assert_eq!(c.room.digits_keyed(), 0, "no digit left the collector");

    // The webhook.
    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = std::fs::read_to_string(&out).unwrap_or_default();
        if events.contains("payment.succeeded") || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let succeeded: Vec<Value> = events
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|e| e.to_string().contains("payment.succeeded"))
        .collect();
    assert!(
        succeeded.iter().any(|e| e.to_string().contains(&id)),
        "payment.succeeded for {id} reached the webhook: {events}"
    );
    assert!(!events.contains(pan));
    drop(receiver);

    // The call's recording paused while the payment was open: every key the patient pressed
    // fell in the window (it reopens when the payment ends, before the IVR says the result).
    let keying_ms = keyed.duration_since(began).as_millis() as u64;
    let key = c.key.clone();
    let gw = c.finish().await;
    let recs = crate::recording::finished_recordings(&gw, &key, "call-ivr").await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    let pauses = recs[0]["pauses"].as_array().unwrap();
    assert_eq!(pauses.len(), 1, "{pauses:?}");
    assert_eq!(pauses[0]["reason"], format!("payment:{id}"));
    let from = pauses[0]["from_ms"].as_u64().unwrap();
    let to = pauses[0]["to_ms"].as_u64().expect("the window closed");
    assert!(
        to - from + 300 >= keying_ms,
        "the pause {from}..{to} spans the keying ({keying_ms} ms from the payment's creation)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invalid_card_is_asked_again_then_fails_after_the_last_attempt() {
    // Without hold audio the agent hears silence.
    let mut c = call(&[("HUSHPAY__IVR__HOLD_AUDIO", "false")]).await;
    let key = c.key.clone();
    let payment = c
        .create(&key, json!({"room": "call-ivr", "attempts": 2}))
        .await;
    let began = Instant::now();
    let room = Arc::clone(&c.room);
    let hand_back = tokio::spawn(async move {
        while room.ivr.is_active() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Instant::now()
    });
    let id = payment["id"].as_str().unwrap().to_owned();
    c.hears(&["ask-card-number"]).await;
    c.phone.press("4242424242424241#", Keying::Rfc4733).await;
    c.hears(&["invalid-card-number", "try-again", "ask-card-number"])
        .await;
    c.phone.press("4242424242424241#", Keying::Rfc4733).await;
    c.hears(&["too-many-attempts", "payment-failed", "handing-back"])
        .await;
    let p = c.ends(&id, "failed", "too-many-failed-attempts").await;
    assert_eq!(p["error"], "invalid-card-number");
    let handed_back = hand_back.await.unwrap();
    let margin = Duration::from_millis(150);
    let during: Vec<Vec<u8>> = packets(&c.agent)
        .into_iter()
        .filter(|p| p.2 > began + margin && p.2 + margin < handed_back)
        .map(|p| p.3)
        .collect();
    assert!(during.len() > 200, "{} packets while on hold", during.len());
    assert!(
        during.iter().all(|p| p.as_slice() == SILENCE_20MS),
        "the agent hears silence while the IVR runs"
    );
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_entry_within_the_timeout_ends_input_timeout() {
    let mut c = call(&[("HUSHPAY__IVR__ENTRY_TIMEOUT_SECS", "2")]).await;
    let key = c.key.clone();
    let payment = c
        .create(&key, json!({"room": "call-ivr", "attempts": 1}))
        .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let asked = c.hears(&["ask-card-number"]).await;
    let told = c
        .ears
        .next_prompt(&c.patient, Duration::from_secs(10))
        .await
        .expect("the patient is told");
    let want = c.frames(&["no-input", "payment-failed", "handing-back"]);
    assert!(matches(told.frames, want), "{} vs {want}", told.frames);
    // The next prompt began the entry timeout after the first one ended.
    let started = told.ended - Duration::from_millis(told.frames as u64 * 20);
    let waited = started.duration_since(asked);
    assert!(
        waited >= Duration::from_millis(1900) && waited < Duration::from_millis(3500),
        "the IVR waited {waited:?} for an entry"
    );
    c.ends(&id, "failed", "input-timeout").await;
    c.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_patient_hanging_up_ends_caller_hung_up_and_the_agent_is_back() {
    let mut c = call(&[]).await;
    let key = c.key.clone();
    let payment = c.create(&key, json!({"room": "call-ivr"})).await;
    let id = payment["id"].as_str().unwrap().to_owned();
    c.hears(&["ask-card-number"]).await;
    c.phone.press("4242", Keying::Rfc4733).await;
    let Call {
        gw,
        agent,
        patient,
        phone,
        room,
        ..
    } = c;
    phone.hang_up().await;
    patient.vanish().await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let p: Value = gw
            .client
            .get(gw.url(&format!("/v1/payments/{id}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if p["payment"]["state"] == "failed" && !room.ivr.is_active() {
            assert_eq!(p["payment"]["result"], "caller-hung-up");
            break;
        }
        assert!(Instant::now() < deadline, "caller-hung-up: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(gw.state.payments.keypad_held(), 0, "nothing held");
    agent.leave().await;
    assert_released(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ivr_needs_the_patient_and_a_free_room() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let agent = bot(&gw, token(&gw, &key, "agent-7", "call-9", "agent").await).await;
    let body = json!({"amount": 100, "currency": "USD", "reference": "r", "mode": "charge",
                      "method": "ivr", "room": "call-9"});
    let post = |body: Value| {
        gw.client
            .post(gw.url("/v1/payments"))
            .bearer_auth(&key)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string())
            .json(&body)
            .send()
    };
    crate::common::assert_error(
        post(body.clone()).await.unwrap(),
        409,
        "patient_not_in_room",
    )
    .await;
    let patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "call-9", "patient").await,
    )
    .await;
    let idempotency_key = uuid::Uuid::new_v4().to_string();
    let post_once = || {
        gw.client
            .post(gw.url("/v1/payments"))
            .bearer_auth(&key)
            .header("idempotency-key", &idempotency_key)
            .json(&body)
            .send()
    };
    let first = post_once().await.unwrap();
    assert_eq!(first.status(), 201);
    crate::common::assert_error(post(body.clone()).await.unwrap(), 409, "room_busy").await;
    // A retry of the same request is its replay, not a busy room.
    let again = post_once().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    // Cancelling the payment ends the IVR at once (the patient is still there).
    let first: Value = first.json().await.unwrap();
    let id = first["payment"]["id"].as_str().unwrap();
    let (status, _) = payment_command(&gw, &key, id, "cancel", None).await;
    assert_eq!(status, 200);
    let room = gw.state.sfu.rooms.all().pop().unwrap();
    assert!(
        eventually(Duration::from_secs(3), || !room.ivr.is_active()).await,
        "the IVR stopped when its payment was cancelled"
    );
    patient.leave().await;
    agent.leave().await;
    assert_released(&gw).await;
}
