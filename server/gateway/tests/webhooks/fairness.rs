//! Issue 12, finding 5: one tenant's silent receivers cannot stall another tenant's webhooks.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use crate::common::TestGateway;
use crate::common::cards::{seal, tracer_pan, vault_key};
use crate::common::receiver::Receiver;
use crate::{new_payment, post_json};

/// A TCP listener on 127.0.0.1 that accepts, reads, and never answers. Counts connections
/// accepted, open now, and the most open at once.
pub(crate) struct Blackhole {
    pub port: u16,
    pub accepted: Arc<AtomicUsize>,
    pub max_open: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Blackhole {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Blackhole {
    pub async fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let accepted = Arc::new(AtomicUsize::new(0));
        let open = Arc::new(AtomicUsize::new(0));
        let max_open = Arc::new(AtomicUsize::new(0));
        let (a, o, m) = (accepted.clone(), open.clone(), max_open.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                a.fetch_add(1, Ordering::SeqCst);
                let now_open = o.fetch_add(1, Ordering::SeqCst) + 1;
                m.fetch_max(now_open, Ordering::SeqCst);
                let o = o.clone();
                tokio::spawn(async move {
                    let mut sink = [0u8; 4096];
                    while matches!(sock.read(&mut sink).await, Ok(n) if n > 0) {}
                    o.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Blackhole {
            port,
            accepted,
            max_open,
            task,
        }
    }
}

/// A payment of `key`'s tenant, cancelled: one `payment.cancelled` event.
pub(crate) async fn cancelled_payment(gw: &TestGateway, key: &str) {
    let (id, _) = new_payment(gw, key).await;
    let r = gw
        .client
        .post(gw.url(&format!("/v1/payments/{id}/cancel")))
        .bearer_auth(key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

/// Tenant A has 200 endpoints on a listener that accepts and never answers, and an event for
/// all of them; tenant B's `payment.succeeded`, created after it, reaches B's receiver (the
/// Node example, verifying the signature) within 5 s, while A never has more than
/// `max_in_flight_per_tenant` (4) connections open and most of A's deliveries still wait.
/// Fails on main: one worker sent A's deliveries one after another, 10 s each, so B's event
/// waited behind 200 timeouts (over half an hour).
#[tokio::test]
async fn a_tenant_whose_receivers_never_answer_does_not_delay_another() {
    let gw = TestGateway::start(&[
        ("HUSHPAY__STORE", "sqlite"),
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
        ("HUSHPAY__WEBHOOKS__MAX_ENDPOINTS_PER_TENANT", "200"),
        ("HUSHPAY__WEBHOOKS__MAX_IN_FLIGHT_PER_TENANT", "4"),
    ])
    .await;
    let (_a, key_a) = gw.tenant("slow").await;
    let (b, key_b) = gw.tenant("healthy").await;
    let hole = Blackhole::start().await;
    for i in 0..200 {
        let url = format!("http://127.0.0.1:{}/a/{i}", hole.port);
        let r = post_json(&gw, "/v1/webhooks", &key_a, json!({ "url": url })).await;
        assert_eq!(r.status(), 201, "endpoint {i}");
    }
    cancelled_payment(&gw, &key_a).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while hole.accepted.load(Ordering::SeqCst) < 4 {
        assert!(Instant::now() < deadline, "A's deliveries never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let dir = tempfile::tempdir().unwrap();
    let (out, secret_file) = (dir.path().join("events.jsonl"), dir.path().join("secret"));
    let receiver = Receiver::start(&out, &secret_file, 0);
    let r = post_json(
        &gw,
        "/v1/webhooks",
        &key_b,
        json!({ "url": receiver.url() }),
    )
    .await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    std::fs::write(&secret_file, created["secret"].as_str().unwrap()).unwrap();
    let (pk, kid) = vault_key(&gw).await;
    let (pay, client_secret) = new_payment(&gw, &key_b).await;
    let sealed = seal(
        &pk,
        &kid,
        b.id.as_str(),
        &pay,
        &tracer_pan(),
        Some("123"),
        None,
    );
    let r = post_json(
        &gw,
        &format!("/v1/payments/{pay}/card"),
        &client_secret,
        json!({ "sealed": sealed }),
    )
    .await;
    assert_eq!(r.status(), 200);
    let succeeded_at = Instant::now();
    loop {
        let text = std::fs::read_to_string(&out).unwrap_or_default();
        let arrived = text.lines().any(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            v["event"]["type"] == "payment.succeeded" && v["event"]["data"]["id"] == pay.as_str()
        });
        if arrived {
            break;
        }
        assert!(
            succeeded_at.elapsed() < Duration::from_secs(5),
            "B's payment.succeeded did not arrive within 5 s (A's connections: {})",
            hole.accepted.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        hole.max_open.load(Ordering::SeqCst) <= 4,
        "A stays within its bound: {} open at once",
        hole.max_open.load(Ordering::SeqCst)
    );
    assert!(
        hole.accepted.load(Ordering::SeqCst) < 200,
        "A's deliveries are still waiting their turn, not dropped"
    );
}
