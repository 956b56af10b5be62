//! Issue 12, finding 2: the client secret of a card-form or link payment (it lets its holder
//! submit a card, audited as the patient) reaches the room's patient and nobody else in the
//! room. An agent that creates such a payment with its own token finds no `pcs_` in the HTTP
//! answer, in any signalling or chat frame it or a supervisor receives (raw, over real WebRTC),
//! or in `GET /v1/payments/{id}`; `POST /v1/payments/{id}/card` refuses everything the agent
//! holds (its token, the payment id, the link without its fragment); the patient's secret
//! still pays. Before the fix the agent's `POST /v1/payments` answer carried `client_secret`
//! and `link_url` with `#pcs_...`, so this test failed at its first assertion on the answer.

use std::time::Duration;

use hushpay::sfu::chat::ChatOut;
use hushpay::sfu::payment_offer::LinkMessage;
use hushpay::sfu::signal::ServerMessage;
use hushpay_bots::Bot;
use serde_json::{Value, json};

use crate::common::TestGateway;
use crate::common::cards::{seal, tracer_pan, vault_key};
use crate::harness::*;

const ROOM: &str = "call-secret";
const WAIT: Duration = Duration::from_secs(5);

/// `POST /v1/payments` with the agent's token: (status, raw body).
async fn create_raw(gw: &TestGateway, token: &str, method: &str) -> (u16, String) {
    let resp = gw
        .client
        .post(gw.url("/v1/payments"))
        .bearer_auth(token)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(
            &json!({"amount": 4200, "currency": "USD", "reference": "visit-77",
                      "mode": "charge", "method": method}),
        )
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// `GET /v1/payments/{id}` with `token`: (status, raw body).
async fn show_raw(gw: &TestGateway, id: &str, token: &str) -> (u16, String) {
    let resp = gw
        .client
        .get(gw.url(&format!("/v1/payments/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// `POST /v1/payments/{id}/card` with `Authorization: <authorization>` and a sealed card.
async fn submit(gw: &TestGateway, id: &str, authorization: &str, sealed: &Value) -> (u16, Value) {
    let resp = gw
        .client
        .post(gw.url(&format!("/v1/payments/{id}/card")))
        .header("authorization", authorization)
        .json(&json!({ "sealed": sealed }))
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// The `payment_requested` prompt for payment `id` the patient got: its client secret.
async fn prompt_secret(patient: &mut Bot, id: &str) -> Option<String> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match tokio::time::timeout_at(deadline, patient.events.recv()).await {
            Ok(Some(ServerMessage::PaymentRequested {
                payment,
                client_secret,
            })) if payment.id == id => return client_secret,
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => panic!("no payment_requested for {id}"),
        }
    }
}

/// The `payment_link` chat message for payment `id` that `bot` got.
async fn link_message(bot: &mut Bot, id: &str) -> LinkMessage {
    loop {
        match bot.next_chat(WAIT).await {
            Some(ChatOut::PaymentLink(m)) if m.payment.id == id => return m,
            Some(_) => continue,
            None => panic!("no payment_link for {id}"),
        }
    }
}

/// Waits for the `payment` message that shows `id` in `state`.
async fn wait_state(bot: &mut Bot, id: &str, state: &str) {
    loop {
        let p = next_payment(bot, WAIT)
            .await
            .unwrap_or_else(|| panic!("no payment message with {id} {state}"));
        if p["id"] == id && p["state"] == state {
            return;
        }
    }
}

/// Everything the agent holds for payment `id` is refused by the card endpoint, and the
/// payment is unchanged.
async fn agent_cannot_pay(gw: &TestGateway, id: &str, staff_tokens: &[&str], sealed: &Value) {
    let link = format!(
        "{}/pay/{id}",
        gw.state.config.public_url.trim_end_matches('/')
    );
    let mut attempts: Vec<String> = staff_tokens.iter().map(|t| format!("Bearer {t}")).collect();
    attempts.extend([
        format!("Bearer {id}"),
        format!("Bearer {link}"),
        format!("Bearer {link}#"),
        "Bearer pcs_".to_owned(),
        format!("Bearer pcs_{}", &id[4..]),
    ]);
    for auth in attempts {
        let (status, body) = submit(gw, id, &auth, sealed).await;
        assert_eq!(status, 401, "{auth}: {body}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_and_supervisors_never_hold_the_client_secret_the_patient_does() {
    let gw = gateway().await;
    let (tenant, key) = gw.tenant("clinic").await;
    let agent_token = token(&gw, &key, "agent-7", ROOM, "agent").await;
    // A supervisor that may follow payments (so it gets `payment` messages too).
    let sup_token = token_with_grants(
        &gw,
        &key,
        "sup-1",
        ROOM,
        "supervisor",
        json!({"canSubscribe": true, "canChat": true, "canRequestPayment": true}),
    )
    .await;
    let mut agent = bot(&gw, agent_token.clone()).await;
    let mut sup = bot(&gw, sup_token.clone()).await;
    let mut patient = bot(&gw, token(&gw, &key, "patient-1", ROOM, "patient").await).await;
    let (pk, kid) = vault_key(&gw).await;

    // Card form: the agent's answer holds no secret; the patient's prompt does.
    let (status, text) = create_raw(&gw, &agent_token, "card-form").await;
    assert_eq!(status, 201, "{text}");
    assert!(!text.contains("pcs_"), "the agent's answer: {text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert!(created.get("client_secret").is_none());
    assert_eq!(created["offered"], json!({"patients": 1, "staff": 0}));
    let card_id = created["payment"]["id"].as_str().unwrap().to_owned();
    let secret = prompt_secret(&mut patient, &card_id)
        .await
        .expect("the patient's prompt carries the secret");
    assert!(secret.starts_with("pcs_"));
    let (status, shown) = show_raw(&gw, &card_id, &agent_token).await;
    assert_eq!(status, 200);
    assert!(!shown.contains("pcs_"), "GET for the agent: {shown}");
    let sealed = seal(
        &pk,
        &kid,
        tenant.id.as_str(),
        &card_id,
        &tracer_pan(),
        Some("737"),
        None,
    );
    agent_cannot_pay(&gw, &card_id, &[&agent_token, &sup_token], &sealed).await;
    let (status, paid) = submit(&gw, &card_id, &format!("Bearer {secret}"), &sealed).await;
    assert_eq!(
        (status, &paid["payment"]["state"]),
        (200, &json!("succeeded")),
        "{paid}"
    );

    // Link: the agent's answer and its chat copy carry the page's address without the
    // fragment; the patient's copy carries `#pcs_...`, and that pays.
    let (status, text) = create_raw(&gw, &agent_token, "link").await;
    assert_eq!(status, 201, "{text}");
    assert!(!text.contains("pcs_"), "the agent's answer: {text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert!(created.get("client_secret").is_none());
    let link_id = created["payment"]["id"].as_str().unwrap().to_owned();
    let link = format!(
        "{}/pay/{link_id}",
        gw.state.config.public_url.trim_end_matches('/')
    );
    assert_eq!(created["link_url"], link.as_str());
    assert_eq!(created["offered"], json!({"patients": 1, "staff": 2}));
    let for_patient = link_message(&mut patient, &link_id).await;
    let secret = for_patient
        .url
        .strip_prefix(&format!("{link}#"))
        .expect("the patient's copy carries the secret in its fragment")
        .to_owned();
    assert!(secret.starts_with("pcs_"));
    for staff in [&mut agent, &mut sup] {
        let copy = link_message(staff, &link_id).await;
        assert_eq!(copy.url, link, "staff copies carry no fragment");
        assert_eq!(copy.payment, for_patient.payment);
    }
    let (status, shown) = show_raw(&gw, &link_id, &agent_token).await;
    assert_eq!(status, 200);
    assert!(!shown.contains("pcs_"), "GET for the agent: {shown}");
    let sealed = seal(
        &pk,
        &kid,
        tenant.id.as_str(),
        &link_id,
        &tracer_pan(),
        Some("737"),
        None,
    );
    agent_cannot_pay(&gw, &link_id, &[&agent_token, &sup_token], &sealed).await;
    let (status, paid) = submit(&gw, &link_id, &format!("Bearer {secret}"), &sealed).await;
    assert_eq!(
        (status, &paid["payment"]["state"]),
        (200, &json!("succeeded")),
        "{paid}"
    );

    // Every raw frame the agent and the supervisor received (signalling and chat), up to
    // the link's result: not one carries a secret. The patient's did (positive control).
    for staff in [&mut agent, &mut sup] {
        wait_state(staff, &card_id, "succeeded").await;
        wait_state(staff, &link_id, "succeeded").await;
        let frames = staff.raw_frames();
        assert!(
            frames.iter().any(|f| f.contains(&link_id)),
            "frames were captured"
        );
        let leaks: Vec<_> = frames.iter().filter(|f| f.contains("pcs_")).collect();
        assert!(leaks.is_empty(), "staff frames with a secret: {leaks:?}");
    }
    let patient_frames = patient.raw_frames();
    assert_eq!(
        patient_frames.iter().filter(|f| f.contains("pcs_")).count(),
        2,
        "the patient's prompt and its copy of the link"
    );

    for b in [agent, sup, patient] {
        b.leave().await;
    }
    assert_released(&gw).await;
}
