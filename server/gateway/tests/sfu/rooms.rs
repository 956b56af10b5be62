//! Rooms for the tenant backend, and tenant isolation.

use std::time::Duration;

use hushpay::sfu::signal::ServerMessage;

use crate::common::assert_error;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backend_creates_shows_and_ends_rooms_of_its_tenant_only() {
    let gw = gateway().await;
    let (_a, key_a) = gw.tenant("clinic-a").await;
    let (_b, key_b) = gw.tenant("clinic-b").await;
    let post = |key: &str, body: serde_json::Value| {
        gw.client
            .post(gw.url("/v1/rooms"))
            .bearer_auth(key)
            .json(&body)
            .send()
    };
    let resp = post(&key_a, serde_json::json!({"name": "intake-42"}))
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["id"], "intake-42");
    assert_eq!(body["participants"], serde_json::json!([]));
    let again = post(&key_a, serde_json::json!({"name": "intake-42"}))
        .await
        .unwrap();
    assert_error(again, 409, "room_exists").await;
    let bad = post(&key_a, serde_json::json!({"name": "no spaces allowed"}))
        .await
        .unwrap();
    assert_error(bad, 400, "invalid_request").await;

    // A patient of tenant A joins; the backend sees it.
    let mut patient = bot(&gw, token(&gw, &key_a, "p-1", "intake-42", "patient").await).await;
    let show = gw
        .client
        .get(gw.url("/v1/rooms/intake-42"))
        .bearer_auth(&key_a)
        .send()
        .await
        .unwrap();
    assert_eq!(show.status(), 200);
    let view: serde_json::Value = show.json().await.unwrap();
    assert_eq!(view["participants"][0]["identity"], "p-1");
    assert_eq!(view["participants"][0]["role"], "patient");

    // Tenant B cannot see or end it, and B's token for the same name reaches another room.
    let other = gw
        .client
        .get(gw.url("/v1/rooms/intake-42"))
        .bearer_auth(&key_b)
        .send()
        .await
        .unwrap();
    assert_error(other, 404, "room_not_found").await;
    let other = gw
        .client
        .delete(gw.url("/v1/rooms/intake-42"))
        .bearer_auth(&key_b)
        .send()
        .await
        .unwrap();
    assert_error(other, 404, "room_not_found").await;
    let b_agent = bot(
        &gw,
        token(&gw, &key_b, "b-agent", "intake-42", "agent").await,
    )
    .await;
    assert_eq!(
        gw.state.sfu.rooms.count(),
        2,
        "B's room is a different room"
    );
    let a_room = gw
        .state
        .sfu
        .rooms
        .all()
        .into_iter()
        .find(|r| r.participant_count() == 1 && r.participants()[0].identity == "p-1")
        .unwrap();
    assert_eq!(
        a_room.participant_count(),
        1,
        "B's agent is not in A's room"
    );

    // A participant token is not a backend credential.
    let pt = token(&gw, &key_a, "p-2", "intake-42", "patient").await;
    let refused = gw
        .client
        .get(gw.url("/v1/rooms/intake-42"))
        .bearer_auth(&pt)
        .send()
        .await
        .unwrap();
    assert_error(refused, 401, "invalid_api_key").await;

    // DELETE ends the call: the patient is told and released.
    let del = gw
        .client
        .delete(gw.url("/v1/rooms/intake-42"))
        .bearer_auth(&key_a)
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match patient.events.recv().await {
                Some(ServerMessage::RoomClosed { .. }) | None => return true,
                Some(_) => continue,
            }
        }
    })
    .await
    .unwrap_or(false);
    assert!(closed, "the patient learns that the room ended");
    // The room stays stored (its settings, when it ended), shown as not open.
    let gone = gw
        .client
        .get(gw.url("/v1/rooms/intake-42"))
        .bearer_auth(&key_a)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 200);
    let view: serde_json::Value = gone.json().await.unwrap();
    assert_eq!(view["open"], false);
    assert_eq!(view["participants"], serde_json::json!([]));
    assert!(view["ended_at"].is_i64(), "{view}");

    b_agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}
