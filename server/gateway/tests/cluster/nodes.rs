//! A cluster on one machine: a NATS server of the test's own (so it can be stopped), one
//! PostgreSQL schema made for the test, and `hushpay serve` processes sharing both (and one
//! data directory: one set of development keys, as every node of a cluster must share).

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hushpay_store::ScratchSchema;
use serde_json::Value;

use crate::common::binary::Binary;

/// A free TCP port on loopback (bound and released).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A free UDP port on loopback (bound and released).
fn free_udp_port() -> u16 {
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().port()
}

/// `nats-server` with JetStream in a directory of its own.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Nats {
    pub fn start() -> Self {
        let mut nats = Nats {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().unwrap(),
        };
        nats.restart();
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts it (again, on the same port and store directory).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "NATS runs already");
        let child = Command::new("nats-server")
            .args([
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-js",
                "-sd",
            ])
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server (Debian package nats-server; scripts/setup.sh installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills it (the nodes see their connection drop).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The nodes and what they share.
pub struct Cluster {
    pub nats: Nats,
    pub schema: ScratchSchema,
    data: tempfile::TempDir,
    dirs: Vec<tempfile::TempDir>,
    pub nodes: Vec<Option<Binary>>,
    name: String,
    /// The demo tenant's API key (printed by the first node).
    pub api_key: String,
    pub client: reqwest::Client,
}

impl Cluster {
    /// `n` nodes, `node-1` .. `node-n`, started one after the other, each ready (in the
    /// cluster) before the next starts.
    pub async fn start(tag: &str, n: usize) -> Self {
        Self::start_with(tag, n, &[]).await
    }

    /// Like [`Cluster::start`], every node with `extra` env overrides.
    pub async fn start_with(tag: &str, n: usize, extra: &[(&str, &str)]) -> Self {
        Self::start_on(ScratchSchema::create(tag).await.unwrap(), n, extra).await
    }

    /// Like [`Cluster::start_with`], on a schema made already.
    pub async fn start_on(schema: ScratchSchema, n: usize, extra: &[(&str, &str)]) -> Self {
        let mut cluster = Cluster {
            nats: Nats::start(),
            schema,
            data: tempfile::tempdir().unwrap(),
            dirs: Vec::new(),
            nodes: Vec::new(),
            name: format!("t{}", uuid::Uuid::new_v4().simple()),
            api_key: String::new(),
            client: reqwest::Client::new(),
        };
        for i in 1..=n {
            cluster.start_node(i, extra).await;
        }
        cluster.api_key = cluster.nodes[0]
            .as_ref()
            .and_then(|b| b.api_key.clone())
            .expect("node-1 printed the demo tenant's API key");
        cluster
    }

    /// Starts node `i` (1-based; again after a kill) with extra env overrides, and waits
    /// until it is ready.
    pub async fn start_node(&mut self, i: usize, extra: &[(&str, &str)]) {
        while self.nodes.len() < i {
            self.nodes.push(None);
            self.dirs.push(tempfile::tempdir().unwrap());
        }
        let node_id = format!("node-{i}");
        let nats = self.nats.url();
        let data = self.data.path().display().to_string();
        let udp = free_udp_port().to_string();
        let demo = if i == 1 { "true" } else { "false" };
        let mut env: Vec<(&str, &str)> = vec![
            ("HUSHPAY__STORE", self.schema.url()),
            ("HUSHPAY__DATA_DIR", &data),
            ("HUSHPAY__DEMO__TENANT", demo),
            ("HUSHPAY__RTC__UDP_PORT", &udp),
            ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
            ("HUSHPAY__RECORDING__ENABLED", "true"),
            ("HUSHPAY__CLUSTER__NODE_ID", &node_id),
            ("HUSHPAY__CLUSTER__NATS_URL", &nats),
            ("HUSHPAY__CLUSTER__NAME", &self.name),
            ("HUSHPAY__CLUSTER__NODE_LEASE_SECS", "2"),
            ("HUSHPAY__CLUSTER__REQUEST_TIMEOUT_MS", "1500"),
        ];
        let log = std::env::var("HUSHPAY_TEST_NODE_LOG").unwrap_or_else(|_| "warn".into());
        env.push(("HUSHPAY_LOG", &log));
        env.extend_from_slice(extra);
        let dir: &Path = self.dirs[i - 1].path();
        let run = std::fs::read_dir(dir).map_or(0, |d| d.count());
        let node = Binary::start(dir, run, &env);
        let url = node.url.clone();
        self.nodes[i - 1] = Some(node);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ready = self.client.get(format!("{url}/readyz")).send().await;
            if let Ok(r) = ready
                && r.status() == 200
                && r.json::<Value>().await.unwrap()["node"] == node_id.as_str()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{node_id} did not join the cluster: {}",
                self.stderr(i)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn node(&self, i: usize) -> &Binary {
        self.nodes[i - 1].as_ref().expect("node running")
    }

    pub fn url(&self, i: usize, path: &str) -> String {
        format!("{}{path}", self.node(i).url)
    }

    /// The node's stderr so far (its logs), for failure messages.
    pub fn stderr(&self, i: usize) -> String {
        let dir = self.dirs[i - 1].path();
        let mut out = String::new();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().starts_with("stderr") {
                out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        out
    }

    /// Kills node `i` with SIGKILL (no drain, no goodbye).
    pub fn kill(&mut self, i: usize) {
        if let Some(mut node) = self.nodes[i - 1].take() {
            let _ = node.child.kill();
            let _ = node.child.wait();
        }
    }

    /// Sends SIGTERM to node `i` (a drain).
    pub fn terminate(&self, i: usize) {
        let pid = self.node(i).pid();
        let ok = Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -TERM");
    }

    /// Mints a participant token through node `i` (the role's default grants).
    pub async fn token(&self, i: usize, identity: &str, room: &str, role: &str) -> String {
        // Default grants: an agent may request payments and see them.
        let body = serde_json::json!({"identity": identity, "room": room, "role": role});
        let resp = self
            .client
            .post(self.url(i, "/v1/access-tokens"))
            .bearer_auth(&self.api_key)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "mint");
        let v: Value = resp.json().await.unwrap();
        v["token"].as_str().unwrap().to_owned()
    }

    /// `GET path` on node `i` with the API key: (status, JSON).
    pub async fn get(&self, i: usize, path: &str) -> (u16, Value) {
        let resp = self
            .client
            .get(self.url(i, path))
            .bearer_auth(&self.api_key)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// `POST path` on node `i` with the API key and a fresh Idempotency-Key: (status, JSON).
    pub async fn post(&self, i: usize, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .client
            .post(self.url(i, path))
            .bearer_auth(&self.api_key)
            .header("idempotency-key", uuid::Uuid::new_v4().to_string());
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    /// The signalling URL of node `i`.
    pub fn rtc_url(&self, i: usize) -> String {
        self.node(i).rtc_url()
    }
}

/// `host:port` of the test PostgreSQL server (`HUSHPAY_TEST_POSTGRES`, default loopback).
pub fn postgres_server() -> String {
    let url = std::env::var("HUSHPAY_TEST_POSTGRES")
        .unwrap_or_else(|_| hushpay_store::postgres::DEFAULT_TEST_SERVER.into());
    let after_at = url.rsplit_once('@').map_or(url.as_str(), |(_, h)| h);
    after_at
        .split('/')
        .next()
        .unwrap_or("127.0.0.1:5432")
        .to_owned()
}

/// A bot joining through node `i`'s signalling (redirects followed).
/// A bot for `identity` in `room` as `role`, joined through node `i` with a token it minted.
pub async fn join(
    cluster: &Cluster,
    i: usize,
    identity: &str,
    room: &str,
    role: &str,
) -> hushpay_bots::Bot {
    bot(cluster, i, cluster.token(i, identity, room, role).await).await
}

pub async fn bot(cluster: &Cluster, i: usize, token: String) -> hushpay_bots::Bot {
    hushpay_bots::Bot::connect(hushpay_bots::BotConfig {
        url: cluster.rtc_url(i),
        token,
        media_ip: [127, 0, 0, 1].into(),
        keep_payloads: true,
    })
    .await
    .expect("bot connects")
}
