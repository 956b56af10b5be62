//! The IVR flow (payment method `ivr`) against the real payment service and vault, with a
//! scripted call standing in for the room's media (the WebRTC path is tested in tests/sfu):
//! what the patient hears (prompt names, in order), what the payment records, and the result
//! of each documented path: success, invalid entries, brand not allowed, `*`, timeouts,
//! hang-up, declined card, confirmation refused.

use std::collections::VecDeque;
use std::time::Duration;

use hushpay::ivr::call::{Entry, IvrCall, Key};
use hushpay::ivr::flow::{Ended, IvrSettings, run};
use hushpay::payments::keypad::KeyedDigits;
use hushpay_vault::Actor;
use hushpay_vault::payment::{Field, PayResult, State};
use hushpay_vault::payment::{Method, Mode, PaymentRequest};
use serde_json::{Value, json};

use crate::common::TestGateway;
use crate::{body, command, created, participant};

/// What the scripted patient does when asked for a field.
#[derive(Debug, Clone, Copy)]
enum Does {
    Keys(&'static str),
    Star,
    Short,
    Nothing,
    HangsUp,
}

#[derive(Default)]
struct Scripted {
    entries: VecDeque<Does>,
    keys: VecDeque<Key>,
    /// Every batch of prompts played, in order.
    heard: Vec<Vec<&'static str>>,
    asked: Vec<Field>,
    handed_back: bool,
}

impl Scripted {
    fn new(entries: &[Does], keys: &[Key]) -> Self {
        Self {
            entries: entries.iter().copied().collect(),
            keys: keys.iter().copied().collect(),
            ..Self::default()
        }
    }

    fn heard(&self) -> Vec<&'static str> {
        self.heard.concat()
    }
}

