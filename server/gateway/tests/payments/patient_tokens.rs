//! Issue 12, point 7: a patient's token reads nothing the tenant's backend and its staff
//! read. `GET /v1/tokens/{id}` answered a patient JWT with the token's metadata (200 before
//! the fix); it is now `403 wrong_role`, while the API key and an agent's token still read
//! it. A patient token given `canRequestPayment` neither creates payments (`403 wrong_role`)
//! nor reads their documents (`403 wrong_payment`): the shared rule
//! (`payments::access::Viewer`) admits agents and supervisors only.

use serde_json::{Value, json};

use crate::common::cards::{seal, tracer_pan, vault_key};
use crate::common::{TestGateway, assert_error};
use crate::{body, create, created, participant, show, submit};

async fn token_lookup(gw: &TestGateway, token: &str, credential: &str) -> reqwest::Response {
    gw.client
        .get(gw.url(&format!("/v1/tokens/{token}")))
        .bearer_auth(credential)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn patient_tokens_read_no_card_tokens_and_request_no_payments() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (pk, kid) = vault_key(&gw).await;
    let mut b = body("card-form", "charge");
    b["room"] = json!("call-9");
    let (payment, secret) = created(&gw, &key, &b).await;
    let id = payment["id"].as_str().unwrap();
    let sealed = seal(
        &pk,
        &kid,
        t.id.as_str(),
        id,
        &tracer_pan(),
        Some("737"),
        None,
    );
    let done: Value = submit(&gw, id, &secret.unwrap(), &sealed)
        .await
        .json()
        .await
        .unwrap();
    let card_token = done["payment"]["card"]["token"].as_str().unwrap();

    let patient = participant(&gw, &key, "patient-9", "call-9", "patient").await;
    assert_error(
        token_lookup(&gw, card_token, &patient).await,
        403,
        "wrong_role",
    )
    .await;
    // An unknown token id is refused the same way (the refusal does not depend on the id).
    assert_error(
        token_lookup(&gw, "tok_nope", &patient).await,
        403,
        "wrong_role",
    )
    .await;
    let agent = participant(&gw, &key, "agent-9", "call-9", "agent").await;
    for credential in [&key, &agent] {
        let resp = token_lookup(&gw, card_token, credential).await;
        assert_eq!(resp.status(), 200);
        let meta: Value = resp.json().await.unwrap();
        assert_eq!(meta["id"], card_token);
    }

    // A patient token with the payment grant still may not request or read payments.
    let granted = gw
        .mint(
            &key,
            json!({"identity": "patient-9", "room": "call-9", "role": "patient",
                   "grants": {"canChat": true, "canRequestPayment": true}}),
        )
        .await;
    assert_eq!(granted.status(), 201);
    let granted: Value = granted.json().await.unwrap();
    let granted = granted["token"].as_str().unwrap();
    assert_error(
        create(&gw, granted, "patient-key", &body("card-form", "charge")).await,
        403,
        "wrong_role",
    )
    .await;
    assert_error(show(&gw, id, granted).await, 403, "wrong_payment").await;
}
