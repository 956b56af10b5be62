//! NATS stops while a call runs: no payment is acknowledged for the room (through the room's
//! node or another), and the room's node stops recording it (an audited pause); when NATS is
//! back, payments are taken again and the recording resumes.

use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{silence, speech};
use crate::nodes::{Cluster, join};

fn keypad(room: &str) -> Value {
    json!({"amount": 500, "currency": "USD", "reference": "visit-9", "mode": "charge", "method": "keypad",
        "room": room, "required_fields": ["payment-card-number", "expiration-date"]})
}

/// The audit actions (with resource) recorded so far, oldest first.
async fn audit(cluster: &Cluster) -> Vec<String> {
    let rows = cluster.schema.table_contents().await.unwrap();
    rows.into_iter()
        .filter(|(t, _)| t == "audit_log")
        .flat_map(|(_, text)| text.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect()
}

/// Rows in the payments table.
async fn payments(cluster: &Cluster) -> usize {
    let rows = cluster.schema.table_contents().await.unwrap();
    rows.into_iter()
        .filter(|(t, _)| t == "payments")
        .map(|(_, text)| text.lines().filter(|l| !l.is_empty()).count())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_bus_no_payment_is_taken_and_recording_pauses_until_it_returns() {
    let mut cluster = Cluster::start("clusterbus", 2).await;
    let room = "visit-9";
    let patient = join(&cluster, 1, "patient-1", room, "patient").await;
    let agent = join(&cluster, 2, "agent-7", room, "agent").await;
    patient.play(&speech("Good morning."), &[]).await.unwrap();

    cluster.nats.stop();
    // Both nodes notice (their connections drop at once).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while cluster
        .client
        .get(cluster.url(1, "/readyz"))
        .send()
        .await
        .unwrap()
        .status()
        != 503
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node-1 still ready without NATS"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for via in [1, 2] {
        let (status, body) = cluster.post(via, "/v1/payments", Some(keypad(room))).await;
        assert_eq!(status, 503, "through node-{via}: {body}");
        assert_eq!(body["error"]["code"], "room_unreachable", "{body}");
    }
    // The call goes on (media needs no bus), unrecorded.
    patient
        .play(&speech("Can you still hear me?"), &[])
        .await
        .unwrap();
    let paused = audit(&cluster).await;
    assert!(
        paused.iter().any(|l| l.contains("recording.pause")),
        "the pause is audited: {paused:?}"
    );
    assert_eq!(payments(&cluster).await, 0, "nothing was created");

    cluster.nats.restart();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = cluster.post(2, "/v1/payments", Some(keypad(room))).await;
        if status == 201 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no payment after NATS returned: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !audit(&cluster)
        .await
        .iter()
        .any(|l| l.contains("recording.resume"))
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the resume is not audited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    patient.play(&silence(200), &[]).await.unwrap();
    agent.leave().await;
    patient.leave().await;

    // The recording shows the outage as a pause with its reason.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (_, list) = cluster.get(2, &format!("/v1/recordings?room={room}")).await;
        let pauses = list["recordings"][0]["pauses"].to_string();
        if pauses.contains("cluster-unavailable") {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no outage pause: {list}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
