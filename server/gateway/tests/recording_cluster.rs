//! Issue 14, recordings anywhere: two full gateway instances on one PostgreSQL schema (made
//! for the test) and one recording object store (the default local directory, shared as a
//! cluster shares a bucket). A call recorded by node A is listed, verified (signature and
//! every track's integrity) and exported by node B, from the store's index and the object
//! store; a retention sweep run by both nodes at once deletes each recording once, with one
//! `recording.delete` audit entry each. And a node that is a real `hushpay serve` process,
//! killed with SIGKILL in the middle of a recorded call, leaves a recording that the other
//! node lists, verifies as truncated (reported as such) and exports up to the cut.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
#[path = "sfu/harness.rs"]
#[allow(dead_code)]
mod harness;

use std::collections::BTreeSet;
use std::time::{Duration, Instant, SystemTime};

use common::TestGateway;
use common::binary::Binary;
use harness::{bot, rms, speech, token};
use hushpay::recording::{files, retention};
use hushpay_bots::{Bot, BotConfig};
use hushpay_store::ScratchSchema;
use serde_json::Value;

async fn node(schema: &ScratchSchema, data_dir: &str) -> TestGateway {
    TestGateway::start(&[
        ("HUSHPAY__STORE", schema.url()),
        // One data directory: one KEK (as every node of a cluster must have) and one
        // recording directory (the object store all nodes write to).
        ("HUSHPAY__DATA_DIR", data_dir),
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
        ("HUSHPAY__RECORDING__ENABLED", "true"),
        ("HUSHPAY__RECORDING__CHUNK_MS", "500"),
    ])
    .await
}

async fn get_json(gw: &TestGateway, key: &str, path: &str) -> Value {
    let resp = gw
        .client
        .get(gw.url(path))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{path}");
    resp.json().await.unwrap()
}

/// Records one call in `room` on `gw`: an agent says a few words and leaves.
async fn record_call(gw: &TestGateway, key: &str, room: &str) {
    let agent = bot(gw, token(gw, key, "agent-1", room, "agent").await).await;
    agent
        .play(&speech("thank you for calling the clinic"), &[])
        .await
        .unwrap();
    agent.leave().await;
}

