//! Issue 12, finding 5: the cap on endpoints per tenant and the circuit breaker.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use serde_json::{Value, json};

use crate::common::{TestGateway, assert_error};
use crate::fairness::cancelled_payment;
use crate::post_json;

/// `max_endpoints_per_tenant` (3) counts live endpoints of each tenant: the 4th gets 409
/// `webhook_endpoint_limit`, another tenant is not affected, a deletion frees a place, and
/// ten concurrent requests cannot slip past the cap. Fails on main: no cap.
#[tokio::test]
async fn a_tenant_has_at_most_max_endpoints_per_tenant_endpoints() {
    let gw = TestGateway::start(&[("HUSHPAY__WEBHOOKS__MAX_ENDPOINTS_PER_TENANT", "3")]).await;
    let (_t, key) = gw.tenant("crm").await;
    let (_o, other) = gw.tenant("other").await;
    let hook = json!({"url": "https://hooks.example.com/x"});
    let mut ids = Vec::new();
    for _ in 0..3 {
        let r = post_json(&gw, "/v1/webhooks", &key, hook.clone()).await;
        assert_eq!(r.status(), 201);
        ids.push(r.json::<Value>().await.unwrap()["endpoint"]["id"].clone());
    }
    let r = post_json(&gw, "/v1/webhooks", &key, hook.clone()).await;
    let message = assert_error(r, 409, "webhook_endpoint_limit").await;
    assert!(message.contains('3'), "{message}");
    let r = post_json(&gw, "/v1/webhooks", &other, hook.clone()).await;
    assert_eq!(r.status(), 201, "another tenant has its own count");
    let r = gw
        .client
        .delete(gw.url(&format!("/v1/webhooks/{}", ids[0].as_str().unwrap())))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = post_json(&gw, "/v1/webhooks", &key, hook.clone()).await;
    assert_eq!(r.status(), 201, "a deletion frees a place");

    let (_c, fresh) = gw.tenant("concurrent").await;
    let attempts = (0..10).map(|_| post_json(&gw, "/v1/webhooks", &fresh, hook.clone()));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        3,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|s| **s == 409).count(),
        7,
        "{statuses:?}"
    );
}

/// A receiver that answers 500 until `healthy`, then 204; counts requests and keeps the
/// `webhook-id`s it accepted.
struct Flaky {
    port: u16,
    healthy: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
    accepted: Arc<std::sync::Mutex<Vec<String>>>,
}

async fn flaky() -> Flaky {
    let healthy = Arc::new(AtomicBool::new(false));
    let hits = Arc::new(AtomicUsize::new(0));
    let accepted = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (h, n, a) = (healthy.clone(), hits.clone(), accepted.clone());
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap| {
            let (h, n, a) = (h.clone(), n.clone(), a.clone());
            async move {
                n.fetch_add(1, Ordering::SeqCst);
                if !h.load(Ordering::SeqCst) {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                let id = headers["webhook-id"].to_str().unwrap().to_owned();
                a.lock().unwrap().push(id);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Flaky {
        port,
        healthy,
        hits,
        accepted,
    }
}

async fn endpoint_view(gw: &TestGateway, key: &str, id: &str) -> Value {
    let r = gw
        .client
        .get(gw.url(&format!("/v1/webhooks/{id}")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["endpoint"].clone()
}

/// After `circuit_breaker_failures` (3) failed attempts in a row the endpoint's circuit opens:
/// `GET /v1/webhooks/{id}` shows `open` with `open_until`, no request reaches the receiver
/// during the cool-down, and the deliveries stay pending in the outbox (none failed for
/// good). When the receiver recovers, the trial after the cool-down closes the circuit and
/// all five events arrive. Fails on main: no circuit state, and every due retry went out.
#[tokio::test]
async fn an_endpoint_that_keeps_failing_is_held_then_gets_everything() {
    let gw = TestGateway::start(&[
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
        ("HUSHPAY__WEBHOOKS__RETRY_BASE_SECS", "1"),
        ("HUSHPAY__WEBHOOKS__MAX_ATTEMPTS", "20"),
        ("HUSHPAY__WEBHOOKS__CIRCUIT_BREAKER_FAILURES", "3"),
        ("HUSHPAY__WEBHOOKS__CIRCUIT_BREAKER_COOLDOWN_SECS", "4"),
    ])
    .await;
    let (t, key) = gw.tenant("crm").await;
    let receiver = flaky().await;
    let url = format!("http://127.0.0.1:{}/hook", receiver.port);
    let r = post_json(&gw, "/v1/webhooks", &key, json!({ "url": url })).await;
    assert_eq!(r.status(), 201);
    let id = r.json::<Value>().await.unwrap()["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        endpoint_view(&gw, &key, &id).await["circuit"]["state"],
        "closed"
    );
    for _ in 0..5 {
        cancelled_payment(&gw, &key).await;
    }

    let deadline = Instant::now() + Duration::from_secs(10);
    let view = loop {
        let view = endpoint_view(&gw, &key, &id).await;
        if view["circuit"]["state"] == "open" {
            break view;
        }
        assert!(
            Instant::now() < deadline,
            "the circuit never opened: {view}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(view["circuit"]["consecutive_failures"].as_u64().unwrap() >= 3);
    let open_until = view["circuit"]["open_until"].as_i64().unwrap();
    assert!(open_until > hushpay_vault::unix_now(), "{view}");
    // A moment for attempts that were already on the wire to land, then the count holds.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hits_when_open = receiver.hits.load(Ordering::SeqCst);
    let quiet_until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < quiet_until && hushpay_vault::unix_now() < open_until {
        assert_eq!(
            receiver.hits.load(Ordering::SeqCst),
            hits_when_open,
            "no request while the circuit is open"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log: Value = gw
        .client
        .get(gw.url(&format!("/v1/webhooks/{id}/deliveries")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        log["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["status"] == "pending"),
        "nothing given up: {log}"
    );
    // A claim that sees past every lease (the worker's included), released at once.
    let peek = hushpay_store::DeliveryLease {
        owner: "limits-test".into(),
        now: i64::MAX,
        until: i64::MAX,
    };
    let claimed = gw
        .state
        .store
        .claim_deliveries(&peek, 100, 10_000)
        .await
        .unwrap();
    let keys: Vec<(String, String)> = claimed
        .iter()
        .map(|d| (d.event_id.clone(), d.endpoint_id.clone()))
        .collect();
    gw.state
        .store
        .release_deliveries(&peek.owner, &keys)
        .await
        .unwrap();
    let pending = claimed
        .into_iter()
        .filter(|d| d.tenant == t.id && d.endpoint_id == id)
        .count();
    assert_eq!(pending, 5, "all five wait in the outbox");

    receiver.healthy.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut got = receiver.accepted.lock().unwrap().clone();
        got.sort();
        got.dedup();
        if got.len() == 5 {
            break;
        }
        assert!(Instant::now() < deadline, "only {} of 5 arrived", got.len());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let view = endpoint_view(&gw, &key, &id).await;
    assert_eq!(view["circuit"]["state"], "closed", "{view}");
    assert_eq!(view["circuit"]["consecutive_failures"], 0);
}
