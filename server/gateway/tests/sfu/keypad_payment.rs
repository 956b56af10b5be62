//! Keypad payments through the room, end to end over real WebRTC: the agent requests a keypad
//! payment and captures each field; the patient bot keys a card (in-band tones and RFC 4733
//! events mixed); the masker in secure mode hands the digits to the collector, the collector
//! to the payment service; the payment succeeds with the right last4. The agent's leg carries
//! no digit (multimon-ng, the sensitive detector), the agent's messages no card number, and
//! the room records no digit while secure. Cancelling mid-field leaves secure mode.

use std::time::Duration;

use hushpay::sfu::room::Room;
use hushpay_bots::{Bot, Key};
use hushpay_media::Digit;
use hushpay_vault::payment::{Field, FieldProgress, State};
use serde_json::json;

use crate::common::TestGateway;
use crate::common::cards::{tracer_cvc, tracer_pan};
use crate::harness::*;

/// One key every 450 ms (beyond the masker's 300 ms merge window), 100 ms long.
const SLOT_MS: u64 = 460;

/// Keys `digits` on `patient`: even positions as in-band tones, odd ones (and `#`) as RFC 4733
/// events. Returns the audio sent (the events' slots are silence in it).
async fn key_in(patient: &Bot, digits: &str) -> Vec<i16> {
    let mut pcm = silence(200);
    let mut keys = Vec::new();
    for (i, c) in digits.chars().enumerate() {
        let at = (pcm.len() / 48) as u64;
        if i % 2 == 0 && c.is_ascii_digit() {
            pcm.extend(tone(c, 100.0));
            pcm.extend(silence((SLOT_MS - 100) as usize));
        } else {
            keys.push(Key {
                digit: Digit::from_char(c).unwrap(),
                at_ms: at,
                ms: 100,
            });
            pcm.extend(silence(SLOT_MS as usize));
        }
    }
    pcm.extend(silence(400));
    patient.play(&pcm, &keys).await.unwrap();
    pcm
}

async fn status(gw: &TestGateway, id: &str) -> hushpay_vault::payment::Payment {
    gw.state.payments.load(id).await.unwrap().payment
}

/// Waits until `field` of payment `id` is captured.
async fn captured(gw: &TestGateway, id: &str, field: Field) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let p = status(gw, id).await;
        if p.field(field)
            .is_some_and(|f| f.status == FieldProgress::Captured)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} not captured: {:?} {:?}",
            field.name(),
            p.fields,
            p.error
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn the_room(gw: &TestGateway) -> std::sync::Arc<Room> {
    gw.state
        .sfu
        .rooms
        .all()
        .into_iter()
        .next()
        .expect("the room")
}

/// Every message `bot` got so far, as JSON text.
fn messages(bot: &mut Bot) -> Vec<String> {
    let mut out = Vec::new();
    while let Ok(m) = bot.events.try_recv() {
        out.push(serde_json::to_string(&m).unwrap());
    }
    out
}