impl IvrCall for Scripted {
    async fn collect(&mut self, field: Field, prompts: &[&'static str], _: Duration) -> Entry {
        self.heard.push(prompts.to_vec());
        self.asked.push(field);
        match self.entries.pop_front().unwrap_or(Does::HangsUp) {
            Does::Keys(d) => Entry::Digits(KeyedDigits::from_ascii(d.as_bytes()).unwrap()),
            Does::Star => Entry::Restarted,
            Does::Short => Entry::TooShort,
            Does::Nothing => Entry::TimedOut,
            Does::HangsUp => Entry::HungUp,
        }
    }

    async fn key(&mut self, prompts: &[&'static str], _: Duration) -> Key {
        self.heard.push(prompts.to_vec());
        self.keys.pop_front().unwrap_or(Key::HungUp)
    }

    async fn say(&mut self, prompts: &[&'static str]) -> bool {
        self.heard.push(prompts.to_vec());
        true
    }

    async fn hand_back(&mut self) {
        assert!(!self.handed_back, "handed back once");
        self.handed_back = true;
    }
}

const CARD: Does = Does::Keys("4242424242424242");
const EXPIRY: Does = Does::Keys("1230");
const CVC: Does = Does::Keys("123");
const YES: Key = Key::Pressed('1');

/// The body of `POST /v1/payments` (as the route reads it).
#[derive(serde::Deserialize)]
struct CreatePayment {
    amount: u64,
    currency: String,
    reference: String,
    mode: Mode,
    method: Method,
    required_fields: Option<Vec<Field>>,
    allowed_brands: Option<Vec<String>>,
    attempts: Option<u8>,
    timeout: Option<u32>,
}

/// Creates an `ivr` payment bound to `room` through the payment service, as agent
/// `identity`. (Over HTTP an `ivr` payment needs the room's patient connected with audio and
/// starts the room's IVR at once: tests/sfu/ivr_payment.rs; here a scripted call runs it.)
async fn service_created(
    gw: &TestGateway,
    tenant: &hushpay_store::TenantId,
    identity: &str,
    room: &str,
    body: &Value,
) -> Value {
    let b: CreatePayment = serde_json::from_value(body.clone()).unwrap();
    let request = PaymentRequest {
        amount: b.amount,
        currency: b.currency,
        reference: b.reference,
        mode: b.mode,
        method: b.method,
        required_fields: b.required_fields,
        allowed_brands: b.allowed_brands,
        attempts: b.attempts,
        timeout_secs: b.timeout,
        room: Some(room.to_owned()),
        hand_off: None,
        locale: None,
    };
    let actor = Actor {
        who: format!("agent:{identity}"),
        request_id: String::new(),
    };
    let key = uuid::Uuid::new_v4().to_string();
    let created = gw
        .state
        .payments
        .create(&actor, tenant, request, &key)
        .await
        .unwrap();
    assert!(created.client_secret.is_none());
    serde_json::to_value(&created.payment).unwrap()
}

/// An agent's `ivr` payment of 42.00 USD in room `intake-9`; returns its id.
async fn ivr_payment(gw: &TestGateway, extra: Value) -> String {
    let (t, _key) = gw
        .tenant(&format!("c{}", uuid::Uuid::new_v4().simple()))
        .await;
    let mut b = body("ivr", "charge");
    for (k, v) in extra.as_object().unwrap() {
        b[k] = v.clone();
    }
    let payment = service_created(gw, &t.id, "agent-1", "intake-9", &b).await;
    assert_eq!(payment["room"], "intake-9");
    assert_eq!(payment["method"], "ivr");
    payment["id"].as_str().unwrap().to_owned()
}

async fn ivr(gw: &TestGateway, id: &str, call: &mut Scripted) -> Ended {
    let ended = run(&gw.state.payments, id, call, &IvrSettings::default())
        .await
        .unwrap();
    assert!(call.handed_back, "the patient goes back to the agent");
    assert_eq!(gw.state.payments.keypad_held(), 0, "no digits left held");
    ended
}

async fn stored(gw: &TestGateway, id: &str) -> Value {
    let loaded = gw.state.payments.load(id).await.unwrap();
    serde_json::to_value(&loaded.payment).unwrap()
}

#[tokio::test]
async fn a_patient_pays_by_ivr_and_hears_amount_and_last4_read_back() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(&gw, json!({})).await;
    let mut call = Scripted::new(&[CARD, EXPIRY, CVC], &[YES]);
    let ended = ivr(&gw, &id, &mut call).await;
    assert_eq!(
        ended,
        Ended::Finished(State::Succeeded, Some(PayResult::Success))
    );
    assert_eq!(
        call.asked,
        [
            Field::PaymentCardNumber,
            Field::ExpirationDate,
            Field::SecurityCode
        ]
    );
    assert_eq!(
        call.heard(),
        [
            "ask-card-number",
            "ask-expiration-date",
            "ask-security-code",
            "confirm-paying",
            "n40",
            "n2",
            "dollars",
            "confirm-card-ending",
            "n4",
            "n2",
            "n4",
            "n2",
            "confirm-press",
            "processing",
            "payment-succeeded",
            "handing-back",
        ]
    );
    let p = stored(&gw, &id).await;
    assert_eq!(p["state"], "succeeded");
    assert_eq!(p["card"]["last4"], "4242");
    assert!(p["card"]["token"].as_str().unwrap().starts_with("tok_"));
    assert!(!p.to_string().contains("4242424242424242"));
}

#[tokio::test]
async fn invalid_entries_are_explained_and_asked_again() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(&gw, json!({"attempts": 5})).await;
    let entries = [
        Does::Keys("4242424242424241"), // Luhn
        CARD,
        Does::Keys("1399"), // no month 13
        Does::Keys("0101"), // expired
        EXPIRY,
        Does::Short,
        CVC,
    ];
    let mut call = Scripted::new(&entries, &[YES]);
    let ended = ivr(&gw, &id, &mut call).await;
    assert_eq!(
        ended,
        Ended::Finished(State::Succeeded, Some(PayResult::Success))
    );
    let heard = call.heard.clone();
    assert_eq!(
        heard[1],
        ["invalid-card-number", "try-again", "ask-card-number"]
    );
    assert_eq!(
        heard[3],
        [
            "invalid-expiration-date",
            "try-again",
            "ask-expiration-date"
        ]
    );
    assert_eq!(
        heard[4],
        ["card-expired", "try-again", "ask-expiration-date"]
    );
    assert_eq!(
        heard[6],
        ["invalid-security-code", "try-again", "ask-security-code"]
    );
    assert_eq!(stored(&gw, &id).await["failed_attempts"], 4);
}

#[tokio::test]
async fn a_brand_not_allowed_is_said_and_too_many_attempts_fail_the_payment() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(
        &gw,
        json!({"allowed_brands": ["mastercard"], "attempts": 2}),
    )
    .await;
    let mut call = Scripted::new(&[CARD, CARD], &[]);
    let ended = ivr(&gw, &id, &mut call).await;
    assert_eq!(
        ended,
        Ended::Finished(State::Failed, Some(PayResult::TooManyFailedAttempts))
    );
    assert_eq!(
        call.heard,
        [
            vec!["ask-card-number"],
            vec!["brand-not-allowed", "try-again", "ask-card-number"],
            vec!["too-many-attempts", "payment-failed", "handing-back"],
        ]
    );
    let p = stored(&gw, &id).await;
    assert_eq!(p["result"], "too-many-failed-attempts");
    assert_eq!(p["error"], "brand-not-allowed");
}

#[tokio::test]
async fn star_restarts_a_field_without_counting_an_attempt() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(&gw, json!({})).await;
    let mut call = Scripted::new(&[Does::Star, CARD, EXPIRY, CVC], &[YES]);
    ivr(&gw, &id, &mut call).await;
    assert_eq!(call.heard[1], ["restart-field", "ask-card-number"]);
    let p = stored(&gw, &id).await;
    assert_eq!(
        (p["state"].clone(), p["failed_attempts"].clone()),
        (json!("succeeded"), json!(0))
    );
}

