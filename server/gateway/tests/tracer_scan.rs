//! Tracer scan of payments: unique test card numbers and CVCs go through every input path —
//! the tenant backend (`POST /v1/tokens`), the card form and the link page (sealed cards,
//! accepted, declined and refused), and keypad digits (through the payment service, as the
//! room's digit collector hands them over) — then every byte the gateway wrote is searched
//! with `hushpay_card::leak_scan` (plain, separated, UTF-16, JSON-escaped, URL-encoded,
//! base64, hex): the SQLite database with its WAL, the binary's stdout and stderr at debug
//! level, and the webhook bodies the example receiver captured. Hits must be 0; a planted
//! tracer (positive control) is found.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestGateway;
use common::cards::{files_under, luhn_number, seal};
use common::receiver::Receiver;
use hushpay::payments::keypad::KeyedDigits;
use hushpay_card::leak_scan::{self, Net, Tracers};
use hushpay_vault::Actor;
use hushpay_vault::payment::Field;
use rand::Rng;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_hushpay");

/// A 4-digit CVC: a `0`, then three of the digits 7-9. Rare in timestamps, ports and ids,
/// and never a number as programs print one (no leading zero). A CVC of four digits 7-9
/// once matched, standing alone, at one place of a SQLite page (rewritten 18 times in the
/// WAL) in a CI rehearsal under heavy load, and in none of 60 runs here: a stored number
/// such as a time in milliseconds is the likely coincidence. A hit is a leak, not chance.
fn tracer_cvc() -> String {
    let mut rng = rand::thread_rng();
    std::iter::once('0')
        .chain((0..3).map(|_| char::from(b'7' + rng.gen_range(0..3u8))))
        .collect()
}

/// A fresh Amex number (4-digit CVC).
fn tracer_amex() -> String {
    luhn_number("37", 15)
}

/// Hits of `tracers` in `bytes`, labelled with `what`.
///
/// A 4-digit CVC, and a Luhn-valid digit run of the generic net, also occur by chance inside
/// identifiers (hex audit hashes, base62 token and payment ids, request ids): such a hit in
/// a textual form next to an ASCII letter or digit is that coincidence and is not counted.
/// A leaked CVC sits between quotes, `=`, `:` or spaces, so it still counts, as do its hex,
/// base64 and UTF-16 forms; card-number tracers (unique, 15 digits) count in every form.
fn hits(tracers: &Tracers, what: &str, bytes: &[u8]) -> Vec<String> {
    // The scanner already counts a short tracer (the CVC) only where it stands alone; a
    // Luhn-valid run glued to a letter is part of an identifier, not a card number.
    let in_identifier = |i: usize| {
        i.checked_sub(1)
            .and_then(|i| bytes.get(i))
            .is_some_and(u8::is_ascii_alphanumeric)
    };
    leak_scan::scan(tracers, bytes, Net::KnownBrands)
        .into_iter()
        .filter(|h| !(h.form == leak_scan::Form::LuhnRun && in_identifier(h.offset)))
        .map(|h| format!("{what}: {h:?}"))
        .collect()
}

