//! The room's node loses its database (a TCP proxy in front of PostgreSQL, cut): it goes
//! unready, stops recording its room, and no payment is taken for the room through another
//! node; when the database is back the pause is audited (late: the audit log was in the lost
//! database), the recording resumes, and payments are taken again.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::harness::speech;
use crate::nodes::{Cluster, join};

/// A TCP proxy that can be cut (every connection dropped, new ones closed at once).
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (c, k) = (Arc::clone(&cut), Arc::clone(&conns));
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: closed at once
                }
                let upstream = upstream.clone();
                k.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut out) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                    }
                }));
            }
        });
        Proxy {
            port,
            cut,
            conns,
            _accept: accept,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// `/readyz`'s error code on node `i` (`None` when ready).
async fn unready(cluster: &Cluster, i: usize) -> Option<String> {
    let r = cluster
        .client
        .get(cluster.url(i, "/readyz"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    v["error"]["code"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_its_database_records_nothing_and_takes_no_payment() {
    // node-1 reaches PostgreSQL through the proxy; node-2 directly.
    let direct = crate::nodes::postgres_server();
    let proxy = Proxy::start(direct.clone()).await;
    let schema = hushpay_store::ScratchSchema::create("clusterdb")
        .await
        .unwrap();
    let via_proxy = schema
        .url()
        .replace(&direct, &format!("127.0.0.1:{}", proxy.port));
    let mut cluster = Cluster::start_on(schema, 1, &[("HUSHPAY__STORE", via_proxy.as_str())]).await;
    cluster.start_node(2, &[]).await;
    let room = "visit-5";
    let patient = join(&cluster, 1, "patient-1", room, "patient").await;
    let agent = join(&cluster, 2, "agent-7", room, "agent").await;
    patient.play(&speech("Hello."), &[]).await.unwrap();

    proxy.cut();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    // (Its own health watch noticed: it refuses to vouch for its rooms.)
    while unready(&cluster, 1).await.as_deref() != Some("cluster_unavailable") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "node-1 still in the cluster without its store"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = json!({"amount": 700, "currency": "USD", "reference": "visit-5", "mode": "charge",
        "method": "keypad", "room": room, "required_fields": ["payment-card-number", "expiration-date"]});
    let (status, refused) = cluster.post(2, "/v1/payments", Some(body.clone())).await;
    assert_eq!(status, 503, "{refused}");
    assert_eq!(refused["error"]["code"], "room_unreachable", "{refused}");
    patient.play(&speech("Are you there?"), &[]).await.unwrap();

    proxy.restore();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let (status, created) = cluster.post(2, "/v1/payments", Some(body.clone())).await;
        if status == 201 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no payment after the store returned: {created}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The pause closed while the audit log was unreachable is audited now, before its resume.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let rows = cluster.schema.table_contents().await.unwrap();
        let audit: Vec<&str> = rows
            .iter()
            .filter(|(t, _)| t == "audit_log")
            .flat_map(|(_, text)| text.lines())
            .filter(|l| l.contains("cluster-unavailable"))
            .collect();
        let pause = audit.iter().position(|l| l.contains("recording.pause"));
        let resume = audit.iter().position(|l| l.contains("recording.resume"));
        if let (Some(p), Some(r)) = (pause, resume) {
            assert!(p < r, "the pause is audited before the resume: {audit:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "pause and resume not audited: {audit:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    agent.leave().await;
    patient.leave().await;
}
