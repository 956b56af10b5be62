//! `Idempotency-Key`: the same key and body return the same payment; the same key with
//! another body is refused; keys are per tenant; concurrent retries create one payment.

use serde_json::{Value, json};

use crate::common::{TestGateway, assert_error};
use crate::{body, create};

#[tokio::test]
async fn the_same_key_returns_the_same_payment_and_another_body_is_refused() {
    let gw = TestGateway::start(&[]).await;
    let (_a, key_a) = gw.tenant("a").await;
    let (_b, key_b) = gw.tenant("b").await;
    let b = body("card-form", "charge");

    let first = create(&gw, &key_a, "order-1", &b).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert!(first["client_secret"].is_string());

    let again = create(&gw, &key_a, "order-1", &b).await;
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["payment"]["id"], first["payment"]["id"]);
    assert!(
        again.get("client_secret").is_none(),
        "the secret is shown once"
    );

    let mut other = b.clone();
    other["amount"] = json!(4201);
    let msg = assert_error(
        create(&gw, &key_a, "order-1", &other).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert!(msg.contains("Idempotency-Key"));

    // Keys are per tenant.
    let other_tenant: Value = create(&gw, &key_b, "order-1", &b)
        .await
        .json()
        .await
        .unwrap();
    assert_ne!(other_tenant["payment"]["id"], first["payment"]["id"]);

    // Concurrent retries with one key create one payment.
    let mut handles = Vec::new();
    for _ in 0..8 {
        let (c, url, k, b) = (
            gw.client.clone(),
            gw.url("/v1/payments"),
            key_a.clone(),
            b.clone(),
        );
        handles.push(tokio::spawn(async move {
            let r = c
                .post(url)
                .bearer_auth(k)
                .header("idempotency-key", "order-2")
                .json(&b)
                .send()
                .await
                .unwrap();
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            (status, v["payment"]["id"].as_str().unwrap().to_owned())
        }));
    }
    let mut ids = Vec::new();
    let mut created = 0;
    for h in handles {
        let (status, id) = h.await.unwrap();
        assert!(status == 200 || status == 201, "{status}");
        created += usize::from(status == 201);
        ids.push(id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "one payment for one key");
    assert_eq!(created, 1);
}

/// Issue 12, point 7: the idempotency hash covers the caller's room. Agents of two rooms
/// send the same `Idempotency-Key` and the same body (an agent's payment is bound to its own
/// room, so the body names none): the second is refused (422 `idempotency_key_reused`)
/// instead of being handed the first room's payment (before the fix it got a 200 replay of
/// it). A retry from the first room is still the replay, and naming its own room explicitly
/// is the same request.
#[tokio::test]
async fn a_key_replayed_from_another_room_is_refused() {
    let gw = TestGateway::start(&[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let agent_a = crate::participant(&gw, &key, "agent-a", "room-a", "agent").await;
    let agent_b = crate::participant(&gw, &key, "agent-b", "room-b", "agent").await;
    let b = body("card-form", "charge");

    let first = create(&gw, &agent_a, "visit-key", &b).await;
    assert_eq!(first.status(), 201);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["payment"]["room"], "room-a");

    let msg = assert_error(
        create(&gw, &agent_b, "visit-key", &b).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    assert!(!msg.contains(first["payment"]["id"].as_str().unwrap()));

    let again = create(&gw, &agent_a, "visit-key", &b).await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["payment"]["id"], first["payment"]["id"]);
    let mut explicit = b.clone();
    explicit["room"] = json!("room-a");
    let same: Value = create(&gw, &agent_a, "visit-key", &explicit)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(same["payment"]["id"], first["payment"]["id"]);

    // The tenant backend naming another room with the key is refused the same way.
    let mut other_room = b.clone();
    other_room["room"] = json!("room-b");
    assert_error(
        create(&gw, &key, "visit-key", &other_room).await,
        422,
        "idempotency_key_reused",
    )
    .await;
}
