//! Issue 17, point 4: 3-D Secure on card-form and link payments with the sandbox's test
//! cards: a challenge the cardholder completes (`succeeded`), one they fail or that always
//! fails (`failed`, `authentication-failed`), a frictionless card (straight through); the
//! tenant and agent see only the `authenticating` state; a challenge past the deadline
//! expires; hostile completions are refused.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::cards::{seal, vault_key};
use crate::common::{TestGateway, assert_error};
use crate::expiry::{past_deadline, stored_state};
use crate::{body, command, created, show, submit};

const CHALLENGE: &str = "4000000000003220";
const CHALLENGE_FAILS: &str = "4000000000003063";
const FRICTIONLESS: &str = "4000000000003055";

/// A card-form payment of `mode` paid with `pan`: (id, secret, response body).
async fn pay(
    gw: &TestGateway,
    key: &str,
    tenant: &str,
    mode: &str,
    pan: &str,
) -> (String, String, Value) {
    let (pk, kid) = vault_key(gw).await;
    let (payment, secret) = created(gw, key, &body("card-form", mode)).await;
    let secret = secret.unwrap();
    let id = payment["id"].as_str().unwrap().to_owned();
    let sealed = seal(&pk, &kid, tenant, &id, pan, Some("737"), None);
    let resp = submit(gw, &id, &secret, &sealed).await;
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(status, 200, "{text}");
    assert!(!text.contains(pan));
    (id, secret, serde_json::from_str(&text).unwrap())
}

/// The challenge page's path from a response that names one.
fn challenge_path(v: &Value) -> String {
    let url = v["authentication"]["url"].as_str().unwrap().to_owned();
    assert!(url.starts_with("/sandbox/3ds/3ds_"), "{url}");
    url
}

async fn answer(gw: &TestGateway, path: &str, button: &str) -> reqwest::Response {
    gw.client
        .post(gw.url(&format!("{path}/{button}")))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_completed_challenge_succeeds_and_only_the_patient_sees_the_challenge() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (id, secret, v) = pay(&gw, &key, t.id.as_str(), "charge", CHALLENGE).await;
    assert_eq!(v["payment"]["state"], "authenticating");
    assert!(v["payment"].get("result").is_none());
    let path = challenge_path(&v);

    // The tenant (and so the agent's view, the same masked payment) sees the state only.
    let full = show(&gw, &id, &key).await.text().await.unwrap();
    let full_v: Value = serde_json::from_str(&full).unwrap();
    assert_eq!(full_v["payment"]["state"], "authenticating");
    assert!(
        !full.contains("3ds_") && !full.contains("/sandbox/"),
        "{full}"
    );
    // The patient's page can resume: its view names the challenge.
    let patient: Value = show(&gw, &id, &secret).await.json().await.unwrap();
    assert_eq!(patient["payment"]["state"], "authenticating");
    assert_eq!(patient["authentication"]["url"], path.as_str());

    // Not answered yet: nothing changes.
    let early = command(&gw, &id, &secret, "authentication", None).await;
    assert_error(early, 409, "authentication_pending").await;
    // Another card while the challenge waits: busy.
    let (pk, kid) = vault_key(&gw).await;
    let again = seal(&pk, &kid, t.id.as_str(), &id, CHALLENGE, Some("737"), None);
    assert_error(submit(&gw, &id, &secret, &again).await, 409, "payment_busy").await;

    // The issuer's page: strict CSP, framed by the gateway's own pages only, no card data.
    let page = gw.client.get(gw.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'none'") && csp.contains("frame-ancestors 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains("Complete") && !html.contains("3220") && !html.contains("4000"));
    assert_eq!(answer(&gw, &path, "complete").await.status(), 200);
    // Answered once only.
    assert_eq!(answer(&gw, &path, "fail").await.status(), 409);

    let done = command(&gw, &id, &secret, "authentication", None).await;
    assert_eq!(done.status(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["payment"]["state"], "succeeded");
    assert_eq!(done["payment"]["result"], "success");
    assert_eq!(done["payment"]["card"]["last4"], "3220");
    assert!(
        done["payment"]["authorization_code"]
            .as_str()
            .unwrap()
            .starts_with("SBX")
    );
    assert!(done.get("authentication").is_none());
    // Completing twice; the page after the end.
    let twice = command(&gw, &id, &secret, "authentication", None).await;
    assert_error(twice, 409, "not_authenticating").await;
    assert_eq!(
        gw.client.get(gw.url(&path)).send().await.unwrap().status(),
        404
    );
}

#[tokio::test]
async fn failed_challenges_fail_and_a_frictionless_card_goes_straight_through() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    // The cardholder presses "Fail"; the 3063 card fails even when completed.
    for (pan, button) in [(CHALLENGE, "fail"), (CHALLENGE_FAILS, "complete")] {
        let (id, secret, v) = pay(&gw, &key, t.id.as_str(), "authorize", pan).await;
        assert_eq!(v["payment"]["state"], "authenticating");
        assert_eq!(answer(&gw, &challenge_path(&v), button).await.status(), 200);
        let done: Value = command(&gw, &id, &secret, "authentication", None)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(done["payment"]["state"], "failed", "{pan} {button}");
        assert_eq!(done["payment"]["error"], "authentication-failed");
        assert_eq!(done["payment"]["result"], "payment-connector-error");
    }
    let (_, _, v) = pay(&gw, &key, t.id.as_str(), "authorize", FRICTIONLESS).await;
    assert_eq!(v["payment"]["state"], "authorized");
    assert!(v.get("authentication").is_none());
}