/// Waits until `gw` lists `rooms.len()` finished recordings (ended, every track sealed) of
/// those rooms; returns them.
async fn finished(gw: &TestGateway, key: &str, rooms: &[&str]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let list = get_json(gw, key, "/v1/recordings").await;
        let recs: Vec<Value> = list["recordings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| rooms.contains(&r["room"].as_str().unwrap()))
            .cloned()
            .collect();
        let done = recs.len() == rooms.len()
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
        assert!(Instant::now() < deadline, "not finished: {list}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_written_by_node_a_is_listed_verified_and_exported_by_node_b() {
    let schema = ScratchSchema::create("gwrec").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let a = node(&schema, &data_dir).await;
    let b = node(&schema, &data_dir).await;
    let (tenant, key) = a.tenant("rec-anywhere").await;
    record_call(&a, &key, "call-a").await;

    // Node B never saw the call; it lists the recording from the index.
    let listed = finished(&b, &key, &["call-a"]).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["signature_valid"], true);
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        finished(&a, &key, &["call-a"]).await,
        listed,
        "both nodes list the same"
    );
    assert!(
        b.state.sfu.rooms.count() == 0
            && b.state
                .store
                .recording(&tenant.id, &id)
                .await
                .unwrap()
                .is_some(),
        "B hosted nothing; the index has the recording"
    );

    // Verified by B: signature and every track, complete.
    let shown = get_json(&b, &key, &format!("/v1/recordings/{id}")).await;
    assert_eq!(shown["signature_valid"], true);
    let integrity = shown["integrity"].as_array().unwrap();
    assert_eq!(integrity.len(), 1, "{integrity:?}");
    assert_eq!(integrity[0]["status"], "complete", "{integrity:?}");
    assert!(
        integrity[0]["chunks"].as_u64().unwrap() >= 2,
        "{integrity:?}"
    );

    // Exported by B: the agent's speech is on the right channel.
    let resp = b
        .client
        .get(b.url(&format!("/v1/recordings/{id}/audio")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers().get("x-hushpay-truncated").is_none());
    let wav = resp.bytes().await.unwrap();
    let samples: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    assert!(right.len() > 16_000, "at least a second of audio");
    assert!(rms(&right) > 300.0, "speech in the export: {}", rms(&right));
    let exports: Vec<_> = b
        .state
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "recording.export" && e.resource == id)
        .collect();
    assert_eq!(exports.len(), 1, "the export is audited once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retention_sweep_run_by_both_nodes_deletes_each_recording_once() {
    let schema = ScratchSchema::create("gwrecsweep").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let a = node(&schema, &data_dir).await;
    let b = node(&schema, &data_dir).await;
    let (tenant, key) = a.tenant("rec-sweep").await;
    let rooms = ["sweep-1", "sweep-2", "sweep-3", "sweep-4"];
    // Recorded on both nodes.
    tokio::join!(
        record_call(&a, &key, rooms[0]),
        record_call(&b, &key, rooms[1]),
        record_call(&a, &key, rooms[2]),
        record_call(&b, &key, rooms[3]),
    );
    let ids: BTreeSet<String> = finished(&a, &key, &rooms)
        .await
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), rooms.len());
    let root = a.state.recorder.config().dir.clone();
    assert_eq!(
        files::recording_ids(&root, tenant.id.as_str())
            .await
            .unwrap()
            .len(),
        rooms.len()
    );

    let day = Duration::from_secs(86_400);
    let later = SystemTime::now() + 3 * day;
    let (da, db) = tokio::join!(
        retention::sweep(&a.state.recorder, 2 * day, later),
        retention::sweep(&b.state.recorder, 2 * day, later),
    );
    let (da, db) = (da.unwrap(), db.unwrap());
    assert_eq!(da + db, rooms.len(), "each deleted once: A {da}, B {db}");
    let deletes: Vec<String> = a
        .state
        .store
        .audit_entries(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == retention::AUDIT_DELETE)
        .map(|e| e.resource)
        .collect();
    assert_eq!(
        deletes.len(),
        rooms.len(),
        "one audit entry each: {deletes:?}"
    );
    assert_eq!(deletes.into_iter().collect::<BTreeSet<_>>(), ids);
    // Gone from the index, the object store and both nodes' answers.
    assert!(
        files::recording_ids(&root, tenant.id.as_str())
            .await
            .unwrap()
            .is_empty()
    );
    for gw in [&a, &b] {
        let list = get_json(gw, &key, "/v1/recordings").await;
        assert_eq!(list["recordings"], serde_json::json!([]));
    }
    // Nothing left for a later sweep by either node.
    assert_eq!(
        retention::sweep(&b.state.recorder, 2 * day, later)
            .await
            .unwrap(),
        0
    );
    let audit_after = a.state.store.audit_entries(0, 100_000).await.unwrap();
    assert_eq!(
        audit_after
            .iter()
            .filter(|e| e.action == retention::AUDIT_DELETE)
            .count(),
        rooms.len()
    );
    for gw in [&a, &b] {
        let report = hushpay_vault::audit::verify(gw.state.store.as_ref())
            .await
            .unwrap();
        assert_eq!(report.problem, None);
    }
}

