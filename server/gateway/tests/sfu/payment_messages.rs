//! The `payment` signalling message: every change of a payment bound to a room reaches the
//! room's agents and supervisors that may see it over HTTP (`canRequestPayment`) as the masked
//! document `GET /v1/payments/{id}` shows; patients, staff without the grant, other rooms and
//! other tenants' rooms with the same name get nothing.

use std::time::Duration;

use serde_json::json;

use crate::harness::*;

/// A supervisor token that may follow payments (`canRequestPayment` besides its defaults).
async fn payment_supervisor(
    gw: &crate::common::TestGateway,
    key: &str,
    id: &str,
    room: &str,
) -> String {
    token_with_grants(
        gw,
        key,
        id,
        room,
        "supervisor",
        json!({"canSubscribe": true, "canChat": true, "canViewRecordings": true,
               "canRequestPayment": true}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_supervisors_of_the_room_get_every_change_patients_none() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let (_o, other_key) = gw.tenant("other-clinic").await;
    let mut agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let mut sup = bot(&gw, payment_supervisor(&gw, &key, "sup-1", "call-1").await).await;
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

/// Issue 12, point 7: `payment` messages follow the same rule as `GET /v1/payments/{id}`
/// (`payments::access::Viewer::may_see`). A supervisor with its default grants and an agent
/// minted without `canRequestPayment` are refused over HTTP (403 `wrong_payment`) and, over
/// real WebRTC signalling, get no `payment` message either, while an agent and a supervisor
/// with the grant get every change. Before the fix every agent and supervisor of the room got
/// them, so the quiet ones failed here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payment_messages_need_the_grant_that_http_needs() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let room = "call-grants";
    let agent_token = token(&gw, &key, "agent-1", room, "agent").await;
    let plain_sup_token = token(&gw, &key, "sup-plain", room, "supervisor").await;
    let bare_agent_token = token_with_grants(
        &gw,
        &key,
        "agent-bare",
        room,
        "agent",
        json!({"canPublish": true, "canSubscribe": true, "canChat": true}),
    )
    .await;
    let mut agent = bot(&gw, agent_token).await;
    let mut sup = bot(&gw, payment_supervisor(&gw, &key, "sup-pay", room).await).await;
    let mut plain_sup = bot(&gw, plain_sup_token.clone()).await;
    let mut bare_agent = bot(&gw, bare_agent_token.clone()).await;

    let payment = create_payment(
        &gw,
        &key,
        json!({"amount": 1500, "currency": "USD", "reference": "visit-2",
               "mode": "charge", "method": "keypad", "room": room}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    let (status, cancelled) = payment_command(&gw, &key, &id, "cancel", None).await;
    assert_eq!(status, 200);
    let wait = Duration::from_secs(5);
    for b in [&mut agent, &mut sup] {
        assert_eq!(next_payment(b, wait).await.as_ref(), Some(&payment));
        assert_eq!(
            next_payment(b, wait).await,
            Some(cancelled["payment"].clone())
        );
    }
    // Over HTTP the two without the grant are refused ...
    for t in [&plain_sup_token, &bare_agent_token] {
        let resp = gw
            .client
            .get(gw.url(&format!("/v1/payments/{id}")))
            .bearer_auth(t)
            .send()
            .await
            .unwrap();
        crate::common::assert_error(resp, 403, "wrong_payment").await;
    }
    // ... and their signalling carried neither change (the others got both by now).
    for b in [&mut plain_sup, &mut bare_agent] {
        assert_eq!(next_payment(b, Duration::from_millis(300)).await, None);
        assert!(
            !b.raw_frames()
                .iter()
                .any(|f| f.contains(r#""type":"payment""#)),
            "no raw `payment` frame either"
        );
    }
    for b in [agent, sup, plain_sup, bare_agent] {
        b.leave().await;
    }
    assert_released(&gw).await;
}