/// The card number in the forms a leak could take.
fn pan_forms(pan: &str) -> Vec<String> {
    let groups: Vec<&str> = (0..4).map(|i| &pan[i * 4..i * 4 + 4]).collect();
    vec![
        pan.to_owned(),
        pan[..12].to_owned(),
        groups.join(" "),
        groups.join("-"),
        pan.chars().map(|c| format!("{c},")).collect(),
        pan.chars()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(","),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keypad_payment_is_keyed_in_the_room_and_the_agent_hears_no_digit() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let mut agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "call-1", "patient").await,
    )
    .await;
    // The patient is publishing before the payment (the stream switches to secure mode).
    patient.play(&silence(300), &[]).await.unwrap();
    let room = the_room(&gw);
    assert!(!room.secure.is_active());

    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 2500, "currency": "USD", "reference": "visit-9",
               "mode": "charge", "method": "keypad", "room": "call-1",
               "required_fields": ["payment-card-number", "expiration-date", "security-code"]}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    // Secure mode before the first field is asked.
    assert!(
        eventually(Duration::from_secs(5), || room.secure.is_active()).await,
        "the room enters secure mode when the keypad payment is created"
    );

    let pan = tracer_pan();
    let cvc = tracer_cvc();
    let mut sent = Vec::new();
    for (field, name, digits) in [
        (
            Field::PaymentCardNumber,
            "payment-card-number",
            format!("{pan}#"),
        ),
        (Field::ExpirationDate, "expiration-date", "1230".to_owned()),
        (Field::SecurityCode, "security-code", format!("{cvc}#")),
    ] {
        let (code, body) =
            payment_command(&gw, &key, &id, "capture", Some(json!({ "field": name }))).await;
        assert_eq!(code, 200, "{body}");
        sent.extend(key_in(&patient, &digits).await);
        captured(&gw, &id, field).await;
    }
    let p = status(&gw, &id).await;
    assert_eq!(p.state, State::Ready);
    let (code, done) = payment_command(&gw, &key, &id, "complete", None).await;
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["payment"]["state"], "succeeded", "{done}");
    assert_eq!(done["payment"]["card"]["last4"], &pan[12..]);
    assert_eq!(done["payment"]["card"]["brand"], "visa");
    assert!(
        eventually(Duration::from_secs(5), || !room.secure.is_active()).await,
        "the room leaves secure mode when the payment ends"
    );
    drained(&agent).await;

    // Nothing the agent heard has a digit; the control finds them in what was sent.
    let heard = agent.recording();
    assert!(
        heard.len() > sent.len() / 2,
        "the agent got the patient's stream"
    );
    assert!(
        multimon(&sent).len() >= 10,
        "control: multimon-ng hears the in-band half: {}",
        multimon(&sent)
    );
    assert!(
        sensitive_hits(&sent) > 0,
        "control: the detector flags the tones"
    );
    assert_eq!(multimon(&heard), "", "no digit on the agent's leg");
    assert_eq!(
        sensitive_hits(&heard),
        0,
        "no tone energy on the agent's leg"
    );
    assert_eq!(
        room.digits_keyed(),
        0,
        "no digit reaches the room's count while secure"
    );

    // The agent saw masked progress, and no message carries the card number.
    let msgs = messages(&mut agent);
    let progress: Vec<u64> = msgs
        .iter()
        .filter_map(|m| {
            let v: serde_json::Value = serde_json::from_str(m).ok()?;
            (v["type"] == "payment" && v["payment"]["state"] == "collecting")
                .then(|| v["payment"]["fields"][0]["length"].as_u64())
                .flatten()
        })
        .collect();
    assert!(
        (1..=16).all(|n| progress.contains(&n)),
        "the agent saw the card number's length grow: {progress:?}"
    );
    for form in pan_forms(&pan) {
        for m in &msgs {
            assert!(
                !m.contains(&form),
                "an agent message carries the PAN ({form})"
            );
        }
    }
    assert_eq!(
        gw.state.payments.keypad_held(),
        0,
        "no digits held after the end"
    );
    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_mid_field_leaves_secure_mode() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 100, "currency": "USD", "reference": "visit-2",
               "mode": "tokenize", "method": "keypad", "room": "call-1"}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let room = the_room(&gw);
    assert!(eventually(Duration::from_secs(5), || room.secure.is_active()).await);
    let (code, _) = payment_command(
        &gw,
        &key,
        &id,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    assert_eq!(code, 200);
    // The patient joins after the field was asked: its stream starts in secure mode.
    let patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "call-1", "patient").await,
    )
    .await;
    let partial = tracer_pan();
    key_in(&patient, &partial[..6]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while status(&gw, &id).await.fields[0].length < 6 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "progress reached 6 digits"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (code, body) = payment_command(&gw, &key, &id, "cancel", None).await;
    assert_eq!(code, 200);
    assert_eq!(body["payment"]["state"], "cancelled");
    assert!(
        eventually(Duration::from_secs(5), || !room.secure.is_active()).await,
        "cancel leaves secure mode"
    );
    // Outside secure mode again: keys are the room's ordinary counted keys, the card
    // digits keyed before are nowhere.
    tokio::time::sleep(Duration::from_millis(200)).await;
    key_in(&patient, "47").await;
    assert!(
        eventually(Duration::from_secs(5), || room.digits_keyed() == 2).await,
        "keys after the payment are counted normally: {}",
        room.digits_keyed()
    );
    drained(&agent).await;
    assert_eq!(multimon(&agent.recording()), "");
    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_keypad_payment_expires_without_a_read_and_leaves_secure_mode() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let mut agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 100, "currency": "USD", "reference": "visit-3",
               "mode": "tokenize", "method": "keypad", "room": "call-1", "timeout": 30}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let room = the_room(&gw);
    assert!(eventually(Duration::from_secs(5), || room.secure.is_active()).await);
    let (code, _) = payment_command(
        &gw,
        &key,
        &id,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    assert_eq!(code, 200);
    // Nobody reads the payment: the agent hears of its expiry from the change stream.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    let expired = loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        let Some(p) = next_payment(&mut agent, left).await else {
            break None;
        };
        if p["state"] == "expired" {
            break Some(p);
        }
    };
    let expired = expired.expect("the payment expired within 40 s of its creation");
    assert_eq!(expired["id"], id.as_str());
    assert_eq!(expired["result"], "input-timeout");
    assert!(
        eventually(Duration::from_secs(5), || !room.secure.is_active()).await,
        "expiry leaves secure mode"
    );
    agent.leave().await;
    assert_released(&gw).await;
}

