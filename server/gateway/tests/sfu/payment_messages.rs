//! The `payment` signalling message: every change of a payment bound to a room reaches the
//! room's agents and supervisors as the masked document `GET /v1/payments/{id}` shows;
//! patients, other rooms and other tenants' rooms with the same name get nothing.

use std::time::Duration;

use serde_json::json;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_supervisors_of_the_room_get_every_change_patients_none() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let (_o, other_key) = gw.tenant("other-clinic").await;
    let mut agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let mut sup = bot(&gw, token(&gw, &key, "sup-1", "call-1", "supervisor").await).await;
    let mut patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "call-1", "patient").await,
    )
    .await;
    // The same room name in another tenant, and another room of this tenant.
    let mut stranger = bot(
        &gw,
        token(&gw, &other_key, "agent-9", "call-1", "agent").await,
    )
    .await;
    let mut neighbour = bot(&gw, token(&gw, &key, "agent-8", "call-2", "agent").await).await;

    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 1500, "currency": "USD", "reference": "visit-1",
               "mode": "charge", "method": "keypad", "room": "call-1"}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let wait = Duration::from_secs(5);
    for b in [&mut agent, &mut sup] {
        let got = next_payment(b, wait).await.expect("the creation");
        assert_eq!(got, payment, "the message is the created document");
    }
    let (status, captured) = payment_command(
        &gw,
        &key,
        &id,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, cancelled) = payment_command(&gw, &key, &id, "cancel", None).await;
    assert_eq!(status, 200);
    for b in [&mut agent, &mut sup] {
        let got = next_payment(b, wait).await.expect("the capture");
        assert_eq!(got, captured["payment"]);
        assert_eq!(got["state"], "collecting");
        let got = next_payment(b, wait).await.expect("the cancel");
        assert_eq!(got, cancelled["payment"]);
        assert_eq!(got["state"], "cancelled");
    }
    // Card-form payments have no room: nobody's signalling gets them.
    create_payment(
        &gw,
        &key,
        json!({"amount": 1, "currency": "USD", "reference": "x",
               "mode": "tokenize", "method": "card-form"}),
    )
    .await;
    let quiet = Duration::from_millis(300);
    for b in [&mut patient, &mut stranger, &mut neighbour, &mut agent] {
        assert_eq!(next_payment(b, quiet).await, None);
    }
    for b in [agent, sup, patient, stranger, neighbour] {
        b.leave().await;
    }
    assert_released(&gw).await;
}
