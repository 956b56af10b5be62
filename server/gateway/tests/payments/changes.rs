//! The payment change stream: one change after every persisted change of any payment (all
//! methods, creation and field progress included), with the state before it.

use std::time::Duration;

use hushpay::payments::PaymentChange;
use hushpay_vault::Actor;
use hushpay_vault::payment::{Field, State};
use serde_json::json;
use tokio::sync::broadcast::Receiver;

use crate::common::TestGateway;
use crate::{body, command, created, show};

async fn next(rx: &mut Receiver<PaymentChange>) -> PaymentChange {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a change within 5 s")
        .expect("the stream is open")
}

fn steps(changes: &[PaymentChange]) -> Vec<(State, State)> {
    changes
        .iter()
        .map(|c| (c.before, c.payment.state))
        .collect()
}

#[tokio::test]
async fn every_persisted_change_is_sent_with_the_state_before_it() {
    let gw = TestGateway::start(&[]).await;
    let (tenant, key) = gw.tenant("clinic").await;
    let mut rx = gw.state.payments.subscribe_changes();
    let mut b = body("keypad", "charge");
    b["room"] = json!("r1");
    let (payment, _) = created(&gw, &key, &b).await;
    let id = payment["id"].as_str().unwrap();
    let capture = json!({"field": "payment-card-number"});
    command(&gw, id, &key, "capture", Some(capture)).await;
    let actor = Actor {
        who: "keypad".into(),
        request_id: String::new(),
    };
    gw.state
        .payments
        .keypad_progress(&actor, id, Field::PaymentCardNumber, 3)
        .await
        .unwrap();
    let cancelled = command(&gw, id, &key, "cancel", None).await;
    assert_eq!(cancelled.status(), 200);

    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(next(&mut rx).await);
    }
    assert_eq!(
        steps(&got),
        [
            (State::Requested, State::Requested),
            (State::Requested, State::Collecting),
            (State::Collecting, State::Collecting),
            (State::Collecting, State::Cancelled),
        ]
    );
    assert!(got.iter().all(|c| c.tenant == tenant.id.as_str()));
    assert!(got.iter().all(|c| c.payment.id == id));
    assert_eq!(
        got[2].payment.fields[0].length, 3,
        "field progress is a change"
    );
    assert!(got[1].entered(State::Collecting) && !got[2].entered(State::Collecting));
    assert!(got[3].ended() && !got[2].ended());
    // The change is the document GET shows.
    let shown: serde_json::Value = show(&gw, id, &key).await.json().await.unwrap();
    assert_eq!(
        shown["payment"],
        serde_json::to_value(&got[3].payment).unwrap()
    );

    // Refused commands change nothing and send nothing; other methods send too.
    let again = command(&gw, id, &key, "cancel", None).await;
    assert_eq!(again.status(), 409);
    let (form, _) = created(&gw, &key, &body("card-form", "tokenize")).await;
    let c = next(&mut rx).await;
    assert_eq!(c.payment.id, form["id"].as_str().unwrap());
    assert_eq!(
        (c.before, c.payment.state),
        (State::Requested, State::Requested)
    );
    assert!(rx.try_recv().is_err(), "nothing else was sent");
}

#[tokio::test]
async fn an_idempotent_replay_sends_no_change() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let mut rx = gw.state.payments.subscribe_changes();
    let b = body("card-form", "charge");
    for _ in 0..2 {
        let resp = crate::create(&gw, &key, "same-key", &b).await;
        assert!(resp.status().is_success());
    }
    next(&mut rx).await;
    assert!(rx.try_recv().is_err(), "the replay changed nothing");
}
