//! A third-party IVR hands its caller over for a payment (issue 15, "on-demand media"), against
//! SIPp as the IVR: the tenant's backend creates an `ivr` payment with `channel: "sip"` and a
//! `return_uri`; SIPp calls the payment's address, keys the card by SIP INFO after each prompt,
//! and expects the REFER back to its `return_uri` with the result in `X-Hushpay-*` headers
//! (on the REFER and inside its `Refer-To`), answers it 202 and NOTIFYs success; the BYE that
//! follows carries the result too. The payment succeeds, the signed webhook arrives, the
//! caller has left its room, and no card digit went to the IVR's side. Calls to anything but
//! an open hand-off payment of the trunk's tenant are refused 404 before they are answered.

use std::fmt::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use hushpay::ivr::config::IvrConfig;
use hushpay_prompts::language::Language;
use hushpay_prompts::prompt::PromptSet;
use hushpay_prompts::speech as spoken;
use hushpay_vault::payment::State;
use serde_json::{Value, json};

use crate::common::receiver::Receiver;
use crate::common::sipp::{Sipp, free_udp_port};
use crate::common::{TestGateway, assert_error};
use crate::harness::*;
use crate::phone_caller::sip_listener_with;
use crate::phone_caller_hang_up::Caller;

/// The gateway's SIP listener: one loopback trunk for `tenant`, calls naming a payment go to
/// the payment (`payments = true`).
async fn hand_off_listener(gw: &TestGateway, tenant: &str) -> hushpay::sip::server::SipServer {
    sip_listener_with(gw, tenant, "payments = true").await
}

/// How long `names` play back to back, and a margin for the 2-core debug build.
fn after(prompts: &PromptSet, names: &[&str]) -> u64 {
    let frames: usize = names
        .iter()
        .map(|n| prompts.clip(n).unwrap().frames())
        .sum();
    frames as u64 * 20 + 1_200
}

