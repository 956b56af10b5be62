//! The node holding a room is killed (SIGKILL) with a keypad payment half keyed: the payment
//! fails `node_lost` (surviving nodes notice the node's lease lapse), nothing of the card
//! reached the database, the participants rejoin on a surviving node where the room is placed
//! again, and the recording the dead node wrote so far is still listed and verifies.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::cards::tracer_pan;
use crate::harness::speech;
use crate::nodes::{Cluster, join};
use crate::three_nodes::{key_in, payment_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_node_fails_its_open_payment_node_lost_and_its_room_is_placed_again() {
    let mut cluster = Cluster::start("clusterkill", 2).await;
    let room = "visit-7";
    let patient = join(&cluster, 1, "patient-1", room, "patient").await;
    let agent = join(&cluster, 2, "agent-7", room, "agent").await;
    let (_, view) = cluster.get(2, &format!("/v1/rooms/{room}")).await;
    assert_eq!(view["node"], "node-1", "{view}");
    // Recorded on node-1 before the payment.
    patient
        .play(&speech("I would like to pay my bill."), &[])
        .await
        .unwrap();

    let (status, created) = cluster
        .post(
            2,
            "/v1/payments",
            Some(json!({"amount": 900, "currency": "USD", "reference": "visit-7", "mode": "charge", "method": "keypad",
                "room": room, "required_fields": ["payment-card-number", "expiration-date"]})),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["payment"]["id"].as_str().unwrap().to_owned();
    let (code, body) = cluster
        .post(
            2,
            &format!("/v1/payments/{id}/capture"),
            Some(json!({"field": "payment-card-number"})),
        )
        .await;
    assert_eq!(code, 200, "{body}");
    let pan = tracer_pan();
    key_in(&patient, &pan[..8]).await;
    payment_until(&cluster, 2, &id, "half the card number keyed", |p| {
        p["fields"][0]["length"].as_u64().is_some_and(|n| n >= 6)
    })
    .await;

    let killed = Instant::now();
    cluster.kill(1);
    drop(patient);
    drop(agent);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let failed = loop {
        let (_, v) = cluster.get(2, &format!("/v1/payments/{id}")).await;
        if v["payment"]["state"] == "failed" {
            break v["payment"].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not failed: {v}\n{}",
            cluster.stderr(2)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let noticed = killed.elapsed();
    assert_eq!(failed["error"], "node_lost", "{failed}");
    assert_eq!(failed["result"], "node-lost", "{failed}");
    eprintln!("payment failed node_lost {noticed:?} after the kill (lease 2 s)");

    // Nothing of the card in the database (the digits were held on the dead node only).
    for (table, rows) in cluster.schema.table_contents().await.unwrap() {
        assert!(!rows.contains(&pan[..8]), "keyed digits in table {table}");
    }

    // The participants come back through node-2: the room is placed there now.
    let patient = join(&cluster, 2, "patient-1", room, "patient").await;
    let agent = join(&cluster, 2, "agent-7", room, "agent").await;
    let (_, view) = cluster.get(2, &format!("/v1/rooms/{room}")).await;
    assert_eq!(view["node"], "node-2", "{view}");
    assert_eq!(view["participants"].as_array().unwrap().len(), 2, "{view}");
    patient
        .play(&speech("Sorry, we were cut off."), &[])
        .await
        .unwrap();
    agent.leave().await;
    patient.leave().await;

    // What node-1 recorded before it died is listed and verifies (cut short, and said so).
    let (_, list) = cluster.get(2, &format!("/v1/recordings?room={room}")).await;
    let recs = list["recordings"].as_array().unwrap();
    assert!(recs.len() >= 2, "node-1's and node-2's recordings: {list}");
    let oldest = recs.last().unwrap()["id"].as_str().unwrap();
    let (status, rec) = cluster.get(2, &format!("/v1/recordings/{oldest}")).await;
    assert_eq!(status, 200, "{rec}");
    assert_eq!(rec["signature_valid"], true, "{rec}");
    assert!(rec["ended_ms"].is_null(), "it never ended: {rec}");
    let tracks = rec["integrity"].as_array().unwrap();
    assert!(!tracks.is_empty(), "{rec}");
    for t in tracks {
        assert_eq!(t["status"], "truncated", "cut short and reported so: {rec}");
    }
}