/// Waits until `cond` holds for payment `id` (read from the store).
async fn until(
    gw: &TestGateway,
    id: &str,
    what: &str,
    cond: impl Fn(&hushpay_vault::payment::Payment) -> bool,
) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let p = status(gw, id).await;
        if cond(&p) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: {:?} {:?}",
            p.fields,
            p.error
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_short_entry_is_a_failed_attempt_and_a_re_ask_restarts_the_field() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let _agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "call-1", "patient").await,
    )
    .await;
    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 100, "currency": "USD", "reference": "visit-4",
               "mode": "tokenize", "method": "keypad", "room": "call-1",
               "required_fields": ["payment-card-number", "expiration-date"]}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let field = |name: &str| Some(json!({ "field": name }));
    let (code, _) = payment_command(&gw, &key, &id, "capture", field("payment-card-number")).await;
    assert_eq!(code, 200);
    // '#' after 4 digits: refused, a failed attempt, the field back to pending.
    key_in(&patient, "4242#").await;
    until(&gw, &id, "the short entry is refused", |p| {
        p.failed_attempts == 1 && p.fields[0].status == FieldProgress::Pending
    })
    .await;
    assert_eq!(
        status(&gw, &id).await.error.as_deref(),
        Some("invalid-card-number")
    );
    // Keys while nothing is asked go nowhere (the room stays secure).
    key_in(&patient, "99").await;
    assert_eq!(gw.state.sfu.rooms.all()[0].digits_keyed(), 0);

    // Asked again: 5 digits, then a re-ask wipes them; the full number is all that counts.
    let (code, _) = payment_command(&gw, &key, &id, "capture", field("payment-card-number")).await;
    assert_eq!(code, 200);
    key_in(&patient, "55555").await;
    until(&gw, &id, "5 digits keyed", |p| p.fields[0].length == 5).await;
    let (code, body) =
        payment_command(&gw, &key, &id, "re-ask", field("payment-card-number")).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["payment"]["fields"][0]["length"], 0);
    let pan = tracer_pan();
    key_in(&patient, &format!("{pan}#")).await;
    captured(&gw, &id, Field::PaymentCardNumber).await;
    let (code, _) = payment_command(&gw, &key, &id, "capture", field("expiration-date")).await;
    assert_eq!(code, 200);
    key_in(&patient, "1230").await;
    captured(&gw, &id, Field::ExpirationDate).await;
    let (code, done) = payment_command(&gw, &key, &id, "complete", None).await;
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["payment"]["state"], "succeeded");
    assert_eq!(done["payment"]["card"]["last4"], &pan[12..]);
    assert_eq!(done["payment"]["failed_attempts"], 1);
}