/// One INFO per key, each answered 200, 150 ms apart.
fn keys(xml: &mut String, cseq: &mut u32, keys: &str) {
    for k in keys.chars() {
        let _ = write!(
            xml,
            r#"
  <send retrans="500"><![CDATA[

      INFO [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:ivr@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>;tag=[$hushpay_tag]
      Call-ID: [call_id]
      CSeq: {cseq} INFO
      Max-Forwards: 70
      Content-Type: application/dtmf-relay
      Content-Length: [len]

Signal={k}
Duration=100
]]></send>
  <recv response="200"/>
  <pause milliseconds="150"/>"#
        );
        *cseq += 1;
    }
}

/// The IVR's scenario: transfer in, key after each prompt, be sent back to `back`.
fn scenario(prompts: &PromptSet, pan: &str) -> String {
    let mut confirm = vec!["confirm-paying"];
    confirm.extend(spoken::amount(4250, "USD"));
    confirm.push("confirm-card-ending");
    confirm.extend(spoken::digits(&pan[pan.len() - 4..]));
    confirm.push("confirm-press");
    let mut xml = String::from(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="third-party IVR hand-off">
  <send retrans="500"><![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:ivr@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:ivr@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

v=0
o=- 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=sendrecv
]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true">
    <action>
      <ereg regexp=";tag=([^;&gt;[:space:]]+)" search_in="hdr" header="To:" assign_to="junk,hushpay_tag"/>
    </action>
  </recv>
  <send><![CDATA[

      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:ivr@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>;tag=[$hushpay_tag]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

]]></send>"#,
    );
    let mut cseq = 2;
    for (ask, typed) in [
        (vec!["ask-card-number"], format!("{pan}#")),
        (vec!["ask-expiration-date"], "1230".to_owned()),
        (vec!["ask-security-code"], "123#".to_owned()),
        (confirm, "1".to_owned()),
    ] {
        let _ = write!(
            xml,
            "\n  <pause milliseconds=\"{}\"/>",
            after(prompts, &ask)
        );
        keys(&mut xml, &mut cseq, &typed);
    }
    let _ = write!(
        xml,
        r#"
  <recv request="REFER" timeout="30000">
    <action>
      <ereg regexp="^ *&lt;sip:back@127\.0\.0\.1:[0-9]+\?X-Hushpay-Payment-Id=pay_[A-Za-z0-9]+&amp;X-Hushpay-State=succeeded&amp;X-Hushpay-Result=success&amp;X-Hushpay-Token=tok_[A-Za-z0-9]+&amp;X-Hushpay-Card-Brand=visa&amp;X-Hushpay-Card-Last4=4242&gt;$" search_in="hdr" header="Refer-To:" check_it="true" assign_to="refer_to"/>
      <ereg regexp="^ *success$" search_in="hdr" header="X-Hushpay-Result:" check_it="true" assign_to="result"/>
    </action>
  </recv>
  <send><![CDATA[

      SIP/2.0 202 Accepted
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

]]></send>
  <send retrans="500"><![CDATA[

      NOTIFY sip:hushpay@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:ivr@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>;tag=[$hushpay_tag]
      Call-ID: [call_id]
      CSeq: {cseq} NOTIFY
      Max-Forwards: 70
      Event: refer
      Subscription-State: terminated;reason=noresource
      Content-Type: message/sipfrag;version=2.0
      Content-Length: [len]

SIP/2.0 200 OK
]]></send>
  <recv response="200"/>
  <recv request="BYE" timeout="10000">
    <action>
      <ereg regexp="^ *succeeded$" search_in="hdr" header="X-Hushpay-State:" check_it="true" assign_to="state"/>
    </action>
  </recv>
  <send><![CDATA[

      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

]]></send>
  <!-- captured for their checks only -->
  <Reference variables="junk,refer_to,result,state"/>
</scenario>
"#
    );
    xml
}

/// Runs SIPp as the IVR calling `service` at `target` from `port`; (passed, its output).
async fn sipp(
    dir: &Path,
    xml: &str,
    service: &str,
    port: u16,
    target: std::net::SocketAddr,
) -> (bool, String) {
    let path = dir.join("ivr_hand_off.xml");
    std::fs::write(&path, xml).unwrap();
    Sipp::new(path, service)
        .port(port)
        .timeout(Duration::from_secs(90))
        .dir(dir)
        .call(target)
        .await
}

async fn create(gw: &TestGateway, key: &str, extra: Value) -> reqwest::Response {
    let mut body = json!({"amount": 4250, "currency": "USD", "reference": "visit-9",
                          "mode": "charge", "method": "ivr", "channel": "sip"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    gw.client
        .post(gw.url("/v1/payments"))
        .bearer_auth(key)
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_party_ivr_hands_its_caller_over_and_gets_it_back_with_the_result() {
    let gw = TestGateway::start(&[
        ("HUSHPAY__IVR__ENTRY_TIMEOUT_SECS", "15"),
        (
            "HUSHPAY__WEBHOOKS__DANGER_ALLOW_PRIVATE_WEBHOOK_TARGETS",
            "true",
        ),
        ("HUSHPAY__WEBHOOKS__POLL_INTERVAL_MS", "50"),
    ])
    .await;
    let (t, key) = gw.tenant("clinic").await;
    let server = hand_off_listener(&gw, t.id.as_str()).await;
    let dir = tempfile::tempdir().unwrap();
    let (out, secret_file) = (dir.path().join("events.jsonl"), dir.path().join("secret"));
    let receiver = Receiver::start(&out, &secret_file, 0);
    let resp = gw
        .client
        .post(gw.url("/v1/webhooks"))
        .bearer_auth(&key)
        .json(&json!({"url": receiver.url()}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let hook: Value = resp.json().await.unwrap();
    std::fs::write(&secret_file, hook["secret"].as_str().unwrap()).unwrap();

    let sipp_port = free_udp_port();
    let resp = create(
        &gw,
        &key,
        json!({"return_uri": format!("sip:back@127.0.0.1:{sipp_port}")}),
    )
    .await;
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let payment = &created["payment"];
    let id = payment["id"].as_str().unwrap().to_owned();
    assert_eq!(payment["room"], format!("sip-{id}"));
    assert_eq!(
        payment["hand_off"]["return_uri"],
        format!("sip:back@127.0.0.1:{sipp_port}")
    );
    assert_eq!(
        payment["state"], "requested",
        "nothing runs until the caller arrives"
    );

    let prompts = IvrConfig::default()
        .load_language(Language::English)
        .unwrap();
    let pan = "4242424242424242";
    let (passed, log) = sipp(
        dir.path(),
        &scenario(&prompts, pan),
        &id,
        sipp_port,
        server.udp_addr,
    )
    .await;
    assert!(passed, "SIPp (the IVR) saw the hand-off through:\n{log}");

    let done = gw.state.payments.load(&id).await.unwrap().payment;
    assert_eq!(done.state, State::Succeeded, "{done:?}");
    assert_eq!(done.card.as_ref().unwrap().last4, "4242");
    // the caller has left its room
    assert!(
        eventually(Duration::from_secs(5), || gw.state.sfu.participant_count()
            == 0)
        .await,
        "the caller left the payment's room"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    let events = loop {
        let events = std::fs::read_to_string(&out).unwrap_or_default();
        if events.contains("payment.succeeded") || Instant::now() > deadline {
            break events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        events.contains("payment.succeeded") && events.contains(&id),
        "payment.succeeded for {id} reached the webhook: {events}"
    );
    assert!(!events.contains(pan));
    assert!(!log.contains(pan), "SIPp saw no card number");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_naming_no_open_hand_off_payment_are_refused_404() {
    let gw = TestGateway::start(&[]).await;
    let (t, key) = gw.tenant("clinic").await;
    let (_, other_key) = gw.tenant("other").await;
    let server = hand_off_listener(&gw, t.id.as_str()).await;

    // a hand-off payment of another tenant, an agent's kind of payment, none at all
    let foreign: Value = create(&gw, &other_key, json!({}))
        .await
        .json()
        .await
        .unwrap();
    let card_form: Value = create_payment(
        &gw,
        &key,
        json!({"amount": 100, "currency": "USD", "reference": "r", "mode": "charge",
               "method": "card-form"}),
    )
    .await;
    let names = [
        foreign["payment"]["id"].as_str().unwrap().to_owned(),
        card_form["id"].as_str().unwrap().to_owned(),
        "pay_doesnotexist".to_owned(),
        "payline".to_owned(),
    ];
    for (i, name) in names.iter().enumerate() {
        let call_id: &'static str = Box::leak(format!("refused-{i}").into_boxed_str());
        let caller = Caller::new(call_id, server.udp_addr).await;
        let invite = String::from_utf8(caller.request("INVITE", 1, Some("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=sendrecv\r\n")))
            .unwrap()
            .replace("INVITE sip:payline@", &format!("INVITE sip:{name}@"));
        caller
            .sip
            .send_to(invite.as_bytes(), server.udp_addr)
            .await
            .unwrap();
        let final_ = loop {
            let m = caller.recv().await;
            if !m.starts_with("SIP/2.0 1") {
                break m;
            }
        };
        assert!(final_.starts_with("SIP/2.0 404 "), "{name}: {final_}");
    }
    assert_eq!(gw.state.sfu.participant_count(), 0);

    // the API: channel sip is the tenant's, for ivr payments without a room
    let agent = token(&gw, &key, "agent-1", "call-1", "agent").await;
    let resp = create(&gw, &agent, json!({})).await;
    assert_error(resp, 403, "wrong_role").await;
    for bad in [
        json!({"room": "call-1"}),
        json!({"method": "keypad"}),
        json!({"return_uri": "tel:+15551234"}),
        json!({"return_uri": "sip:a b@c"}),
    ] {
        let resp = create(&gw, &key, bad.clone()).await;
        assert_eq!(resp.status(), 422, "{bad}");
    }
    let resp = create(
        &gw,
        &key,
        json!({"channel": "room", "return_uri": "sip:x@y"}),
    )
    .await;
    assert_eq!(resp.status(), 422);
    drop(server);
}