struct Gateway {
    child: Child,
    url: String,
    api_key: String,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_binary(dir: &Path) -> Gateway {
    let stdout = std::fs::File::create(dir.join("stdout.log")).unwrap();
    let stderr = std::fs::File::create(dir.join("stderr.log")).unwrap();
    let child = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .env("HUSHPAY_LOG", "debug")
        .env(
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        )
        .env("HUSHPAY__WEBHOOKS__RETRY_BASE_SECS", "1")
        .env("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50")
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::from(stderr))
        .spawn()
        .unwrap();
    // Owned by `Gateway` at once, so a failed start is still killed and reaped.
    let mut gw = Gateway {
        child,
        url: String::new(),
        api_key: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let out = std::fs::read_to_string(dir.join("stdout.log")).unwrap_or_default();
        let url = out
            .lines()
            .find_map(|l| l.strip_prefix("Hushpay listening on "));
        let key = out
            .lines()
            .find_map(|l| l.strip_prefix("Demo tenant API key (shown once, store it now): "));
        if let (Some(url), Some(key)) = (url, key) {
            gw.url = url.trim().to_owned();
            gw.api_key = key.trim().to_owned();
            return gw;
        }
        assert!(Instant::now() < deadline, "gateway did not start: {out}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn create_payment(c: &reqwest::Client, gw: &Gateway, method: &str, extra: Value) -> Value {
    let mut body = json!({"amount": 5000, "currency": "USD", "reference": "tracer", "mode": "charge", "method": method});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    c.post(format!("{}/v1/payments", gw.url))
        .bearer_auth(&gw.api_key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sealed_card_paths_leave_no_trace_in_the_database_logs_or_webhooks() {
    let dir = tempfile::tempdir().unwrap();
    let gw = start_binary(dir.path());
    let c = reqwest::Client::new();
    let (out, secret_file) = (dir.path().join("webhooks.jsonl"), dir.path().join("whsec"));
    let receiver = Receiver::start(&out, &secret_file, 0);
    let created: Value = c
        .post(format!("{}/v1/webhooks", gw.url))
        .bearer_auth(&gw.api_key)
        .json(&json!({ "url": receiver.url() }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    std::fs::write(&secret_file, created["secret"].as_str().unwrap()).unwrap();

    let pk: Value = c
        .get(format!("{}/v1/vault/public-key", gw.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = pk["kid"].as_str().unwrap().to_owned();
    let public = hushpay_card::sealed::RecipientPublicKey::from_base64url(
        pk["public_key"].as_str().unwrap(),
    )
    .unwrap();

    let mut tracers = Tracers::new();
    let mut expected_events = 0;
    // Card form, link page, and a refused card (brand not allowed), each with its own tracer.
    for (i, (method, extra, ok)) in [
        ("card-form", json!({}), true),
        ("link", json!({}), true),
        ("card-form", json!({"allowed_brands": ["visa"]}), false),
    ]
    .into_iter()
    .enumerate()
    {
        let (pan, cvc) = (tracer_amex(), tracer_cvc());
        tracers.add(&format!("pan-{method}-{i}"), &pan).unwrap();
        tracers.add(&format!("cvc-{method}-{i}"), &cvc).unwrap();
        let p = create_payment(&c, &gw, method, extra).await;
        let id = p["payment"]["id"].as_str().unwrap();
        let tenant = p["payment"]["tenant"].as_str().unwrap();
        let sealed = seal(&public, &kid, tenant, id, &pan, Some(&cvc), Some("94107"));
        let r = c
            .post(format!("{}/v1/payments/{id}/card", gw.url))
            .bearer_auth(p["client_secret"].as_str().unwrap())
            .json(&json!({ "sealed": sealed }))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(status, if ok { 200 } else { 422 }, "{text}");
        assert!(hits(&tracers, "response", text.as_bytes()).is_empty());
        expected_events += if ok { 2 } else { 0 };
    }
    // Issue 17: an authorization captured in part and refunded (refund rows, the relay's
    // operations, payment.captured and refund.succeeded are scanned too).
    {
        let (pan, cvc) = (tracer_amex(), tracer_cvc());
        tracers.add("pan-authorize", &pan).unwrap();
        tracers.add("cvc-authorize", &cvc).unwrap();
        let p = create_payment(&c, &gw, "card-form", json!({"mode": "authorize"})).await;
        let id = p["payment"]["id"].as_str().unwrap();
        let tenant = p["payment"]["tenant"].as_str().unwrap();
        let sealed = seal(&public, &kid, tenant, id, &pan, Some(&cvc), None);
        let r = c
            .post(format!("{}/v1/payments/{id}/card", gw.url))
            .bearer_auth(p["client_secret"].as_str().unwrap())
            .json(&json!({ "sealed": sealed }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        for (path, body, status) in [
            ("capture-funds", json!({"amount": 3000}), 200),
            (
                "refunds",
                json!({"amount": 1000, "reason": "duplicate"}),
                201,
            ),
        ] {
            let r = c
                .post(format!("{}/v1/payments/{id}/{path}", gw.url))
                .bearer_auth(&gw.api_key)
                .header("idempotency-key", uuid::Uuid::new_v4().to_string())
                .json(&body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), status, "{path}");
            let text = r.text().await.unwrap();
            assert!(hits(&tracers, "response", text.as_bytes()).is_empty());
        }
        // token.created, payment.succeeded (authorized), payment.captured, refund.succeeded.
        expected_events += 4;
    }
    // Tenant backend tokens.
    for i in 0..2 {
        let (pan, cvc) = (tracer_amex(), tracer_cvc());
        tracers.add(&format!("pan-token-{i}"), &pan).unwrap();
        tracers.add(&format!("cvc-token-{i}"), &cvc).unwrap();
        let tenant = create_payment(&c, &gw, "card-form", json!({})).await["payment"]["tenant"]
            .as_str()
            .unwrap()
            .to_owned();
        let sealed = seal(
            &public,
            &kid,
            &tenant,
            "backend-session",
            &pan,
            Some(&cvc),
            None,
        );
        let r = c
            .post(format!("{}/v1/tokens", gw.url))
            .bearer_auth(&gw.api_key)
            .json(&json!({ "sealed": sealed, "session": "backend-session" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        expected_events += 1;
    }

    // Wait for every webhook event, then stop the gateway so its files are final.
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::fs::read_to_string(&out)
        .unwrap_or_default()
        .lines()
        .count()
        < expected_events
    {
        assert!(Instant::now() < deadline, "webhooks not delivered");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(gw);

    let mut found = Vec::new();
    let mut scanned = Vec::new();
    for f in files_under(dir.path()) {
        let bytes = std::fs::read(&f).unwrap();
        found.extend(hits(&tracers, &f.display().to_string(), &bytes));
        scanned.push(f.file_name().unwrap().to_string_lossy().into_owned());
    }
    for must in [
        "hushpay.db",
        "hushpay.db-wal",
        "stdout.log",
        "stderr.log",
        "webhooks.jsonl",
    ] {
        assert!(
            scanned.iter().any(|s| s == must),
            "{must} scanned: {scanned:?}"
        );
    }
    let stderr = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap();
    assert!(
        stderr.contains("DEBUG"),
        "logs were captured at debug level"
    );
    assert!(found.is_empty(), "tracer hits: {found:?}");

    // Positive control: a tracer planted in each form is found.
    use base64::Engine;
    let pan = tracer_amex();
    let mut control = Tracers::new();
    control.add("planted", &pan).unwrap();
    let spaced: String = pan.chars().flat_map(|ch| [ch, ' ']).collect();
    let utf16: Vec<u8> = pan.encode_utf16().flat_map(u16::to_le_bytes).collect();
    let cvc = tracer_cvc();
    control.add("cvc-planted", &cvc).unwrap();
    let in_json = format!("{{\"cvc\":\"{cvc}\"}} cvc={cvc} tok_Xq{cvc}");
    assert_eq!(
        hits(&control, "control", in_json.as_bytes()).len(),
        2,
        "quoted and `=` count, inside an identifier does not"
    );
    for planted in [
        pan.clone().into_bytes(),
        spaced.into_bytes(),
        utf16,
        base64::engine::general_purpose::STANDARD
            .encode(format!("x{pan}"))
            .into_bytes(),
        hex::encode(&pan).into_bytes(),
        pan.chars()
            .map(|ch| format!("\\u{:04x}", ch as u32))
            .collect::<String>()
            .into_bytes(),
    ] {
        assert!(!hits(&control, "control", &planted).is_empty());
    }
}

#[tokio::test]
async fn keypad_digits_leave_no_trace_in_the_database_or_logs() {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Sink(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let sink = Sink::default();
    let writer = sink.clone();
    let _guard = tracing::subscriber::set_default(
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(move || writer.clone())
            .finish(),
    );
    let gw = TestGateway::start(&[("HUSHPAY__STORE", "sqlite")]).await;
    let (_t, key) = gw.tenant("keypad").await;
    let mut tracers = Tracers::new();
    let actor = Actor {
        who: "keypad".into(),
        request_id: String::new(),
    };
    let payments = &gw.state.payments;
    for (i, valid) in [true, false].into_iter().enumerate() {
        let (pan, cvc) = (tracer_amex(), tracer_cvc());
        let bad_pan = format!("{}{}", &pan[..14], (pan.as_bytes()[14] - b'0' + 1) % 10);
        let keyed = if valid { pan.clone() } else { bad_pan.clone() };
        tracers.add(&format!("pan-{i}"), &pan).unwrap();
        tracers.add(&format!("cvc-{i}"), &cvc).unwrap();
        let r = gw.client.post(gw.url("/v1/payments")).bearer_auth(&key).header("idempotency-key", format!("kp-{i}"))
            .json(&json!({"amount": 100, "currency": "USD", "reference": "kp", "mode": "charge", "method": "keypad", "room": "r"}))
            .send().await.unwrap();
        let id = r.json::<Value>().await.unwrap()["payment"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        for (field, digits) in [
            (Field::PaymentCardNumber, keyed.as_str()),
            (Field::ExpirationDate, "0930"),
            (Field::SecurityCode, cvc.as_str()),
        ] {
            let loaded = payments.load(&id).await.unwrap();
            payments
                .capture_field(&actor, &loaded, field)
                .await
                .unwrap();
            payments
                .keypad_progress(&actor, &id, field, 1)
                .await
                .unwrap();
            let d = KeyedDigits::from_ascii(digits.as_bytes()).unwrap();
            let after = payments
                .submit_keypad_field(&actor, &id, field, d)
                .await
                .unwrap();
            if !valid {
                assert_eq!(after.payment.error.as_deref(), Some("invalid-card-number"));
                break;
            }
        }
        if valid {
            let loaded = payments.load(&id).await.unwrap();
            let done = payments.complete(&actor, &loaded).await.unwrap();
            assert_eq!(done.payment.card.unwrap().last4, &pan[11..]);
        }
    }
    let mut found = Vec::new();
    for f in files_under(&gw.state.config.data_dir) {
        found.extend(hits(
            &tracers,
            &f.display().to_string(),
            &std::fs::read(&f).unwrap(),
        ));
    }
    let logs = sink.0.lock().unwrap().clone();
    assert!(!logs.is_empty(), "logs were captured");
    found.extend(hits(&tracers, "logs", &logs));
    assert!(found.is_empty(), "tracer hits: {found:?}");
}

/// A recorded call with a keypad payment in the middle: the patient keys the tracer card
/// number and CVC in-band (DTMF) while the payment collects, the digits go to the payment
/// service as the room's digit collector hands them over, and the call goes on after it.
/// Every recording file is scanned raw, and decrypted (each track's header and every packet
/// payload, the signed metadata, and the exported WAV): 0 hits, with a positive control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_call_with_a_payment_leaves_no_trace_in_the_recording_raw_or_decrypted() {
    use hushpay::recording::{export, files};
    use hushpay_bots::{Bot, BotConfig};

    let gw = TestGateway::start(&[
        ("HUSHPAY__STORE", "sqlite"),
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
        ("HUSHPAY__RECORDING__ENABLED", "true"),
        ("HUSHPAY__RECORDING__CHUNK_MS", "300"),
    ])
    .await;
    let (tenant, key) = gw.tenant("recorded").await;
    let room = "tracer-room";
    let connect = |identity: &'static str, role: &'static str| {
        let gw = &gw;
        let key = key.clone();
        async move {
            let resp = gw
                .mint(
                    &key,
                    json!({"identity": identity, "room": room, "role": role}),
                )
                .await;
            let token = resp.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_owned();
            Bot::connect(BotConfig {
                url: format!("ws://{}/v1/rtc", gw.addr),
                token,
                media_ip: [127, 0, 0, 1].into(),
                keep_payloads: false,
            })
            .await
            .unwrap()
        }
    };
    let agent = connect("agent-1", "agent").await;
    let patient = connect("patient-1", "patient").await;
    let voice: Vec<i16> = (0..48_000)
        .map(|i| ((f64::from(i) * 0.037).sin() * 5000.0) as i16)
        .collect();
    let (pan, cvc) = (tracer_amex(), tracer_cvc());
    let mut tracers = Tracers::new();
    tracers.add("pan", &pan).unwrap();
    tracers.add("cvc", &cvc).unwrap();
    // One continuous stream (a second `play` would restart the RTP sequence): voice, a gap
    // in which the payment opens, every digit keyed in-band, a gap, voice.
    let gap = 800usize;
    let mut pcm = voice.clone();
    let open_at = (pcm.len() / 48 + gap / 2) as u64;
    pcm.extend(std::iter::repeat_n(0i16, gap * 48));
    for ch in format!("{pan}0930{cvc}").chars() {
        let d = hushpay_media::Digit::from_char(ch).unwrap();
        hushpay_media::signal::TonePair::new(d, -10.0, 80.0).append(48_000, &mut pcm);
        pcm.extend(std::iter::repeat_n(0i16, 80 * 48));
    }
    let close_at = (pcm.len() / 48 + gap / 2) as u64;
    pcm.extend(std::iter::repeat_n(0i16, gap * 48));
    pcm.extend(&voice);
    let patient = std::sync::Arc::new(patient);
    let player = std::sync::Arc::clone(&patient);
    let agent_voice = voice.clone();
    let t0 = tokio::time::Instant::now();
    let playing = tokio::spawn(async move { player.play(&pcm, &[]).await.map(|_| ()) });
    let agent = std::sync::Arc::new(agent);
    let agent_player = std::sync::Arc::clone(&agent);
    let agent_playing =
        tokio::spawn(async move { agent_player.play(&agent_voice, &[]).await.map(|_| ()) });

    tokio::time::sleep_until(t0 + Duration::from_millis(open_at)).await;
    let r = gw
        .client
        .post(gw.url("/v1/payments"))
        .bearer_auth(&key)
        .header("idempotency-key", "rec-tracer")
        .json(&json!({"amount": 100, "currency": "USD", "reference": "rec", "mode": "charge", "method": "keypad", "room": room}))
        .send()
        .await
        .unwrap();
    let id = r.json::<Value>().await.unwrap()["payment"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    tokio::time::sleep_until(t0 + Duration::from_millis(close_at)).await;
    // The room's digit collector hands the keyed fields over.
    let actor = Actor {
        who: "keypad".into(),
        request_id: String::new(),
    };
    let payments = &gw.state.payments;
    for (field, digits) in [
        (Field::PaymentCardNumber, pan.as_str()),
        (Field::ExpirationDate, "0930"),
        (Field::SecurityCode, cvc.as_str()),
    ] {
        let loaded = payments.load(&id).await.unwrap();
        payments
            .capture_field(&actor, &loaded, field)
            .await
            .unwrap();
        payments
            .keypad_progress(&actor, &id, field, 1)
            .await
            .unwrap();
        let d = KeyedDigits::from_ascii(digits.as_bytes()).unwrap();
        payments
            .submit_keypad_field(&actor, &id, field, d)
            .await
            .unwrap();
    }
    let loaded = payments.load(&id).await.unwrap();
    let done = payments.complete(&actor, &loaded).await.unwrap();
    assert_eq!(done.payment.card.unwrap().last4, &pan[11..]);
    playing.await.unwrap().unwrap();
    agent_playing.await.unwrap().unwrap();
    let (Ok(agent), Ok(patient)) = (
        std::sync::Arc::try_unwrap(agent),
        std::sync::Arc::try_unwrap(patient),
    ) else {
        panic!("bots still shared");
    };
    agent.leave().await;
    patient.leave().await;

    // The recording finishes when the room closes.
    let root = gw.state.recorder.config().dir.clone();
    let t = tenant.id.as_str().to_owned();
    let deadline = Instant::now() + Duration::from_secs(10);
    let rec_id = loop {
        let ids = files::recording_ids(&root, &t).await.unwrap();
        if let Some(id) = ids.first()
            && let Ok((m, true)) = export::metadata(&gw.state.recorder, &t, id).await
            && m.metadata.ended_ms.is_some()
            && m.metadata.tracks.iter().all(|t| t.chunks.is_some())
        {
            break id.clone();
        }
        assert!(Instant::now() < deadline, "the recording did not finish");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut found = Vec::new();
    let recording_files = files_under(&root);
    assert!(
        recording_files.len() >= 3,
        "metadata and two tracks: {recording_files:?}"
    );
    for f in &recording_files {
        found.extend(hits(
            &tracers,
            &format!("raw {}", f.display()),
            &std::fs::read(f).unwrap(),
        ));
    }
    let decrypted = export::decrypt(&gw.state.recorder, &t, &rec_id)
        .await
        .unwrap();
    assert_eq!(decrypted.tracks.len(), 2);
    let mut plain = Vec::new();
    for (info, track) in &decrypted.tracks {
        assert!(track.truncated.is_none());
        assert!(
            track.packets.len() > 30,
            "{}: {}",
            info.track,
            track.packets.len()
        );
        plain.extend(serde_json::to_vec(&track.header).unwrap());
        for p in &track.packets {
            plain.extend_from_slice(&p.payload);
        }
    }
    plain.extend(serde_json::to_vec(&decrypted.metadata).unwrap());
    found.extend(hits(&tracers, "decrypted tracks and metadata", &plain));
    let wav = export::wav(&export::channels(&decrypted, false));
    found.extend(hits(&tracers, "exported wav", &wav));
    assert!(found.is_empty(), "tracer hits: {found:?}");
    assert_eq!(
        decrypted.metadata.pauses.len(),
        1,
        "{:?}",
        decrypted.metadata.pauses
    );
    assert_eq!(decrypted.metadata.pauses[0].reason, format!("payment:{id}"));
    // Positive control: the same scan finds the tracer planted in the decrypted bytes.
    let mut planted = plain.clone();
    planted.extend_from_slice(format!("\"{pan}\"").as_bytes());
    assert!(!hits(&tracers, "control", &planted).is_empty());
}
