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
                let answer = if v["op"].is_string() {
                    // Capture, void, refund: an amount of 77.77 fails.
                    if v["amount"] == 7777 {
                        json!({"result": {"status": "FAILED"}, "reason": "processing_error"})
                    } else {
                        json!({"result": {"status": "APPROVED"}})
                    }
                } else if v["card"]["number"]
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

/// The capture, void and refund sections (issue 17): each operation to its own path, no card
/// placeholder (the gateway refuses one there).
fn operations(port: u16) -> String {
    let section = |name: &str, extra: &str| {
        format!(
            "[payments.http.{name}]\nurl = \"https://localhost:{port}/v1/{name}\"\n\
             body_template = '{{\"op\":\"{name}\",\"authorization\":\"{{{{authorization_code}}}}\",\
             \"payment\":\"{{{{payment_id}}}}\",\"amount\":{{{{amount}}}},\"currency\":\"{{{{currency}}}}\"{extra}}}'\n"
        )
    };
    [
        section("capture", ""),
        section("void", ""),
        section("refund", r#","refund":"{{refund_id}}""#),
    ]
    .concat()
}

async fn pay(gw: &TestGateway, key: &str, pan: &str) -> Value {
    pay_in(gw, key, pan, "charge", 12345).await
}

async fn pay_in(gw: &TestGateway, key: &str, pan: &str, mode: &str, amount: u64) -> Value {
    let (pk, kid) = vault_key(gw).await;
    let resp = gw
        .client
        .post(gw.url("/v1/payments"))
        .bearer_auth(key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&json!({"amount": amount, "currency": "EUR", "reference": "ref \"7\"", "mode": mode, "method": "card-form"}))
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

/// `POST /v1/payments/{id}/{path}` with the API key.
async fn post(gw: &TestGateway, key: &str, id: &str, path: &str, body: Value) -> Value {
    let resp = gw
        .client
        .post(gw.url(&format!("/v1/payments/{id}/{path}")))
        .bearer_auth(key)
        .header("idempotency-key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let v: Value = resp.json().await.unwrap();
    assert!(status < 300 || status == 402, "{status} {v}");
    v
}

#[tokio::test]
async fn captures_voids_and_refunds_are_relayed_without_card_data() {
    let (port, pem, seen, _task) = processor().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let toml = config(port, &ca).replace(
        r#""reference":"{{reference}}"}'"#,
        r#""reference":"{{reference}}","capture":{{capture}}}'"#,
    ) + &operations(port);
    let gw = TestGateway::start_with_toml(&toml, &[]).await;
    let (_t, key) = gw.tenant("clinic").await;
    let pan = tracer_pan();

    let p = pay_in(&gw, &key, &pan, "authorize", 12345).await;
    assert_eq!(p["state"], "authorized", "{p}");
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(seen.lock().unwrap()[0]["capture"], false, "authorize only");
    let captured = post(&gw, &key, &id, "capture-funds", json!({"amount": 12000})).await;
    assert_eq!(captured["payment"]["state"], "captured");
    let refunded = post(&gw, &key, &id, "refunds", json!({"amount": 2500})).await;
    assert_eq!(refunded["refund"]["state"], "succeeded");
    let refund_id = refunded["refund"]["id"].as_str().unwrap().to_owned();
    let failed = post(&gw, &key, &id, "refunds", json!({"amount": 7777})).await;
    assert_eq!(failed["refund"]["state"], "failed");
    assert_eq!(failed["refund"]["error"], "processing-error");

    let v = pay_in(&gw, &key, &tracer_pan(), "authorize", 12345).await;
    let vid = v["id"].as_str().unwrap().to_owned();
    let voided = post(&gw, &key, &vid, "void", json!({})).await;
    assert_eq!(voided["payment"]["state"], "voided");
    let d = pay_in(&gw, &key, &tracer_pan(), "authorize", 7777).await;
    let did = d["id"].as_str().unwrap().to_owned();
    let declined = post(&gw, &key, &did, "capture-funds", json!({})).await;
    assert_eq!(declined["error"]["code"], "capture_declined");

    let charge = pay(&gw, &key, &tracer_pan()).await;
    assert_eq!(charge["state"], "succeeded");

    let seen = seen.lock().unwrap().clone();
    let ops: Vec<&Value> = seen.iter().filter(|v| v["op"].is_string()).collect();
    let summary: Vec<(String, u64)> = ops
        .iter()
        .map(|v| {
            (
                v["op"].as_str().unwrap().to_owned(),
                v["amount"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("capture".to_owned(), 12000),
            ("refund".to_owned(), 2500),
            ("refund".to_owned(), 7777),
            ("void".to_owned(), 12345),
            ("capture".to_owned(), 7777),
        ]
    );
    for op in &ops {
        assert_eq!(op["authorization"], "PRC-778");
        assert_eq!(op["currency"], "EUR");
        let text = op.to_string();
        assert!(
            !text.contains(&pan[..]) && !text.contains("314"),
            "no card data: {text}"
        );
    }
    assert_eq!(ops[0]["payment"], id.as_str());
    assert_eq!(ops[1]["refund"], refund_id.as_str());
    assert_eq!(ops[3]["payment"], vid.as_str());
    let charged = seen.iter().rfind(|v| v["card"].is_object()).unwrap();
    assert_eq!(charged["capture"], true, "a charge captures at once");
}