#[tokio::test]
async fn hostile_completions_and_challenge_pages_are_refused() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (other_t, other_key) = gw.tenant("other").await;
    let (id, secret, v) = pay(&gw, &key, t.id.as_str(), "charge", CHALLENGE).await;
    let (other_id, other_secret, _) =
        pay(&gw, &other_key, other_t.id.as_str(), "charge", CHALLENGE).await;
    let path = challenge_path(&v);
    assert_eq!(answer(&gw, &path, "complete").await.status(), 200);

    // Another payment's (another tenant's) secret, a made-up one, the tenant's API key.
    for (target, credential) in [
        (id.as_str(), other_secret.as_str()),
        (other_id.as_str(), secret.as_str()),
        (id.as_str(), "pcs_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        (id.as_str(), key.as_str()),
    ] {
        let r = command(&gw, target, credential, "authentication", None).await;
        assert_error(r, 401, "invalid_client_secret").await;
    }
    // Unknown, malformed and foreign challenge ids; unknown buttons.
    for bad in [
        "/sandbox/3ds/3ds_AAAAAAAAAAAAAAAAAAAAAAAA",
        "/sandbox/3ds/..%2F..%2Fv1",
        "/sandbox/3ds/x",
    ] {
        assert_eq!(
            gw.client.get(gw.url(bad)).send().await.unwrap().status(),
            404,
            "{bad}"
        );
        assert_eq!(answer(&gw, bad, "complete").await.status(), 404, "{bad}");
    }
    assert_eq!(answer(&gw, &path, "maybe").await.status(), 404);
    // The other tenant's payment still waits; this one completes.
    let other: Value = show(&gw, &other_id, &other_key).await.json().await.unwrap();
    assert_eq!(other["payment"]["state"], "authenticating");
    let done: Value = command(&gw, &id, &secret, "authentication", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["payment"]["state"], "succeeded");
    // A payment that never had a challenge.
    let (plain, plain_secret) = created(&gw, &key, &body("card-form", "charge")).await;
    let r = command(
        &gw,
        plain["id"].as_str().unwrap(),
        &plain_secret.unwrap(),
        "authentication",
        None,
    )
    .await;
    assert_error(r, 409, "not_authenticating").await;
}

#[tokio::test]
async fn a_challenge_nobody_answers_expires_at_the_deadline() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (id, secret, _) = pay(&gw, &key, t.id.as_str(), "charge", CHALLENGE).await;
    past_deadline(&gw, &id).await;
    // Nobody reads it: the sweeper ends it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while stored_state(&gw, &id).await != "expired" {
        assert!(Instant::now() < deadline, "not expired within 10 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = command(&gw, &id, &secret, "authentication", None).await;
    assert_error(r, 409, "not_authenticating").await;
    let p: Value = show(&gw, &id, &key).await.json().await.unwrap();
    assert_eq!(p["payment"]["result"], "input-timeout");
}

#[tokio::test]
async fn a_keypad_payment_with_a_challenge_card_fails_authentication_required() {
    use hushpay_vault::payment::Field;

    use crate::keypad::key_in;
    use crate::participant;

    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let agent = participant(&gw, &key, "agent-3", "room-3ds", "agent").await;
    let (payment, _) = created(&gw, &agent, &body("keypad", "charge")).await;
    let id = payment["id"].as_str().unwrap();
    for (field, name, digits) in [
        (Field::PaymentCardNumber, "payment-card-number", CHALLENGE),
        (Field::ExpirationDate, "expiration-date", "1233"),
        (Field::SecurityCode, "security-code", "468"),
    ] {
        let body = serde_json::json!({ "field": name });
        command(&gw, id, &agent, "capture", Some(body)).await;
        key_in(&gw, id, field, digits).await;
    }
    let done = command(&gw, id, &agent, "complete", None).await;
    let text = done.text().await.unwrap();
    let done: Value = serde_json::from_str(&text).unwrap();
    // The phone has no page for a challenge: it fails, and names no challenge.
    assert_eq!(done["payment"]["state"], "failed", "{text}");
    assert_eq!(done["payment"]["error"], "authentication-required");
    assert!(!text.contains("3ds_") && !text.contains(CHALLENGE));
}