/// A bot in `room` on the gateway process `gw`.
async fn process_bot(gw: &Binary, key: &str, identity: &str, room: &str, role: &str) -> Bot {
    let resp = reqwest::Client::new()
        .post(format!("{}/v1/access-tokens", gw.url))
        .bearer_auth(key)
        .json(&serde_json::json!({"identity": identity, "room": room, "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    Bot::connect(BotConfig {
        url: gw.rtc_url(),
        token,
        media_ip: [127, 0, 0, 1].into(),
        keep_payloads: false,
    })
    .await
    .unwrap()
}

/// A 440 Hz tone, 48 kHz, `ms` long.
fn tone(ms: usize) -> Vec<i16> {
    (0..ms * 48)
        .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / 48_000.0).sin() * 6000.0) as i16)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_recording_leaves_a_truncated_recording_the_other_node_exports() {
    let schema = ScratchSchema::create("gwreckill").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("hushpay-data").display().to_string();
    let a = Binary::start(
        data.path(),
        0,
        &[
            ("HUSHPAY__STORE", schema.url()),
            ("HUSHPAY__DATA_DIR", &data_dir),
            ("HUSHPAY__RECORDING__ENABLED", "true"),
            ("HUSHPAY__RECORDING__CHUNK_MS", "400"),
        ],
    );
    let key = a
        .api_key
        .clone()
        .expect("the demo tenant's key on first start");
    let b = node(&schema, &data_dir).await;
    let agent = process_bot(&a, &key, "agent-1", "kill-room", "agent").await;
    let patient = process_bot(&a, &key, "patient-1", "kill-room", "patient").await;
    let audio = tone(6000);
    let playing = tokio::spawn(async move {
        let _ = patient.play(&audio, &[]).await;
        patient
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut a = a;
    a.child.kill().unwrap(); // SIGKILL
    a.child.wait().unwrap();
    drop(a);
    playing.await.unwrap().vanish().await;
    agent.vanish().await;

    // Node B lists the recording A was writing: never ended.
    let list = get_json(&b, &key, "/v1/recordings?room=kill-room").await;
    let recs = list["recordings"].as_array().unwrap();
    assert_eq!(recs.len(), 1, "{list}");
    assert_eq!(recs[0]["signature_valid"], true);
    assert!(recs[0]["ended_ms"].is_null(), "the recording never ended");
    let id = recs[0]["id"].as_str().unwrap().to_owned();

    // Verified by B: every track truncated, at the last chunk sealed before the kill.
    let shown = get_json(&b, &key, &format!("/v1/recordings/{id}")).await;
    assert_eq!(shown["signature_valid"], true);
    let integrity = shown["integrity"].as_array().unwrap();
    assert!(!integrity.is_empty(), "{shown}");
    for t in integrity {
        assert_eq!(t["status"], "truncated", "{t}");
        assert!(
            t["detail"]
                .as_str()
                .unwrap()
                .starts_with("truncated after chunk"),
            "{t}"
        );
    }
    let patient_track = integrity
        .iter()
        .find(|t| t["track"].as_str().unwrap().starts_with("patient-"))
        .unwrap();
    assert!(
        patient_track["chunks"].as_u64().unwrap() >= 3,
        "400 ms chunks durable before the kill at ~2.5 s: {patient_track}"
    );

    // Exported by B up to the cut, and said to be cut.
    let resp = b
        .client
        .get(b.url(&format!("/v1/recordings/{id}/audio")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let cut = resp.headers()["x-hushpay-truncated"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cut.contains("truncated after chunk"), "{cut}");
    let wav = resp.bytes().await.unwrap();
    let samples: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    assert!(
        left.len() >= 16 * 1200,
        "at least 1.2 s of the call: {} samples",
        left.len()
    );
    assert!(rms(&left) > 1000.0, "the patient's tone: {}", rms(&left));
}

/// The same two nodes on an S3-compatible bucket instead of a shared directory. Needs a
/// server: `HUSHPAY_TEST_S3_ENDPOINT` (e.g. `http://127.0.0.1:5599` from `moto_server -p
/// 5599`), `HUSHPAY_TEST_S3_BUCKET` (existing) and the `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY` it accepts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs an S3-compatible endpoint: HUSHPAY_TEST_S3_ENDPOINT, HUSHPAY_TEST_S3_BUCKET"]
async fn two_nodes_on_an_s3_bucket_list_export_and_sweep_each_others_recordings() {
    let endpoint = std::env::var("HUSHPAY_TEST_S3_ENDPOINT").expect("HUSHPAY_TEST_S3_ENDPOINT");
    let bucket = std::env::var("HUSHPAY_TEST_S3_BUCKET").expect("HUSHPAY_TEST_S3_BUCKET");
    let prefix = format!("test-{}", std::process::id());
    let schema = ScratchSchema::create("gwrecs3").await.unwrap();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().display().to_string();
    let env = [
        ("HUSHPAY__STORE", schema.url()),
        ("HUSHPAY__DATA_DIR", &data_dir),
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
        ("HUSHPAY__RECORDING__ENABLED", "true"),
        ("HUSHPAY__RECORDING__CHUNK_MS", "500"),
        ("HUSHPAY__RECORDING__STORAGE", "s3"),
        ("HUSHPAY__RECORDING__S3_BUCKET", &bucket),
        ("HUSHPAY__RECORDING__S3_PREFIX", &prefix),
        ("HUSHPAY__RECORDING__S3_REGION", "us-east-1"),
        ("HUSHPAY__RECORDING__S3_ENDPOINT", &endpoint),
        ("HUSHPAY__RECORDING__S3_ALLOW_HTTP", "true"),
    ];
    let a = TestGateway::start(&env).await;
    let b = TestGateway::start(&env).await;
    let (tenant, key) = a.tenant("rec-s3").await;
    record_call(&a, &key, "s3-call").await;
    let listed = finished(&b, &key, &["s3-call"]).await;
    let id = listed[0]["id"].as_str().unwrap().to_owned();
    let shown = get_json(&b, &key, &format!("/v1/recordings/{id}")).await;
    assert_eq!(shown["signature_valid"], true);
    assert_eq!(shown["integrity"][0]["status"], "complete", "{shown}");
    let resp = b
        .client
        .get(b.url(&format!("/v1/recordings/{id}/audio")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        !a.state.recorder.config().dir.exists(),
        "nothing written to the local directory"
    );
    let objects = a.state.recorder.objects();
    let rec_prefix = files::recording_prefix(tenant.id.as_str(), &id).unwrap();
    let keys = objects.list(&rec_prefix).await.unwrap();
    assert!(
        keys.len() >= 3,
        "metadata, header, chunks in the bucket: {keys:?}"
    );

    let day = Duration::from_secs(86_400);
    let later = SystemTime::now() + 3 * day;
    let (da, db) = tokio::join!(
        retention::sweep(&a.state.recorder, 2 * day, later),
        retention::sweep(&b.state.recorder, 2 * day, later),
    );
    assert_eq!(da.unwrap() + db.unwrap(), 1);
    assert!(objects.list(&rec_prefix).await.unwrap().is_empty());
}

/// A recording of the former layout (one appended `<track>.hprec` file, no index row), as an
/// older gateway left it in the local directory: indexed at start, then listed and verified
/// like any other; indexing again adds nothing. (A recorder of its own on the gateway's vault
/// and store, over a directory the gateway's own start-up indexing never looks at.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recordings_of_the_former_layout_are_indexed_and_read() {
    use hushpay::recording::config::RawRecording;
    use hushpay::recording::{Recorder, export, keys, meta};
    use hushpay_recording::{RecordedPacket, SignedMetadata, TrackHeader, TrackInfo, TrackWriter};

    let gw = TestGateway::start(&[("HUSHPAY__RECORDING__ENABLED", "true")]).await;
    let (tenant, _key) = gw.tenant("rec-legacy").await;
    let t = tenant.id.as_str();
    let old_dir = tempfile::tempdir().unwrap();
    let config = RawRecording {
        dir: Some(old_dir.path().join("recordings")),
        ..Default::default()
    }
    .validate(old_dir.path())
    .unwrap();
    let recorder = &Recorder::new(
        config,
        std::sync::Arc::clone(gw.state.recorder.vault()),
        std::sync::Arc::clone(gw.state.recorder.store()),
        std::sync::Arc::new(hushpay::metrics::Metrics::new()),
    );
    let vault = recorder.vault();
    let id = format!("rec_{}", "L".repeat(24));
    let rec_key = keys::fresh_key();
    let (key_version, wrapped_key) = keys::wrap(vault, t, &id, &rec_key).await.unwrap();
    let header = TrackHeader {
        recording_id: id.clone(),
        tenant: t.to_owned(),
        room: "old-room".into(),
        track: "patient-p1".into(),
        role: "patient".into(),
        participant: "p1".into(),
        codec: "opus".into(),
        key_version,
        wrapped_key,
        started_ms: 0,
        chunk_ms: 1000,
    };
    let (mut writer, mut file) = TrackWriter::new(&rec_key, &header).unwrap();
    for i in 0..100u32 {
        let p = RecordedPacket {
            at_ms: i * 20,
            rtp_timestamp: i * 960,
            sequence: i as u16,
            payload: vec![0xf8, 0xff, 0xfe],
        };
        if let Some(chunk) = writer.push(&p).unwrap() {
            file.extend(chunk);
        }
    }
    file.extend(writer.finish().unwrap());
    let mut m = meta::new_metadata(&id, t, "old-room", 1_700_000_000_000);
    m.tracks.push(TrackInfo {
        track: "patient-p1".into(),
        role: "patient".into(),
        participant: "p1".into(),
        chunks: Some(writer.chunks()),
    });
    m.ended_ms = Some(2000);
    let signed = SignedMetadata::sign(&keys::metadata_key(vault, t).unwrap(), m).unwrap();
    let dir = files::recording_dir(&recorder.config().dir, t, &id).unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("patient-p1.hprec"), &file).unwrap();
    std::fs::write(dir.join(files::METADATA_FILE), signed.to_json().unwrap()).unwrap();

    let store = &gw.state.store;
    assert!(store.recording(&tenant.id, &id).await.unwrap().is_none());
    assert!(
        matches!(
            export::metadata(recorder, t, &id).await,
            Err(export::ExportError::NotFound)
        ),
        "not indexed yet: not found"
    );
    assert_eq!(retention::index_local(recorder).await.unwrap(), 1);
    assert_eq!(retention::index_local(recorder).await.unwrap(), 0);
    let listed = store
        .recordings(&tenant.id, Some("old-room"), 10)
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].started_at_ms, 1_700_000_000_000);
    let (_, ok) = export::metadata(recorder, t, &id).await.unwrap();
    assert!(ok, "the signature verifies");
    let d = export::decrypt(recorder, t, &id).await.unwrap();
    assert_eq!(d.tracks.len(), 1);
    assert_eq!(d.tracks[0].1.packets.len(), 100);
    assert!(d.tracks[0].1.truncated.is_none());
}