#[tokio::test]
async fn star_at_the_confirmation_collects_every_field_again() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(&gw, json!({})).await;
    let second_card = Does::Keys("5555555555554444");
    let entries = [CARD, EXPIRY, CVC, second_card, EXPIRY, CVC];
    let mut call = Scripted::new(&entries, &[Key::Pressed('*'), YES]);
    ivr(&gw, &id, &mut call).await;
    assert_eq!(call.asked.len(), 6);
    let p = stored(&gw, &id).await;
    assert_eq!(p["state"], "succeeded");
    assert_eq!(p["card"]["last4"], "4444", "the card keyed last is charged");
    assert_eq!(p["card"]["brand"], "mastercard");
}

#[tokio::test]
async fn no_input_ends_the_payment_input_timeout() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(&gw, json!({"attempts": 2})).await;
    let mut call = Scripted::new(&[Does::Nothing, Does::Nothing], &[]);
    let ended = ivr(&gw, &id, &mut call).await;
    assert_eq!(
        ended,
        Ended::Finished(State::Failed, Some(PayResult::InputTimeout))
    );
    assert_eq!(
        call.heard,
        [
            vec!["ask-card-number"],
            vec!["no-input", "try-again", "ask-card-number"],
            vec!["no-input", "payment-failed", "handing-back"],
        ]
    );
    assert_eq!(stored(&gw, &id).await["result"], "input-timeout");
}

#[tokio::test]
async fn an_unanswered_confirmation_expires_the_payment() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(&gw, json!({})).await;
    let keys = [Key::TimedOut, Key::Pressed('5'), Key::TimedOut];
    let mut call = Scripted::new(&[CARD, EXPIRY, CVC], &keys);
    let ended = ivr(&gw, &id, &mut call).await;
    assert_eq!(
        ended,
        Ended::Finished(State::Expired, Some(PayResult::InputTimeout))
    );
    assert!(call.keys.is_empty(), "asked three times");
}

#[tokio::test]
async fn hanging_up_ends_the_payment_caller_hung_up() {
    let gw = TestGateway::start(&[]).await;
    for (entries, keys) in [
        (vec![CARD, Does::HangsUp], vec![]),
        (vec![CARD, EXPIRY, CVC], vec![Key::HungUp]),
    ] {
        let id = ivr_payment(&gw, json!({})).await;
        let mut call = Scripted::new(&entries, &keys);
        assert_eq!(ivr(&gw, &id, &mut call).await, Ended::HungUp);
        let p = stored(&gw, &id).await;
        assert_eq!(
            (p["state"].clone(), p["result"].clone()),
            (json!("failed"), json!("caller-hung-up"))
        );
        assert!(!call.heard().contains(&"handing-back"), "nobody to tell");
    }
}

#[tokio::test]
async fn a_declined_card_is_said_and_handed_back() {
    let gw = TestGateway::start(&[]).await;
    let id = ivr_payment(&gw, json!({})).await;
    let mut call = Scripted::new(&[Does::Keys("4000000000000002"), EXPIRY, CVC], &[YES]);
    let ended = ivr(&gw, &id, &mut call).await;
    assert_eq!(
        ended,
        Ended::Finished(State::Failed, Some(PayResult::PaymentConnectorError))
    );
    assert_eq!(
        call.heard.last().unwrap(),
        &["payment-declined", "handing-back"]
    );
    assert_eq!(stored(&gw, &id).await["error"], "card-declined");
}

#[tokio::test]
async fn ivr_and_keypad_payments_do_not_cross() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("crossing").await;
    let agent = participant(&gw, &key, "agent-2", "room-x", "agent").await;
    let ivr_pay = service_created(&gw, &t.id, "agent-2", "room-x", &body("ivr", "charge")).await;
    let ivr_id = ivr_pay["id"].as_str().unwrap();
    // The agent's keypad commands refuse an IVR payment.
    let r = command(
        &gw,
        ivr_id,
        &agent,
        "capture",
        Some(json!({"field": "payment-card-number"})),
    )
    .await;
    assert_eq!(r.status(), 409);
    // The IVR refuses a keypad payment, and the patient keeps talking to the agent.
    let (kp, _) = created(&gw, &agent, &body("keypad", "charge")).await;
    let mut call = Scripted::new(&[CARD], &[]);
    let err = run(
        &gw.state.payments,
        kp["id"].as_str().unwrap(),
        &mut call,
        &IvrSettings::default(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("ivr payments only"), "{err}");
    assert!(call.handed_back);
    // An IVR payment for another room than the agent's is refused.
    let mut other = body("ivr", "charge");
    other["room"] = json!("someone-else");
    let key = format!("k-{}", uuid::Uuid::new_v4());
    let r = crate::create(&gw, &agent, &key, &other).await;
    assert_eq!(r.status(), 403);
}
