//! Call recording end to end over real WebRTC on loopback: a patient and an agent bot talk, a
//! keypad payment opens and is cancelled in the middle, the room closes, and the recording is
//! exported through the HTTP API. The export has speech before and after the payment, not
//! one sample inside the payment window (no packet was even written there), and neither
//! multimon-ng nor the sensitive detector finds a digit in it. Manual pauses, consent and the
//! API's refusals are covered too.

use std::time::Duration;

use hushpay::recording::export;
use hushpay::sfu::signal::ServerMessage;
use hushpay_media::resample::resample;
use serde_json::{Value, json};

use crate::common::{TestGateway, assert_error};
use crate::harness::*;

pub async fn recording_gateway() -> TestGateway {
    recording_gateway_with_grace("150").await
}

/// `grace_ms`: how long an empty room stays open (a room the backend creates is empty until
/// the bots joined).
pub async fn recording_gateway_with_grace(grace_ms: &str) -> TestGateway {
    TestGateway::start(&[
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", grace_ms),
        ("HUSHPAY__RECORDING__ENABLED", "true"),
        ("HUSHPAY__RECORDING__CHUNK_MS", "500"),
    ])
    .await
}

/// The next `recording` state message within `within` (other frames skipped).
async fn next_recording(bot: &mut hushpay_bots::Bot, within: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, bot.events.recv()).await {
            Ok(Some(ServerMessage::Recording { recording })) => {
                return Some(serde_json::to_value(recording).unwrap());
            }
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

/// Waits for the room's recording to be finished (metadata `ended_ms` set, all tracks
/// sealed); returns the listed recordings of `room`.
pub async fn finished_recordings(gw: &TestGateway, key: &str, room: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let list: Value = gw
            .client
            .get(gw.url(&format!("/v1/recordings?room={room}")))
            .bearer_auth(key)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let recs = list["recordings"].as_array().unwrap().clone();
        let done = !recs.is_empty()
            && recs.iter().all(|r| {
                !r["ended_ms"].is_null()
                    && r["tracks"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .all(|t| !t["chunks"].is_null())
            });
        if done {
            return recs;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the recording did not finish: {list}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Audit entries with `action`.
async fn audits(gw: &TestGateway, action: &str) -> Vec<hushpay_store::AuditRecord> {
    gw.state
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

/// A stereo 16-bit WAV's two channels.
fn stereo(wav: &[u8]) -> (Vec<i16>, Vec<i16>) {
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "stereo");
    assert_eq!(
        u32::from_le_bytes([wav[24], wav[25], wav[26], wav[27]]),
        export::EXPORT_RATE
    );
    let samples: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    (
        samples.iter().step_by(2).copied().collect(),
        samples.iter().skip(1).step_by(2).copied().collect(),
    )
}

fn ms16(pcm: &[i16], from: u64, to: u64) -> &[i16] {
    let a = (from as usize * 16).min(pcm.len());
    let b = (to as usize * 16).min(pcm.len());
    &pcm[a..b]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_in_the_middle_is_not_recorded_and_speech_around_it_is() {
    let gw = recording_gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let room = "call-rec-1";
    let mut agent = bot(&gw, token(&gw, &key, "agent-7", room, "agent").await).await;
    let patient = bot(&gw, token(&gw, &key, "patient-1", room, "patient").await).await;
    let first = next_recording(&mut agent, Duration::from_secs(3))
        .await
        .expect("the agent learns the recording state on join");
    assert_eq!(first["paused"], false);

    let before = speech("please confirm your date of birth");
    let during = {
        // The patient reads the card number aloud and keys it in-band while the payment
        // runs: none of it may reach the recording.
        let mut pcm = speech("my card number is four one one one");
        for d in "4111".chars() {
            pcm.extend(tone(d, 120.0));
            pcm.extend(silence(120));
        }
        pcm
    };
    let after = speech("thank you, that is all for today");
    let agent_words = speech("one moment please");

    // One continuous stream (a second `play` would restart the RTP sequence): speech, a
    // gap in which the payment opens, what the patient says and keys during the payment, a
    // gap in which it is cancelled, speech again. The test drives the payment on the clock.
    let gap = 1500;
    let mut pcm = before.clone();
    pcm.extend(silence(gap));
    let during_at = pcm.len() / 48;
    pcm.extend(&during);
    pcm.extend(silence(gap));
    let after_at = pcm.len() / 48;
    pcm.extend(&after);
    pcm.extend(silence(300));
    let agent_up = agent.uplink();
    let t0 = tokio::time::Instant::now();
    let playing = tokio::spawn(async move { patient.play(&pcm, &[]).await.map(|_| patient) });
    let agent_playing = tokio::spawn(async move { agent_up.play(&agent_words, &[]).await });

    tokio::time::sleep_until(t0 + Duration::from_millis((during_at - gap / 2) as u64)).await;
    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 1500, "currency": "USD", "reference": "visit-1",
               "mode": "charge", "method": "keypad", "room": room}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let paused = next_recording(&mut agent, Duration::from_secs(3))
        .await
        .expect("the agent sees the pause");
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["reasons"], json!([format!("payment:{id}")]));
    let (status, _) = payment_command(
        &gw,
        &key,
        &id,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    assert_eq!(status, 200);
    tokio::time::sleep_until(t0 + Duration::from_millis((after_at - gap / 2) as u64)).await;
    let (status, _) = payment_command(&gw, &key, &id, "cancel", None).await;
    assert_eq!(status, 200);
    let resumed = next_recording(&mut agent, Duration::from_secs(3))
        .await
        .expect("the agent sees the resume");
    assert_eq!(resumed["paused"], false);
    let patient = playing.await.unwrap().unwrap();
    agent_playing.await.unwrap().unwrap();
    drained(&agent).await;
    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;

    let recs = finished_recordings(&gw, &key, room).await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    let rec = &recs[0];
    assert_eq!(rec["signature_valid"], true);
    let rec_id = rec["id"].as_str().unwrap().to_owned();
    let pauses = rec["pauses"].as_array().unwrap();
    assert_eq!(pauses.len(), 1, "{pauses:?}");
    assert_eq!(pauses[0]["reason"], format!("payment:{id}"));
    assert_eq!(pauses[0]["by"], "system");
    let from = pauses[0]["from_ms"].as_u64().unwrap();
    let to = pauses[0]["to_ms"]
        .as_u64()
        .expect("the payment window closed");
    assert!(
        to - from >= (during.len() / 48) as u64,
        "the window spans what the patient said during the payment: {from}..{to}"
    );
    let sent_packets = (before.len() + during.len() + after.len()) / 960 + 2 * gap / 20 + 15;

    // Not one packet was written inside the window (not just silenced on export).
    let tenant = gw
        .state
        .store
        .tenant_by_name("clinic")
        .await
        .unwrap()
        .unwrap();
    let decrypted = export::decrypt(&gw.state.recorder, tenant.id.as_str(), &rec_id)
        .await
        .unwrap();
    assert_eq!(decrypted.tracks.len(), 2, "a patient and an agent track");
    for (info, t) in &decrypted.tracks {
        assert!(t.truncated.is_none(), "{}: complete", info.track);
        assert!(
            t.packets.len() > 50,
            "{}: {} packets",
            info.track,
            t.packets.len()
        );
        let inside = t
            .packets
            .iter()
            .filter(|p| u64::from(p.at_ms) >= from && u64::from(p.at_ms) < to)
            .count();
        assert_eq!(
            inside, 0,
            "{}: packets inside the payment window",
            info.track
        );
        if info.role == "patient" {
            assert!(
                t.packets.len() + during.len() / 960 <= sent_packets,
                "the patient's words during the payment were not written: {} of {sent_packets} packets",
                t.packets.len()
            );
        }
    }

    let resp = gw
        .client
        .get(gw.url(&format!("/v1/recordings/{rec_id}/audio?format=wav")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    assert_eq!(resp.headers()["x-hushpay-channels"], "patient,agent");
    let wav = resp.bytes().await.unwrap();
    let (left, right) = stereo(&wav);
    let end = (left.len() / 16) as u64;
    assert!(
        rms(ms16(&left, 0, from)) > 300.0,
        "patient speech before the payment: {}",
        rms(ms16(&left, 0, from))
    );
    assert!(
        rms(ms16(&left, to, end)) > 300.0,
        "patient speech after the payment: {}",
        rms(ms16(&left, to, end))
    );
    assert!(rms(ms16(&right, 0, from)) > 300.0, "the agent's speech");
    let window_audio = ms16(&left, from, to)
        .iter()
        .chain(ms16(&right, from, to))
        .filter(|&&s| s != 0)
        .count();
    assert_eq!(window_audio, 0, "0 ms of audio inside the payment window");

    // No digit in the recording; positive controls on what the patient sent.
    let left48 = resample(&left, export::EXPORT_RATE, 48_000);
    let right48 = resample(&right, export::EXPORT_RATE, 48_000);
    assert_eq!(
        multimon(&during),
        "4111",
        "control: multimon-ng hears the keys"
    );
    assert!(
        sensitive_hits(&during) > 0,
        "control: the detector flags the keys"
    );
    assert_eq!(
        multimon(&left48),
        "",
        "multimon-ng finds no digit in the recording"
    );
    assert_eq!(multimon(&right48), "");
    let mut speech_only = before.clone();
    speech_only.extend(&after);
    let control = sensitive_hits(&opus_roundtrip(&speech_only));
    let hits = sensitive_hits(&left48);
    assert!(
        hits <= control,
        "the recording has no more sensitive hits ({hits}) than the speech alone ({control})"
    );

    // Ogg export of the same recording.
    let resp = gw
        .client
        .get(gw.url(&format!("/v1/recordings/{rec_id}/audio?format=ogg")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let ogg = resp.bytes().await.unwrap();
    assert_eq!(&ogg[..4], b"OggS");
    assert_eq!(&ogg[28..36], b"OpusHead");

    // Audited: the pause and resume (with the payment and recording), both exports.
    let pause = audits(&gw, "recording.pause").await;
    assert_eq!(pause.len(), 1);
    assert_eq!(pause[0].resource, format!("room:{room}"));
    assert!(pause[0].outcome.contains(&format!("payment:{id}")));
    assert!(pause[0].outcome.contains(&rec_id));
    assert_eq!(audits(&gw, "recording.resume").await.len(), 1);
    let exports = audits(&gw, "recording.export").await;
    assert_eq!(exports.len(), 2);
    assert!(exports.iter().all(|e| e.resource == rec_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_pause_by_hand_patients_cannot_and_consent_gates_the_start() {
    let gw = recording_gateway_with_grace("1500").await;
    let (_t, key) = gw.tenant("clinic").await;
    let room = "call-rec-2";
    let resp = gw
        .client
        .post(gw.url("/v1/rooms"))
        .bearer_auth(&key)
        .json(&json!({"name": room, "require_recording_consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let mut agent = bot(&gw, token(&gw, &key, "agent-7", room, "agent").await).await;
    let mut patient = bot(&gw, token(&gw, &key, "patient-1", room, "patient").await).await;
    let state = next_recording(&mut agent, Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(state["paused"], true);
    assert_eq!(state["reasons"], json!(["consent"]));

    // One continuous stream: words before consent, after consent, during a manual pause,
    // after the resume; the test acts in the gaps.
    let words = speech("hello there");
    let gap = 1200;
    let mut pcm = Vec::new();
    let mut gaps_at = Vec::new();
    for _ in 0..3 {
        pcm.extend(&words);
        gaps_at.push((pcm.len() / 48) as u64);
        pcm.extend(silence(gap));
    }
    pcm.extend(&words);
    pcm.extend(silence(300));
    let mut patient_events =
        std::mem::replace(&mut patient.events, tokio::sync::mpsc::channel(1).1);
    let patient = std::sync::Arc::new(patient);
    let player = std::sync::Arc::clone(&patient);
    let t0 = tokio::time::Instant::now();
    let playing = tokio::spawn(async move { player.play(&pcm, &[]).await.map(|_| ()) });
    let at = |ms: u64| tokio::time::sleep_until(t0 + Duration::from_millis(ms));

    at(gaps_at[0] + 300).await;
    assert!(
        hushpay::recording::files::tenants(&gw.state.recorder.config().dir)
            .await
            .unwrap()
            .is_empty(),
        "nothing is recorded before consent"
    );
    let resp = gw
        .client
        .post(gw.url(&format!("/v1/rooms/{room}/recording-consent")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        next_recording(&mut agent, Duration::from_secs(3))
            .await
            .unwrap()["paused"],
        false
    );

    // A patient may not pause; an agent may.
    at(gaps_at[1] + 300).await;
    patient
        .send_signal(&json!({"type": "recording", "action": "pause"}))
        .unwrap();
    let refused = loop {
        match tokio::time::timeout(Duration::from_secs(3), patient_events.recv()).await {
            Ok(Some(ServerMessage::Error { code, .. })) if code != "not_joined" => break code,
            Ok(Some(_)) => continue,
            other => panic!("no refusal: {other:?}"),
        }
    };
    assert_eq!(refused, "forbidden");
    agent
        .send_signal(&json!({"type": "recording", "action": "pause"}))
        .unwrap();
    let state = next_recording(&mut agent, Duration::from_secs(3))
        .await
        .unwrap();
    assert_eq!(state["paused"], true);
    assert_eq!(state["reasons"], json!(["manual"]));
    assert!(state["recording_id"].is_string(), "{state}");
    at(gaps_at[2] + 300).await;
    agent
        .send_signal(&json!({"type": "recording", "action": "resume"}))
        .unwrap();
    assert_eq!(
        next_recording(&mut agent, Duration::from_secs(3))
            .await
            .unwrap()["paused"],
        false
    );
    playing.await.unwrap().unwrap();
    let patient = std::sync::Arc::try_unwrap(patient).unwrap();
    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;

    let recs = finished_recordings(&gw, &key, room).await;
    assert_eq!(recs.len(), 1);
    let pauses = recs[0]["pauses"].as_array().unwrap();
    assert_eq!(pauses.len(), 1, "{pauses:?}");
    assert_eq!(pauses[0]["reason"], "manual");
    assert_eq!(pauses[0]["by"], "agent:agent-7");
    let pause = audits(&gw, "recording.pause").await;
    let resume = audits(&gw, "recording.resume").await;
    assert_eq!(pause.len(), 2, "consent required, then manual");
    assert_eq!(pause[1].actor, "agent:agent-7");
    assert_eq!(resume.len(), 2, "consent given, then manual resume");
    assert!(resume[0].outcome.contains("reason=consent"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recording_api_refuses_hostile_requests_clearly() {
    let gw = recording_gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let (_o, other_key) = gw.tenant("other").await;
    let room = "call-rec-3";
    let agent = bot(&gw, token(&gw, &key, "agent-7", room, "agent").await).await;
    agent.play(&speech("hello"), &[]).await.unwrap();
    agent.leave().await;
    assert_released(&gw).await;
    let recs = finished_recordings(&gw, &key, room).await;
    let id = recs[0]["id"].as_str().unwrap().to_owned();
    let get = |path: String, cred: String| {
        let gw = &gw;
        async move {
            gw.client
                .get(gw.url(&path))
                .bearer_auth(cred)
                .send()
                .await
                .unwrap()
        }
    };
    let k = || key.clone();
    for bad in [
        "rec_x".to_owned(),
        "..%2F..%2Fetc".to_owned(),
        format!("{id}x"),
        format!("rec_{}", "A".repeat(24)),
    ] {
        assert_error(
            get(format!("/v1/recordings/{bad}"), k()).await,
            404,
            "recording_not_found",
        )
        .await;
        assert_error(
            get(format!("/v1/recordings/{bad}/audio"), k()).await,
            404,
            "recording_not_found",
        )
        .await;
    }
    assert_error(
        get(format!("/v1/recordings/{id}/audio?format=mp3"), k()).await,
        400,
        "invalid_format",
    )
    .await;
    assert_error(
        get(format!("/v1/recordings/{id}/audio?tracks=all"), k()).await,
        400,
        "invalid_tracks",
    )
    .await;
    assert_error(
        get(
            format!("/v1/recordings/{id}/audio?format=ogg&tracks=separate"),
            k(),
        )
        .await,
        400,
        "invalid_tracks",
    )
    .await;
    assert_error(
        get(format!("/v1/recordings/{id}/audio?x=1"), k()).await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        get("/v1/recordings?room=a/b".into(), k()).await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        get("/v1/recordings?rom=x".into(), k()).await,
        400,
        "invalid_request",
    )
    .await;
    // Another tenant sees nothing of it.
    assert_error(
        get(format!("/v1/recordings/{id}"), other_key.clone()).await,
        404,
        "recording_not_found",
    )
    .await;
    let list: Value = get("/v1/recordings".into(), other_key.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["recordings"], json!([]));
    // Participant tokens: an agent is refused, a supervisor of the room sees it, a
    // supervisor of another room does not.
    let agent_tok = token(&gw, &key, "agent-7", room, "agent").await;
    assert_error(
        get("/v1/recordings".into(), agent_tok).await,
        403,
        "forbidden",
    )
    .await;
    let sup = token(&gw, &key, "sup-1", room, "supervisor").await;
    let shown: Value = get(format!("/v1/recordings/{id}"), sup.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["integrity"][0]["status"], "complete");
    let other_sup = token(&gw, &key, "sup-2", "call-elsewhere", "supervisor").await;
    assert_error(
        get(format!("/v1/recordings/{id}"), other_sup.clone()).await,
        404,
        "recording_not_found",
    )
    .await;
    assert_error(
        get(format!("/v1/recordings?room={room}"), other_sup).await,
        403,
        "forbidden",
    )
    .await;
    let resp = get(format!("/v1/recordings/{id}/audio?tracks=separate"), sup).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["x-hushpay-channels"],
        format!(
            "agent-{}",
            recs[0]["tracks"][0]["participant"].as_str().unwrap()
        )
    );
    // No credentials at all.
    let resp = gw
        .client
        .get(gw.url("/v1/recordings"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_old_recordings_after_auditing_them() {
    use hushpay::recording::retention;
    use std::time::SystemTime;

    let gw = recording_gateway().await;
    let (tenant, key) = gw.tenant("clinic").await;
    let room = "call-rec-4";
    let agent = bot(&gw, token(&gw, &key, "agent-7", room, "agent").await).await;
    agent.play(&speech("hello"), &[]).await.unwrap();
    agent.leave().await;
    assert_released(&gw).await;
    let id = finished_recordings(&gw, &key, room).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let recorder = &gw.state.recorder;
    let day = Duration::from_secs(86_400);
    // Younger than the retention: kept.
    let kept = retention::sweep(recorder, 2 * day, SystemTime::now() + day)
        .await
        .unwrap();
    assert_eq!(kept, 0);
    assert!(audits(&gw, retention::AUDIT_DELETE).await.is_empty());
    // Older: deleted, after its audit entry.
    let deleted = retention::sweep(recorder, 2 * day, SystemTime::now() + 3 * day)
        .await
        .unwrap();
    assert_eq!(deleted, 1);
    let entries = audits(&gw, retention::AUDIT_DELETE).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].resource, id);
    assert_eq!(entries[0].actor, "system");
    assert!(entries[0].outcome.starts_with("retention"));
    assert!(
        hushpay::recording::files::recording_ids(&recorder.config().dir, tenant.id.as_str())
            .await
            .unwrap()
            .is_empty()
    );
    assert_error(
        gw.client
            .get(gw.url(&format!("/v1/recordings/{id}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap(),
        404,
        "recording_not_found",
    )
    .await;
}

/// The window closes synchronously inside the payment service: by the time any subscriber
/// of the change stream (the patient's prompt, the keypad driver) or the HTTP caller learns
/// of a payment, the room is paused; it stays paused through every non-terminal state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_window_is_closed_before_anyone_hears_of_the_payment() {
    let gw = recording_gateway().await;
    let (tenant, key) = gw.tenant("clinic").await;
    let room = hushpay::sfu::room::RoomKey {
        tenant: tenant.id.as_str().to_owned(),
        name: "call-rec-5".into(),
    };
    let mut changes = gw.state.payments.subscribe_changes();
    assert!(!gw.state.recorder.room_state(&room).paused);
    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 1500, "currency": "USD", "reference": "visit-1",
               "mode": "charge", "method": "keypad", "room": room.name}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let created = changes.recv().await.unwrap();
    assert_eq!(created.payment.state.as_str(), "requested");
    let state = gw.state.recorder.room_state(&room);
    assert!(state.paused, "paused when the creation is broadcast");
    assert_eq!(state.reasons, [format!("payment:{id}")]);
    let (status, _) = payment_command(
        &gw,
        &key,
        &id,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        changes.recv().await.unwrap().payment.state.as_str(),
        "collecting"
    );
    assert!(gw.state.recorder.room_state(&room).paused);
    let (status, _) = payment_command(&gw, &key, &id, "cancel", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        changes.recv().await.unwrap().payment.state.as_str(),
        "cancelled"
    );
    assert!(
        !gw.state.recorder.room_state(&room).paused,
        "reopened at the end"
    );
    // A second payment's end does not reopen a window the first still holds.
    let a = create_payment(&gw, &key, json!({"amount": 1, "currency": "USD", "reference": "a", "mode": "charge", "method": "keypad", "room": room.name})).await;
    let b = create_payment(&gw, &key, json!({"amount": 2, "currency": "USD", "reference": "b", "mode": "charge", "method": "keypad", "room": room.name})).await;
    let (status, _) = payment_command(&gw, &key, b["id"].as_str().unwrap(), "cancel", None).await;
    assert_eq!(status, 200);
    let state = gw.state.recorder.room_state(&room);
    assert!(state.paused);
    assert_eq!(
        state.reasons,
        [format!("payment:{}", a["id"].as_str().unwrap())]
    );
}

/// A graceful shutdown ends the recordings in progress (final chunk, end time) and starts
/// no new one while calls are still connected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_recordings_in_progress() {
    let gw = recording_gateway().await;
    let (tenant, key) = gw.tenant("clinic").await;
    let room = "call-rec-6";
    let agent =
        std::sync::Arc::new(bot(&gw, token(&gw, &key, "agent-7", room, "agent").await).await);
    let player = std::sync::Arc::clone(&agent);
    let words = speech("please hold while I check that for you");
    let playing = tokio::spawn(async move { player.play(&words, &[]).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(gw.state.recorder.shutdown(Duration::from_secs(5)).await);
    let t = tenant.id.as_str();
    let root = &gw.state.recorder.config().dir;
    let ids = hushpay::recording::files::recording_ids(root, t)
        .await
        .unwrap();
    assert_eq!(ids.len(), 1);
    let (meta, ok) = export::metadata(&gw.state.recorder, t, &ids[0])
        .await
        .unwrap();
    assert!(ok);
    assert!(meta.metadata.ended_ms.is_some(), "ended at shutdown");
    let d = export::decrypt(&gw.state.recorder, t, &ids[0])
        .await
        .unwrap();
    assert!(
        d.tracks.iter().all(|(_, t)| t.truncated.is_none()),
        "final chunks sealed"
    );
    // The call goes on; nothing new is recorded.
    playing.await.unwrap().unwrap();
    assert_eq!(
        hushpay::recording::files::recording_ids(root, t)
            .await
            .unwrap()
            .len(),
        1
    );
    std::sync::Arc::try_unwrap(agent).unwrap().leave().await;
}

/// While a keyed collection holds the room (secure mode), nothing is recorded even with no
/// pause window open.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_mode_records_nothing_even_without_a_window() {
    let gw = recording_gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let room = "call-rec-7";
    let agent = bot(&gw, token(&gw, &key, "agent-7", room, "agent").await).await;
    let patient =
        std::sync::Arc::new(bot(&gw, token(&gw, &key, "patient-1", room, "patient").await).await);
    let player = std::sync::Arc::clone(&patient);
    let mut pcm = speech("one two three four five six seven eight nine ten");
    pcm.extend(silence(3000 - (pcm.len() / 48).min(3000)));
    let total = pcm.len() / 960;
    let playing = tokio::spawn(async move { player.play(&pcm, &[]).await.map(|_| ()) });
    tokio::time::sleep(Duration::from_millis(800)).await;
    let the_room = gw.state.sfu.rooms.all().into_iter().next().unwrap();
    let session = the_room.secure.begin().expect("secure mode");
    tokio::time::sleep(Duration::from_millis(1000)).await;
    assert!(
        !gw.state.recorder.room_state(&the_room.key).paused,
        "no window is closed"
    );
    drop(session);
    playing.await.unwrap().unwrap();
    drained(&agent).await;
    let metrics = gw
        .client
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let paused: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("hushpay_recording_packets_paused_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        paused >= 30,
        "about a second of packets not recorded: {paused}"
    );
    agent.leave().await;
    std::sync::Arc::try_unwrap(patient).unwrap().leave().await;
    assert_released(&gw).await;
    let recs = finished_recordings(&gw, &key, room).await;
    let tracks = recs[0]["tracks"].as_array().unwrap();
    assert_eq!(tracks.len(), 1, "only the patient talked");
    let tenant = gw
        .state
        .store
        .tenant_by_name("clinic")
        .await
        .unwrap()
        .unwrap();
    let d = export::decrypt(
        &gw.state.recorder,
        tenant.id.as_str(),
        recs[0]["id"].as_str().unwrap(),
    )
    .await
    .unwrap();
    let written = d.tracks[0].1.packets.len();
    assert!(
        written + 30 <= total,
        "{written} of {total} packets written"
    );
}
