//! A phone caller keys a card number by SIP INFO (`application/dtmf-relay`, the way many PBXs
//! relay keys) during a keypad payment: each INFO is answered 200, the digits reach the
//! payment's collector and the card number is captured; a body that is not one key is refused
//! 400 and adds nothing.

use std::time::Duration;

use hushpay_vault::payment::State;

use crate::common::cards::tracer_pan;
use crate::harness::*;
use crate::phone_caller::sip_listener;
use crate::phone_caller_hang_up::{Caller, participants};

/// Sends an INFO with `body` (dtmf-relay) and returns the response's status line.
pub(crate) async fn info(caller: &Caller, cseq: u32, body: &str) -> String {
    let head = String::from_utf8(caller.request("INFO", cseq, None)).unwrap();
    let msg = head.replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/dtmf-relay\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    );
    caller
        .sip
        .send_to(msg.as_bytes(), caller.target)
        .await
        .unwrap();
    let reply = caller.recv().await;
    reply.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_card_number_keyed_by_sip_info_is_captured() {
    let gw = gateway().await;
    let (t, key) = gw.tenant("clinic").await;
    let server = sip_listener(&gw, t.id.as_str()).await;
    let _agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let mut caller = Caller::new("info-keys-1", server.udp_addr).await;
    caller.call().await;
    participants(&gw, 2).await;
    let id = keypad_payment_capturing_the_card(&gw, &key, "call-1", 1200).await;

    let pan = tracer_pan();
    // not one key: refused, nothing collected
    assert!(
        info(&caller, 2, &format!("Signal={pan}\r\n"))
            .await
            .starts_with("SIP/2.0 400")
    );
    for (i, k) in format!("{pan}#").chars().enumerate() {
        let status = info(
            &caller,
            3 + i as u32,
            &format!("Signal={k}\r\nDuration=120\r\n"),
        )
        .await;
        assert!(status.starts_with("SIP/2.0 200"), "{status}");
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    let p = card_number_captured(&gw, &id, Duration::from_secs(10)).await;
    assert_eq!(p.state, State::Collecting);
    if let Some(card) = p.card {
        assert_eq!(card.last4, pan[12..]);
    }
}
