//! A tenant's open-room limit counts its rooms on every node: with a limit of 2, one room on
//! node-1 and one on node-2 leave no room for a third anywhere (the API and joins alike),
//! until one of them ends.

use std::time::Duration;

use serde_json::json;

use crate::nodes::Cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tenant_room_limit_counts_every_node() {
    let cluster =
        // Rooms made through the API stay open, empty, for a minute.
        Cluster::start_with(
            "clusterlimit",
            2,
            &[
                ("HUSHPAY__RTC__MAX_ROOMS_PER_TENANT", "2"),
                ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "60000"),
            ],
        )
        .await;
    for (via, name) in [(1, "room-a"), (2, "room-b")] {
        let (status, body) = cluster
            .post(via, "/v1/rooms", Some(json!({"name": name})))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // Each node renews its entry (with its rooms) every third of the 2 s lease.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for via in [1, 2] {
        let (status, body) = cluster
            .post(via, "/v1/rooms", Some(json!({"name": "room-c"})))
            .await;
        assert_eq!(status, 429, "through node-{via}: {body}");
        assert_eq!(body["error"]["code"], "too_many_rooms", "{body}");
    }
    let token = cluster.token(2, "patient-1", "room-c", "patient").await;
    let refused = hushpay_bots::Bot::connect(hushpay_bots::BotConfig {
        url: cluster.rtc_url(2),
        token,
        media_ip: [127, 0, 0, 1].into(),
        keep_payloads: false,
    })
    .await
    .expect_err("a join opening a third room is refused");
    assert!(refused.0.contains("too_many_rooms"), "{refused}");
    // Nothing of the refused room stays placed.
    let (_, view) = cluster.get(1, "/v1/rooms/room-c").await;
    assert!(view["node"].is_null(), "{view}");

    let resp = cluster
        .client
        .delete(cluster.url(1, "/v1/rooms/room-a"))
        .bearer_auth(&cluster.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 204);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (status, body) = cluster
        .post(2, "/v1/rooms", Some(json!({"name": "room-c"})))
        .await;
    assert_eq!(status, 201, "{body}");
}
