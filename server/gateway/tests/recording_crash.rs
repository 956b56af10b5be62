//! `kill -9` of the real `hushpay` binary in the middle of a recorded call: the tracks (a
//! header object and one object per sealed chunk) decrypt up to their last complete chunk and
//! report the cut ("truncated after chunk N"), the signed metadata still verifies (ended:
//! null), and another gateway process on the same store and object store (started after the
//! kill: a surviving node) reports the same through the API and exports what was written. A
//! flipped byte, two swapped chunks and a missing chunk are detected, by the reader and by
//! that gateway's API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay::metrics::Metrics;
use hushpay::recording::config::RawRecording;
use hushpay::recording::{Recorder, export, files};
use hushpay_bots::{Bot, BotConfig};
use hushpay_recording::RecordingError;
use hushpay_store::{SqliteStore, Store};
use hushpay_vault::{Kek, Vault};
use serde_json::{Value, json};

fn bin() -> String {
    std::env::var("HUSHPAY_TEST_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_hushpay").to_owned())
}

const CHUNK_MS: u64 = 400;

struct Gateway {
    child: Child,
    url: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `hushpay serve` in `dir` recording with `CHUNK_MS` chunks; the URL and (first start) the
/// demo API key.
fn start(dir: &Path, run: usize) -> (Gateway, Option<String>) {
    let out = dir.join(format!("stdout-{run}.log"));
    let child = Command::new(bin())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env("HUSHPAY_LOG", "warn")
        .env("HUSHPAY__RECORDING__ENABLED", "true")
        .env("HUSHPAY__RECORDING__CHUNK_MS", CHUNK_MS.to_string())
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut gw = Gateway {
        child,
        url: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let url = text
            .lines()
            .find_map(|l| l.strip_prefix("Hushpay listening on "));
        let key = text
            .lines()
            .find_map(|l| l.strip_prefix("Demo tenant API key (shown once, store it now): "));
        if let Some(url) = url {
            gw.url = url.trim().to_owned();
            return (gw, key.map(|k| k.trim().to_owned()));
        }
        assert!(Instant::now() < deadline, "gateway did not start: {text}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn bot(c: &reqwest::Client, gw: &Gateway, key: &str, identity: &str, role: &str) -> Bot {
    let resp = c
        .post(format!("{}/v1/access-tokens", gw.url))
        .bearer_auth(key)
        .json(&json!({"identity": identity, "room": "crash-room", "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    Bot::connect(BotConfig {
        url: format!("{}/v1/rtc", gw.url.replace("http://", "ws://")),
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

/// Chunk boundaries of a track file put together: (start, end) of each length-prefixed chunk.
fn chunks(file: &[u8]) -> Vec<(usize, usize)> {
    let (_, _, mut pos) = hushpay_recording::TrackHeader::decode(file).unwrap();
    let mut out = Vec::new();
    while pos + 4 <= file.len() {
        let len = u32::from_be_bytes(file[pos..pos + 4].try_into().unwrap()) as usize;
        if pos + 4 + len > file.len() {
            break;
        }
        out.push((pos, pos + 4 + len));
        pos += 4 + len;
    }
    out
}

/// The chunk object files of a track, in index order.
fn chunk_files(track_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = common::cards::files_under(track_dir)
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .and_then(files::chunk_index)
                .is_some()
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_recording_leaves_files_that_decrypt_to_the_last_complete_chunk() {
    let dir = tempfile::tempdir().unwrap();
    let c = reqwest::Client::new();
    let (gw, key) = start(dir.path(), 0);
    let key = key.expect("the demo tenant's key on first start");
    let agent = bot(&c, &gw, &key, "agent-1", "agent").await;
    let patient = bot(&c, &gw, &key, "patient-1", "patient").await;
    let audio = tone(6000);
    let playing = tokio::spawn(async move {
        let _ = patient.play(&audio, &[]).await;
        patient
    });
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut gw = gw;
    gw.child.kill().unwrap(); // SIGKILL
    gw.child.wait().unwrap();
    let killed_at = Instant::now();
    drop(gw);
    let patient = playing.await.unwrap();
    patient.vanish().await;
    agent.vanish().await;
    let _ = killed_at;

    // Open what the dead gateway left with its own KEK and store.
    let data = dir.path().join("hushpay-data");
    let root = data.join("recordings");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&data.join("hushpay.db")).unwrap());
    let kek = Kek::load_file(&data.join("keys/dev-vault-kek")).unwrap();
    let vault = Arc::new(Vault::new(kek, Arc::clone(&store) as _));
    let config = RawRecording {
        dir: Some(root.clone()),
        ..Default::default()
    }
    .validate(&data)
    .unwrap();
    let recorder = Recorder::new(config, vault, store, Arc::new(Metrics::new()));
    let tenants = files::tenants(&root).await.unwrap();
    assert_eq!(tenants.len(), 1);
    let tenant = &tenants[0];
    let ids = files::recording_ids(&root, tenant).await.unwrap();
    assert_eq!(ids.len(), 1);
    let id = &ids[0];
    let (meta, ok) = export::metadata(&recorder, tenant, id).await.unwrap();
    assert!(ok, "the metadata written before the kill verifies");
    assert_eq!(meta.metadata.ended_ms, None, "the recording never ended");

    let patient = meta
        .metadata
        .tracks
        .iter()
        .find(|t| t.role == "patient")
        .expect("the patient's track")
        .track
        .clone();
    let track_dir = root.join(tenant).join(id).join(&patient);
    assert!(track_dir.join(files::HEADER_OBJECT).is_file());
    let chunk_objects = chunk_files(&track_dir);
    let bytes = export::track_bytes(&recorder, tenant, id, &patient)
        .await
        .unwrap()
        .expect("the patient's track was written");
    let track = export::decrypt_track(&recorder, tenant, id, &bytes)
        .await
        .unwrap();
    let cut = track.truncated.expect("the cut is reported");
    assert!(
        cut.complete_chunks >= 3,
        "chunks of {CHUNK_MS} ms were durable before the kill at ~2.5 s: {cut}"
    );
    assert_eq!(track.chunks, cut.complete_chunks);
    assert_eq!(
        chunk_objects.len() as u64,
        cut.complete_chunks,
        "one object per sealed chunk"
    );
    assert!(cut.to_string().starts_with("truncated after chunk"));
    let last = track.packets.last().unwrap().at_ms as u64;
    assert!(
        last + 2 * CHUNK_MS + 300 >= 2500 - 200,
        "at most the open chunk was lost: last packet at {last} ms"
    );
    assert!(
        track.packets.len() as u64 >= last / 20 * 9 / 10,
        "packets up to the cut"
    );

    // A flipped byte, and two swapped chunks, in copies of the file.
    let spans = chunks(&bytes);
    assert!(spans.len() >= 3);
    let mut flipped = bytes.clone();
    flipped[spans[1].0 + 10] ^= 0x01;
    let key_err = export::decrypt_track(&recorder, tenant, id, &flipped)
        .await
        .unwrap_err();
    assert!(
        key_err
            .to_string()
            .contains(&RecordingError::ChunkAuth { index: 1 }.to_string()),
        "{key_err}"
    );
    let mut swapped = bytes[..spans[0].0].to_vec();
    swapped.extend_from_slice(&bytes[spans[1].0..spans[1].1]);
    swapped.extend_from_slice(&bytes[spans[0].0..spans[0].1]);
    swapped.extend_from_slice(&bytes[spans[1].1..]);
    let err = export::decrypt_track(&recorder, tenant, id, &swapped)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("chunk 0 failed authentication"),
        "{err}"
    );

    // Restarted on the same data: the API reports the truncation, then the tampering.
    let (gw, _) = start(dir.path(), 1);
    let shown: Value = c
        .get(format!("{}/v1/recordings/{id}", gw.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["signature_valid"], true);
    let integrity = shown["integrity"].as_array().unwrap();
    assert!(
        integrity.iter().all(|t| t["status"] == "truncated"),
        "{integrity:?}"
    );
    let resp = c
        .get(format!("{}/v1/recordings/{id}/audio", gw.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["x-hushpay-truncated"]
            .to_str()
            .unwrap()
            .contains("truncated after chunk")
    );
    // Chunk 1's object with a flipped byte: damaged, export refused.
    let chunk1 = std::fs::read(&chunk_objects[1]).unwrap();
    let mut chunk1_flipped = chunk1.clone();
    chunk1_flipped[10] ^= 0x01;
    std::fs::write(&chunk_objects[1], &chunk1_flipped).unwrap();
    let damaged = patient_integrity(&c, &gw, &key, id, &patient).await;
    assert_eq!(damaged["status"], "damaged");
    assert!(
        damaged["detail"]
            .as_str()
            .unwrap()
            .contains("chunk 1 failed authentication"),
        "{damaged}"
    );
    let resp = c
        .get(format!("{}/v1/recordings/{id}/audio", gw.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    common::assert_error(resp, 409, "recording_damaged").await;
    // Chunk 1's object gone with later chunks left: damaged, not merely cut.
    std::fs::remove_file(&chunk_objects[1]).unwrap();
    let missing = patient_integrity(&c, &gw, &key, id, &patient).await;
    assert_eq!(missing["status"], "damaged");
    assert!(
        missing["detail"]
            .as_str()
            .unwrap()
            .contains("chunk 1 is missing"),
        "{missing}"
    );
    std::fs::write(&chunk_objects[1], &chunk1).unwrap();
    assert_eq!(
        patient_integrity(&c, &gw, &key, id, &patient).await["status"],
        "truncated",
        "restored"
    );
    // A moved pause window (or any edit) breaks the metadata signature: export refused.
    let meta_path = root.join(tenant).join(id).join(files::METADATA_FILE);
    let mut doc: Value = serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    doc["metadata"]["pauses"] = json!([{"from_ms": 0, "to_ms": 1, "reason": "manual", "by": "x"}]);
    std::fs::write(&meta_path, serde_json::to_vec(&doc).unwrap()).unwrap();
    let resp = c
        .get(format!("{}/v1/recordings/{id}/audio", gw.url))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    common::assert_error(resp, 409, "recording_tampered").await;
}

/// The restarted gateway's integrity report of the patient's track.
async fn patient_integrity(
    c: &reqwest::Client,
    gw: &Gateway,
    key: &str,
    id: &str,
    patient: &str,
) -> Value {
    let shown: Value = c
        .get(format!("{}/v1/recordings/{id}", gw.url))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    shown["integrity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["track"] == patient)
        .unwrap()
        .clone()
}
