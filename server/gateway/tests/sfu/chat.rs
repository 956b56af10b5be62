//! Chat over the data channel: relayed with id, timestamp and sender; card numbers (plain,
//! disguised, split) never reach the other side or the transcript; incidents are recorded.

use std::time::Duration;

use hushpay::sfu::chat::{CARD_NOTICE, ChatOut};

use crate::harness::*;

async fn next_message(bot: &mut hushpay::bot::Bot) -> ChatOut {
    bot.next_chat(Duration::from_secs(5))
        .await
        .expect("a chat frame arrives")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn card_numbers_in_chat_are_intercepted_before_relay_and_storage() {
    let gw = gateway().await;
    let (tenant, key) = gw.tenant("clinic").await;
    let mut agent = bot(&gw, token(&gw, &key, "agent-7", "chat-1", "agent").await).await;
    let mut patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "chat-1", "patient").await,
    )
    .await;

    let cases = [
        "my card is 4111 1111 1111 1111",
        "５５５５－５５５５－５５５５－４４４４",
        "3782\u{200B}8224\u{200B}6310\u{200B}005",
        "6011.1111.1111.1117 exp 12/29",
    ];
    for text in cases {
        patient.chat(text).await.unwrap();
        let ChatOut::Chat(m) = next_message(&mut agent).await else {
            panic!("expected a chat frame")
        };
        assert!(m.redacted, "{text:?}");
        assert_eq!(m.text, CARD_NOTICE);
        // The sender sees the notice too (its echo carries the id).
        let ChatOut::Chat(echo) = next_message(&mut patient).await else {
            panic!("expected the echo")
        };
        assert_eq!(echo.id, m.id);
        assert!(echo.redacted);
    }

    // Split across messages: the fragment is retracted when the rest arrives.
    patient.chat("4111 1111").await.unwrap();
    let ChatOut::Chat(first) = next_message(&mut agent).await else {
        panic!()
    };
    assert!(!first.redacted);
    let _ = next_message(&mut patient).await;
    patient.chat("1111 1111").await.unwrap();
    let m = next_message(&mut agent).await;
    let ChatOut::ChatRetract { id, .. } = m else {
        panic!("expected a retraction, got {m:?}")
    };
    assert_eq!(id, first.id);
    let ChatOut::Chat(second) = next_message(&mut agent).await else {
        panic!()
    };
    assert!(second.redacted);
    // The sender sees the same retraction and notice.
    assert!(matches!(
        next_message(&mut patient).await,
        ChatOut::ChatRetract { .. }
    ));
    assert!(matches!(next_message(&mut patient).await, ChatOut::Chat(m) if m.redacted));

    // Ordinary text passes both ways.
    agent
        .chat("your appointment is on 2024-01-15, call +1 555 123 4567")
        .await
        .unwrap();
    let ChatOut::Chat(m) = next_message(&mut patient).await else {
        panic!()
    };
    assert_eq!(
        m.text,
        "your appointment is on 2024-01-15, call +1 555 123 4567"
    );
    assert_eq!(m.from.role, "agent");

    // The transcript holds no card number; incidents were recorded.
    let transcript = gw
        .state
        .sfu
        .archive
        .transcript(tenant.id.as_str(), "chat-1");
    let all: String = transcript
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    for needle in ["4111", "5555", "3782", "6011", "５５５５"] {
        assert!(!all.contains(needle), "transcript holds {needle}: {all}");
    }
    let incidents = gw.state.sfu.memory_incidents.as_ref().unwrap().all();
    assert_eq!(incidents.len(), 5);
    assert!(
        incidents
            .iter()
            .any(|i| i.split && i.retracted == vec![first.id.clone()])
    );

    // Bad chat frames get errors on the channel, nothing is relayed.
    patient.chat_raw("not json").await.unwrap();
    let ChatOut::Error { code, .. } = next_message(&mut patient).await else {
        panic!()
    };
    assert_eq!(code, "bad_message");
    patient.chat(&"x".repeat(5000)).await.unwrap();
    let ChatOut::Error { code, .. } = next_message(&mut patient).await else {
        panic!()
    };
    assert_eq!(code, "message_too_large");

    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}
