//! The `http` relay connector against a local HTTPS processor (rustls with an rcgen
//! certificate trusted through `ca_file`): the template is rendered with the card inside the
//! vault, sent only to the allowlisted host, and the response mapped to approved (with the
//! processor's authorization code) or declined; a dead processor is a `processing-error`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::{Arc, Mutex};

use common::TestGateway;
use common::cards::{seal, tracer_pan, vault_key};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Bodies the processor received.
type Seen = Arc<Mutex<Vec<Value>>>;

/// Starts the processor; returns its port, its CA PEM and what it saw.
async fn processor() -> (u16, String, Seen, tokio::task::JoinHandle<()>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let pem = cert.cert.pem();
    let der = CertificateDer::from(cert.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![der], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let s = Arc::clone(&seen);
    let task = tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let (acceptor, seen) = (acceptor.clone(), Arc::clone(&s));
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let body = read_request(&mut tls).await;
                let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let answer = if v["card"]["number"]
                    .as_str()
                    .is_some_and(|n| n.ends_with("0002"))
                {
                    json!({"result": {"status": "DECLINED"}, "reason": "insufficient_funds"})
                } else {
                    json!({"result": {"status": "APPROVED"}, "auth": "PRC-778"})
                };
                seen.lock().unwrap().push(v);
                let text = answer.to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = tls.write_all(response.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (port, pem, seen, task)
}

/// Reads one HTTP/1.1 request and returns its body.
async fn read_request(stream: &mut (impl AsyncReadExt + Unpin)) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.unwrap_or(0);
        if n == 0 {
            return Vec::new();
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap_or(0));
            while buf.len() < end + 4 + len {
                let n = stream.read(&mut chunk).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return buf[end + 4..].to_vec();
        }
    }
}

fn config(port: u16, ca_file: &std::path::Path) -> String {
    format!(
        r#"
[payments]
connector = "http"

[payments.http]
url = "https://localhost:{port}/v1/authorize"
allowed_hosts = ["localhost"]
body_template = '{{"card":{{"number":"{{{{card.number}}}}","exp_month":{{{{card.exp_month}}}},"exp_year":{{{{card.exp_year}}}},"cvc":"{{{{card.cvc}}}}"}},"amount":{{{{amount}}}},"currency":"{{{{currency}}}}","reference":"{{{{reference}}}}"}}'
headers = {{ authorization = "Bearer sk_test_processor" }}
approved_pointer = "/result/status"
approved_values = ["APPROVED"]
authorization_code_pointer = "/auth"
decline_code_pointer = "/reason"
ca_file = "{}"
timeout_secs = 5
"#,
        ca_file.display()
    )
}

async fn pay(gw: &TestGateway, key: &str, pan: &str) -> Value {
    let (pk, kid) = vault_key(gw).await;
    let resp = gw
        .client
        .post(gw.url("/v1/payments"))
        .bearer_auth(key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"amount": 12345, "currency": "EUR", "reference": "ref \"7\"", "mode": "charge", "method": "card-form"}))
        .send()
        .await
        .unwrap();
    let created: Value = resp.json().await.unwrap();
    let id = created["payment"]["id"].as_str().unwrap();
    let secret = created["client_secret"].as_str().unwrap();
    let tenant = created["payment"]["tenant"].as_str().unwrap();
    let sealed = seal(&pk, &kid, tenant, id, pan, Some("314"), None);
    let resp = gw
        .client
        .post(gw.url(&format!("/v1/payments/{id}/card")))
        .bearer_auth(secret)
        .json(&json!({ "sealed": sealed }))
        .send()
        .await
        .unwrap();
    resp.json::<Value>().await.unwrap()["payment"].clone()
}

#[tokio::test]
async fn charges_go_to_the_allowlisted_processor_over_tls() {
    let (port, pem, seen, task) = processor().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let gw = TestGateway::start_with_toml(&config(port, &ca), &[]).await;
    let (_t, key) = gw.tenant("clinic").await;

    let pan = tracer_pan();
    let ok = pay(&gw, &key, &pan).await;
    assert_eq!(ok["state"], "succeeded", "{ok}");
    assert_eq!(ok["authorization_code"], "PRC-778");
    let sent = seen.lock().unwrap()[0].clone();
    assert_eq!(sent["card"]["number"], pan.as_str());
    assert_eq!(sent["card"]["exp_month"], 11);
    assert_eq!(sent["card"]["exp_year"], 2034);
    assert_eq!(sent["card"]["cvc"], "314");
    assert_eq!(sent["amount"], 12345);
    assert_eq!(sent["currency"], "EUR");
    assert_eq!(
        sent["reference"], "ref \"7\"",
        "escaped into the JSON template"
    );

    let declined = pay(&gw, &key, "4000000000000002").await;
    assert_eq!(declined["state"], "failed");
    assert_eq!(declined["result"], "payment-connector-error");
    assert_eq!(declined["error"], "insufficient-funds");

    // The processor goes away: a processing error, not a hang or a 5xx.
    task.abort();
    let _ = task.await;
    let down = pay(&gw, &key, &tracer_pan()).await;
    assert_eq!(down["state"], "failed");
    assert_eq!(down["error"], "processing-error");
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_processing_error() {
    let (port, _pem, seen, _task) = processor().await;
    let dir = tempfile::tempdir().unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, other.cert.pem()).unwrap();
    let gw = TestGateway::start_with_toml(&config(port, &ca), &[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let p = pay(&gw, &key, &tracer_pan()).await;
    assert_eq!(p["error"], "processing-error");
    assert!(
        seen.lock().unwrap().is_empty(),
        "nothing sent without a trusted TLS session"
    );
}
