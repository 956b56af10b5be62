//! What runs in the room runs on the room's node, whichever node the API request reached: a
//! card-form payment made through node-2 is offered to the patient on node-1 (with its client
//! secret, as on a single node), and an IVR payment made through node-2 starts the IVR on
//! node-1 (the patient hears its prompts).

use std::time::Duration;

use hushpay::sfu::signal::ServerMessage;
use serde_json::json;

use crate::harness::{drained, rms, silence};
use crate::nodes::{Cluster, join};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offers_and_the_ivr_run_on_the_rooms_node() {
    let cluster = Cluster::start("clusteroffer", 2).await;
    let room = "visit-3";
    let mut patient = join(&cluster, 1, "patient-1", room, "patient").await;
    patient.play(&silence(300), &[]).await.unwrap();

    let (status, created) = cluster
        .post(
            2,
            "/v1/payments",
            Some(
                json!({"amount": 1200, "currency": "USD", "reference": "visit-3",
                "mode": "charge", "method": "card-form", "room": room}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["offered"]["patients"], 1, "{created}");
    let id = created["payment"]["id"].as_str().unwrap().to_owned();
    let secret = created["client_secret"].as_str().unwrap().to_owned();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        match tokio::time::timeout_at(deadline, patient.events.recv()).await {
            Ok(Some(ServerMessage::PaymentRequested {
                payment,
                client_secret,
            })) if payment.id == id => {
                assert_eq!(client_secret.as_deref(), Some(secret.as_str()));
                break;
            }
            Ok(Some(_)) => continue,
            other => panic!("no payment_requested on node-1: {other:?}"),
        }
    }
    let (code, body) = cluster
        .post(2, &format!("/v1/payments/{id}/cancel"), None)
        .await;
    assert_eq!(code, 200, "{body}");

    let before = patient.recording().len();
    let (status, created) = cluster
        .post(
            2,
            "/v1/payments",
            Some(
                json!({"amount": 4250, "currency": "USD", "reference": "visit-3",
                "mode": "charge", "method": "ivr", "room": room}),
            ),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let id = created["payment"]["id"].as_str().unwrap().to_owned();
    crate::three_nodes::payment_until(&cluster, 2, &id, "the IVR asks for the card", |p| {
        p["state"] == "collecting"
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    drained(&patient).await;
    let heard = patient.recording();
    assert!(
        rms(&heard[before..]) > 100.0,
        "the patient hears the IVR's prompts"
    );
    let (code, body) = cluster
        .post(2, &format!("/v1/payments/{id}/cancel"), None)
        .await;
    assert_eq!(code, 200, "{body}");
}
