//! Shared helpers: a gateway with a short empty-room grace, tokens, bots, audio, leak checks.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hushpay_bots::{Bot, BotConfig};
use hushpay_media::resample::resample;

use crate::common::TestGateway;

pub async fn gateway() -> TestGateway {
    TestGateway::start(&[("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150")]).await
}

pub fn ws_url(gw: &TestGateway) -> String {
    format!("ws://{}/v1/rtc", gw.addr)
}

/// Mints a participant token over HTTP.
pub async fn token(gw: &TestGateway, key: &str, identity: &str, room: &str, role: &str) -> String {
    let resp = gw
        .mint(
            key,
            serde_json::json!({"identity": identity, "room": room, "role": role}),
        )
        .await;
    assert_eq!(resp.status(), 201, "mint");
    let body: serde_json::Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

/// Mints a participant token with explicit `grants` (camelCase names; absent means false).
pub async fn token_with_grants(
    gw: &TestGateway,
    key: &str,
    identity: &str,
    room: &str,
    role: &str,
    grants: serde_json::Value,
) -> String {
    let resp = gw
        .mint(
            key,
            serde_json::json!({"identity": identity, "room": room, "role": role, "grants": grants}),
        )
        .await;
    assert_eq!(resp.status(), 201, "mint");
    let body: serde_json::Value = resp.json().await.unwrap();
    body["token"].as_str().unwrap().to_owned()
}

pub async fn bot(gw: &TestGateway, token: String) -> Bot {
    Bot::connect(BotConfig {
        url: ws_url(gw),
        token,
        media_ip: [127, 0, 0, 1].into(),
        keep_payloads: true,
    })
    .await
    .expect("bot connects")
}

/// Polls `cond` every 20 ms until it holds or `within` passes.
pub async fn eventually(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The chat incidents in the audit log, oldest first.
pub async fn chat_incidents(gw: &TestGateway) -> Vec<hushpay_store::AuditRecord> {
    gw.state
        .store
        .audit_entries(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == hushpay::sfu::transcript::CHAT_INCIDENT_ACTION)
        .collect()
}

/// Waits until nothing is left of the gateway's rooms and SFU tasks.
pub async fn assert_released(gw: &TestGateway) {
    let sfu = &gw.state.sfu;
    let ok = eventually(Duration::from_secs(5), || {
        sfu.rooms.count() == 0 && sfu.live_tasks() == 0
    })
    .await;
    assert!(
        ok,
        "rooms {} and SFU tasks {} return to zero",
        sfu.rooms.count(),
        sfu.live_tasks()
    );
    assert_eq!(sfu.participant_count(), 0);
}

/// Speech from espeak-ng at 48 kHz.
pub fn speech(text: &str) -> Vec<i16> {
    let out = Command::new("espeak-ng")
        .args(["-v", "en-us", "-s", "160", "--stdout", text])
        .output()
        .expect("espeak-ng is required (scripts/setup.sh installs it)");
    let wav = hushpay_media::wav::Wav::parse(&out.stdout).expect("espeak-ng WAV");
    resample(&wav.samples, wav.rate, 48_000)
}

/// A DTMF tone pair at -10 dBm0 per tone, 48 kHz.
pub fn tone(digit: char, ms: f32) -> Vec<i16> {
    let d = hushpay_media::Digit::from_char(digit).unwrap();
    let mut pcm = Vec::new();
    hushpay_media::signal::TonePair::new(d, -10.0, ms).append(48_000, &mut pcm);
    pcm
}

pub fn silence(ms: usize) -> Vec<i16> {
    vec![0; ms * 48]
}

pub fn rms(pcm: &[i16]) -> f64 {
    if pcm.is_empty() {
        return 0.0;
    }
    (pcm.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / pcm.len() as f64).sqrt()
}

/// `multimon-ng -a DTMF` over 48 kHz audio: the digits it reports.
pub fn multimon(pcm48: &[i16]) -> String {
    let audio = resample(pcm48, 48_000, 22_050);
    let mut child = Command::new("multimon-ng")
        .args(["-q", "-a", "DTMF", "-t", "raw", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("multimon-ng is required (scripts/setup.sh installs it)");
    let mut bytes = Vec::with_capacity(audio.len() * 2 + 44_100);
    for s in &audio {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    bytes.extend(std::iter::repeat_n(0u8, 44_100));
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("DTMF: "))
        .map(str::trim)
        .collect()
}

/// 10 ms windows the sensitive leak detector (flagger, secure-mode thresholds) marks.
pub fn sensitive_hits(pcm48: &[i16]) -> usize {
    use hushpay_media::flagger::{Flagger, FlaggerConfig, HOP, WINDOW};
    let pcm8 = resample(pcm48, 48_000, 8_000);
    let f = Flagger::new(FlaggerConfig::secure());
    let x: Vec<f32> = pcm8.iter().map(|&s| f32::from(s)).collect();
    if x.len() < WINDOW {
        return 0;
    }
    (0..=x.len() - WINDOW)
        .step_by(HOP)
        .filter(|&i| f.window_flags(&x[i..i + WINDOW]))
        .count()
}

/// Waits until `bot` has received nothing for 300 ms (its stream drained).
pub async fn drained(bot: &Bot) {
    eventually(Duration::from_secs(5), || {
        bot.last_packet_at()
            .is_some_and(|t| t.elapsed() > Duration::from_millis(300))
    })
    .await;
}

pub fn hit_positions(pcm48: &[i16]) -> Vec<usize> {
    use hushpay_media::flagger::{Flagger, FlaggerConfig, HOP, WINDOW};
    let pcm8 = resample(pcm48, 48_000, 8_000);
    let f = Flagger::new(FlaggerConfig::secure());
    let x: Vec<f32> = pcm8.iter().map(|&s| f32::from(s)).collect();
    (0..=x.len().saturating_sub(WINDOW))
        .step_by(HOP)
        .filter(|&i| f.window_flags(&x[i..i + WINDOW]))
        .map(|i| i / 8)
        .collect()
}

/// `pcm` (48 kHz) through the bot's Opus encoder and a decoder: what a listener gets when
/// nothing is masked.
pub fn opus_roundtrip(pcm48: &[i16]) -> Vec<i16> {
    use hushpay_media::opus_codec::{Decoder, Encoder};
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    let mut dec = Decoder::new(48_000).unwrap();
    let mut out = Vec::with_capacity(pcm48.len());
    for f in pcm48.chunks(960) {
        let mut frame = f.to_vec();
        frame.resize(960, 0);
        dec.decode_into(&enc.encode(&frame).unwrap(), &mut out)
            .unwrap();
    }
    out
}

/// The next `payment` signalling message `bot` got within `within`, as JSON (other frames
/// are skipped).
pub async fn next_payment(bot: &mut Bot, within: Duration) -> Option<serde_json::Value> {
    use hushpay::sfu::signal::ServerMessage;
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, bot.events.recv()).await {
            Ok(Some(ServerMessage::Payment { payment })) => {
                return Some(serde_json::to_value(&payment).unwrap());
            }
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return None,
        }
    }
}

/// `POST /v1/payments` (fresh Idempotency-Key) with `credential`; the created payment.
pub async fn create_payment(
    gw: &TestGateway,
    credential: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let resp = gw
        .client
        .post(gw.url("/v1/payments"))
        .bearer_auth(credential)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let v: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v["payment"].clone()
}

/// A keypad payment of `amount` cents in room `room` asking for the card number and expiry
/// date, its card number asked for at once (the agent's `capture`): its id.
pub async fn keypad_payment_capturing_the_card(
    gw: &TestGateway,
    credential: &str,
    room: &str,
    amount: u64,
) -> String {
    let payment = create_payment(
        gw,
        credential,
        serde_json::json!({"amount": amount, "currency": "USD", "reference": "visit",
               "mode": "charge", "method": "keypad", "room": room,
               "required_fields": ["payment-card-number", "expiration-date"]}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let field = serde_json::json!({"field": "payment-card-number"});
    let (code, body) = payment_command(gw, credential, &id, "capture", Some(field)).await;
    assert_eq!(code, 200, "{body}");
    id
}

/// Waits up to `wait` for payment `id` to have its card number captured; the payment then.
pub async fn card_number_captured(
    gw: &TestGateway,
    id: &str,
    wait: Duration,
) -> hushpay_vault::payment::Payment {
    use hushpay_vault::payment::{Field, FieldProgress};
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let p = gw.state.payments.load(id).await.unwrap().payment;
        if p.field(Field::PaymentCardNumber).map(|f| f.status) == Some(FieldProgress::Captured) {
            return p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "card number not captured: {:?} {:?}",
            p.fields,
            p.error
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `POST /v1/payments/{id}/{command}` with an optional body; (status, JSON).
pub async fn payment_command(
    gw: &TestGateway,
    credential: &str,
    id: &str,
    command: &str,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut req = gw
        .client
        .post(gw.url(&format!("/v1/payments/{id}/{command}")))
        .bearer_auth(credential);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}
