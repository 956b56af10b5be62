//! Three nodes, one room: the patient signals to node-1, the agent to node-2 (redirected to
//! the room's node), a keypad payment is made through node-3's API and driven through
//! node-3 and node-2; keyed by the patient, masked on the agent's leg, completed where the
//! digits are. The room's recording window closed before node-3 acknowledged the payment and
//! reopened after it ended.

use std::time::Duration;

use hushpay_bots::{Bot, Key};
use hushpay_media::Digit;
use serde_json::{Value, json};

use crate::common::cards::{tracer_cvc, tracer_pan};
use crate::harness::{drained, multimon, rms, sensitive_hits, silence, speech, tone};
use crate::nodes::{Cluster, join};

/// One key every 460 ms, 100 ms long; even positions in-band, odd ones RFC 4733.
pub async fn key_in(patient: &Bot, digits: &str) -> Vec<i16> {
    let mut pcm = silence(200);
    let mut keys = Vec::new();
    for (i, c) in digits.chars().enumerate() {
        let at = (pcm.len() / 48) as u64;
        if i % 2 == 0 && c.is_ascii_digit() {
            pcm.extend(tone(c, 100.0));
            pcm.extend(silence(360));
        } else {
            keys.push(Key {
                digit: Digit::from_char(c).unwrap(),
                at_ms: at,
                ms: 100,
            });
            pcm.extend(silence(460));
        }
    }
    pcm.extend(silence(400));
    patient.play(&pcm, &keys).await.unwrap();
    pcm
}

pub fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Polls `GET /v1/payments/{id}` on node `i` until `done` holds (10 s).
pub async fn payment_until(
    cluster: &Cluster,
    i: usize,
    id: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, v) = cluster.get(i, &format!("/v1/payments/{id}")).await;
        if done(&v["payment"]) {
            return v["payment"].clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{what}: {v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_one_room_and_a_keypad_payment_made_through_the_third() {
    let cluster = Cluster::start("cluster3", 3).await;
    let room = "visit-42";
    let patient = join(&cluster, 1, "patient-1", room, "patient").await;
    let mut agent = join(&cluster, 2, "agent-7", room, "agent").await;

    // One room, on node-1, and every node says so.
    for i in 1..=3 {
        let (status, view) = cluster.get(i, &format!("/v1/rooms/{room}")).await;
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["node"], "node-1", "node-{i}: {view}");
        assert_eq!(view["participants"].as_array().unwrap().len(), 2, "{view}");
    }

    // They hear each other.
    let hello = speech("Hello, this is the clinic's billing office.");
    tokio::join!(async { patient.play(&hello, &[]).await.unwrap() }, async {
        agent.play(&hello, &[]).await.unwrap()
    });
    drained(&agent).await;
    drained(&patient).await;
    let (a, p) = (agent.recording(), patient.recording());
    eprintln!(
        "agent heard {} samples rms {:.0}; patient heard {} rms {:.0}; sent {}",
        a.len(),
        rms(&a),
        p.len(),
        rms(&p),
        hello.len()
    );
    assert!(
        rms(&agent.recording()) > 300.0,
        "the agent hears the patient"
    );
    assert!(
        rms(&patient.recording()) > 300.0,
        "the patient hears the agent"
    );
    let heard_before = agent.recording().len();

    // A keypad payment through node-3's API: acknowledged only once node-1 closed the window.
    let (status, created) = cluster
        .post(
            3,
            "/v1/payments",
            Some(
                json!({"amount": 2500, "currency": "USD", "reference": "visit-42",
                "mode": "charge", "method": "keypad", "room": room,
                "required_fields": ["payment-card-number", "expiration-date", "security-code"]}),
            ),
        )
        .await;
    let acked_at = unix_ms();
    assert_eq!(status, 201, "{created}");
    let id = created["payment"]["id"].as_str().unwrap().to_owned();

    let pan = tracer_pan();
    let cvc = tracer_cvc();
    let mut sent = Vec::new();
    let keying_started = unix_ms();
    for (n, (field, digits)) in [
        ("payment-card-number", format!("{pan}#")),
        ("expiration-date", "1230".to_owned()),
        ("security-code", format!("{cvc}#")),
    ]
    .into_iter()
    .enumerate()
    {
        // Agent commands through node-3 and node-2: neither holds the room.
        let via = if n % 2 == 0 { 3 } else { 2 };
        let (code, body) = cluster
            .post(
                via,
                &format!("/v1/payments/{id}/capture"),
                Some(json!({"field": field})),
            )
            .await;
        assert_eq!(code, 200, "{body}");
        sent.extend(key_in(&patient, &digits).await);
        payment_until(&cluster, 2, &id, field, |p| {
            p["fields"].as_array().is_some_and(|f| {
                f.iter()
                    .any(|f| f["field"] == field && f["status"] == "captured")
            })
        })
        .await;
    }
    let keying_ended = unix_ms();
    // Completed through node-3: it runs where the digits were keyed.
    let (code, done) = cluster
        .post(3, &format!("/v1/payments/{id}/complete"), None)
        .await;
    assert_eq!(code, 200, "{done}");
    assert_eq!(done["payment"]["state"], "succeeded", "{done}");
    assert_eq!(done["payment"]["card"]["last4"], &pan[12..]);

    // The agent saw the payment, and heard no digit of it.
    drained(&agent).await;
    let heard = agent.recording();
    assert!(
        heard.len() > heard_before,
        "the agent kept getting the patient's stream"
    );
    assert!(
        multimon(&sent).len() >= 10,
        "control: multimon-ng hears what was sent"
    );
    assert_eq!(multimon(&heard), "", "no digit on the agent's leg");
    assert_eq!(
        sensitive_hits(&heard[heard_before..]),
        0,
        "no tone energy on the agent's leg"
    );
    let mut saw_payment = false;
    while let Ok(m) = agent.events.try_recv() {
        let text = serde_json::to_string(&m).unwrap();
        assert!(!text.contains(&pan), "an agent message carries the PAN");
        saw_payment |= text.contains(&id);
    }
    assert!(saw_payment, "the payment reached the agent on node-1");

    agent.leave().await;
    patient.leave().await;

    // The recording (any node lists it): paused for the payment from before node-3's 201 to
    // after the payment ended.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let rec = loop {
        let (_, list) = cluster.get(2, &format!("/v1/recordings?room={room}")).await;
        if let Some(id) = list["recordings"][0]["id"].as_str() {
            let (_, rec) = cluster.get(3, &format!("/v1/recordings/{id}")).await;
            if rec["ended_ms"].is_number() {
                break rec;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no finished recording: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(rec["signature_valid"], true, "{rec}");
    let started = rec["started_at_unix_ms"].as_i64().unwrap();
    let reason = format!("payment:{id}");
    let pause = rec["pauses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["reason"] == reason.as_str())
        .unwrap_or_else(|| panic!("no pause for the payment: {rec}"))
        .clone();
    let from = started + pause["from_ms"].as_i64().unwrap();
    let to = started + pause["to_ms"].as_i64().expect("the window reopened");
    assert!(
        from <= acked_at,
        "the window closed before the 201 ({from} > {acked_at})"
    );
    assert!(acked_at <= keying_started);
    assert!(
        to >= keying_ended,
        "the window reopened after the keying ({to} < {keying_ended})"
    );
}
