//! Keypad payments: an agent asks for fields; digits from the collector go through the
//! payment service (what the SFU's digit collector calls); the agent sees masked progress
//! and completes.

use hushpay::payments::keypad::KeyedDigits;
use hushpay_vault::Actor;
use hushpay_vault::payment::Field;
use serde_json::{Value, json};

use crate::common::cards::tracer_pan;
use crate::common::{TestGateway, assert_error};
use crate::{body, command, created, participant, show};

fn keypad_actor() -> Actor {
    Actor {
        who: "keypad".into(),
        request_id: String::new(),
    }
}

pub(crate) async fn key_in(gw: &TestGateway, id: &str, field: Field, digits: &str) -> Value {
    let payments = &gw.state.payments;
    for n in 1..=digits.len() {
        payments
            .keypad_progress(&keypad_actor(), id, field, n as u8)
            .await
            .unwrap();
    }
    let d = KeyedDigits::from_ascii(digits.as_bytes()).unwrap();
    let loaded = payments
        .submit_keypad_field(&keypad_actor(), id, field, d)
        .await
        .unwrap();
    serde_json::to_value(&loaded.payment).unwrap()
}

#[tokio::test]
async fn an_agent_collects_a_keypad_payment_and_sees_masked_progress_only() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let agent = participant(&gw, &key, "agent-7", "intake-42", "agent").await;
    let (payment, secret) = created(&gw, &agent, &body("keypad", "charge")).await;
    assert!(secret.is_none(), "keypad payments have no client secret");
    assert_eq!(payment["room"], "intake-42");
    assert_eq!(payment["created_by"], "agent:agent-7");
    let id = payment["id"].as_str().unwrap();
    let pan = tracer_pan();

    let cap = |f: &str| command(&gw, id, &agent, "capture", Some(json!({ "field": f })));
    let p: Value = cap("payment-card-number").await.json().await.unwrap();
    assert_eq!(p["payment"]["state"], "collecting");
    // Progress: lengths only.
    gw.state
        .payments
        .keypad_progress(&keypad_actor(), id, Field::PaymentCardNumber, 6)
        .await
        .unwrap();
    let seen: Value = show(&gw, id, &agent).await.json().await.unwrap();
    assert_eq!(seen["payment"]["fields"][0]["length"], 6);
    assert_eq!(seen["payment"]["fields"][0]["status"], "collecting");

    // A bad card number counts an attempt and is asked again.
    let bad = key_in(&gw, id, Field::PaymentCardNumber, "4242424242424241").await;
    assert_eq!(bad["failed_attempts"], 1);
    assert_eq!(bad["error"], "invalid-card-number");
    assert_eq!(bad["fields"][0]["status"], "pending");

    // Re-ask and key the real card.
    let p: Value = command(
        &gw,
        id,
        &agent,
        "re-ask",
        Some(json!({"field": "payment-card-number"})),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(p["payment"]["fields"][0]["status"], "collecting");
    let p = key_in(&gw, id, Field::PaymentCardNumber, &pan).await;
    assert_eq!(p["fields"][0]["status"], "captured");
    assert_eq!(
        (
            p["fields"][0]["length"].as_u64(),
            p["fields"][0]["valid"].as_bool()
        ),
        (Some(16), Some(true))
    );
    assert_eq!(p["fields"][0]["brand"], "visa");
    assert!(
        !p.to_string().contains(&pan[..6]),
        "no digits in the payment"
    );

    // Completing before every field is in is refused.
    assert_error(
        command(&gw, id, &agent, "complete", None).await,
        409,
        "invalid_state",
    )
    .await;
    cap("expiration-date").await;
    key_in(&gw, id, Field::ExpirationDate, "1233").await;
    cap("security-code").await;
    let p = key_in(&gw, id, Field::SecurityCode, "468").await;
    assert_eq!(p["state"], "ready");
    assert_eq!(gw.state.payments.keypad_held(), 1);

    let done: Value = command(&gw, id, &agent, "complete", None)
        .await
        .json()
        .await
        .unwrap();
    let all = done.clone();
    let done = &done["payment"];
    assert_eq!(done["state"], "succeeded", "{all}");
    assert_eq!(done["card"]["last4"], &pan[12..]);
    assert_eq!(
        (
            done["card"]["exp_month"].as_u64(),
            done["card"]["exp_year"].as_u64()
        ),
        (Some(12), Some(2033))
    );
    assert_eq!(
        gw.state.payments.keypad_held(),
        0,
        "digits are wiped after completion"
    );
    assert_error(
        command(&gw, id, &agent, "cancel", None).await,
        409,
        "invalid_state",
    )
    .await;
}

#[tokio::test]
async fn cancelling_a_keypad_payment_wipes_its_digits_and_the_audit_chain_holds() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let mut b = body("keypad", "charge");
    b["room"] = json!("r1");
    let (payment, _) = created(&gw, &key, &b).await;
    let id = payment["id"].as_str().unwrap();
    command(
        &gw,
        id,
        &key,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    key_in(&gw, id, Field::PaymentCardNumber, &tracer_pan()).await;
    assert_eq!(gw.state.payments.keypad_held(), 1);
    let p: Value = command(&gw, id, &key, "cancel", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p["payment"]["state"], "cancelled");
    assert_eq!(gw.state.payments.keypad_held(), 0);
    let report = hushpay_vault::audit::verify(gw.state.store.as_ref())
        .await
        .unwrap();
    assert_eq!(report.problem, None);
    let entries = gw.state.store.audit_entries(0, 100).await.unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "payment.create",
        "payment.capture",
        "payment.progress",
        "payment.captured",
        "payment.cancel",
    ] {
        assert!(actions.contains(&a), "{a} audited: {actions:?}");
    }
    assert!(
        entries
            .iter()
            .all(|e| e.tenant.is_some() && !e.actor.is_empty())
    );
}
