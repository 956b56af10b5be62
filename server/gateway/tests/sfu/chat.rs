//! Chat over the data channel: relayed with id, timestamp and sender; card numbers (plain,
//! disguised, split) never reach the other side or the transcript; incidents are recorded.

use std::time::Duration;

use hushpay::sfu::chat::ChatOut;
use hushpay_card::chat_scan::NOTICE;

use crate::harness::*;

async fn next_message(bot: &mut hushpay_bots::Bot) -> ChatOut {
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
        ("my card is 4111 1111 1111 1111", "my card is {N}"),
        ("５５５５－５５５５－５５５５－４４４４", "{N}"),
        ("3782\u{200B}8224\u{200B}6310\u{200B}005", "{N}"),
        ("٤١١١ ١١١١ ١١١١ ١١١١ please", "{N} please"),
        ("6011.1111.1111.1117 exp 12/29", "{N} exp 12/29"),
    ];
    for (text, expected) in cases {
        patient.chat(text).await.unwrap();
        let ChatOut::Chat(m) = next_message(&mut agent).await else {
            panic!("expected a chat frame")
        };
        assert!(m.redacted, "{text:?}");
        assert_eq!(m.text, expected.replace("{N}", NOTICE), "{text:?}");
        // The sender sees the notice too (its echo carries the id).
        let ChatOut::Chat(echo) = next_message(&mut patient).await else {
            panic!("expected the echo")
        };
        assert_eq!(echo.id, m.id);
        assert!(echo.redacted);
    }

    // Words end the digit chain of the last message.
    patient.chat("one moment").await.unwrap();
    let _ = next_message(&mut agent).await;
    let _ = next_message(&mut patient).await;

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

    // Split over four messages with the agent asking in between: all three fragments are
    // retracted; the agent's messages do not break the patient's chain.
    patient.chat("ok").await.unwrap();
    let _ = next_message(&mut agent).await;
    let _ = next_message(&mut patient).await;
    let mut fragments = Vec::new();
    for (i, part) in ["5555", "5555", "5555", "4444"].into_iter().enumerate() {
        if i > 0 {
            agent.chat("and the next four?").await.unwrap();
            let _ = next_message(&mut agent).await;
            let _ = next_message(&mut patient).await;
        }
        patient.chat(part).await.unwrap();
        if i < 3 {
            let ChatOut::Chat(m) = next_message(&mut agent).await else {
                panic!()
            };
            assert!(!m.redacted);
            fragments.push(m.id);
            let _ = next_message(&mut patient).await;
        }
    }
    let mut retracted = Vec::new();
    loop {
        match next_message(&mut agent).await {
            ChatOut::ChatRetract { id, text } => {
                assert_eq!(text, NOTICE);
                retracted.push(id);
            }
            ChatOut::Chat(m) => {
                assert!(m.redacted);
                assert_eq!(m.text, NOTICE);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(retracted, fragments);
    while !matches!(next_message(&mut patient).await, ChatOut::Chat(_)) {}
    // A CVC sent right after the number goes too.
    patient.chat("737").await.unwrap();
    let ChatOut::Chat(m) = next_message(&mut agent).await else {
        panic!()
    };
    assert!(m.redacted && m.text == NOTICE, "{m:?}");
    let _ = next_message(&mut patient).await;

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

    // The transcript holds no card number; incidents were audited.
    let transcript = gw
        .state
        .sfu
        .archive
        .transcript(tenant.id.as_str(), "chat-1")
        .await
        .unwrap();
    let all: String = transcript
        .iter()
        .map(|m| m.text.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("your appointment"), "{all}");
    for needle in [
        "4111",
        "5555",
        "3782",
        "6011",
        "５５５５",
        "١١١١",
        "4444",
        "737",
    ] {
        assert!(!all.contains(needle), "transcript holds {needle}: {all}");
    }
    let incidents = chat_incidents(&gw).await;
    assert_eq!(incidents.len(), 8);
    assert!(
        incidents
            .iter()
            .all(|e| e.tenant.as_ref() == Some(&tenant.id) && e.actor == "patient:patient-1"),
        "{incidents:?}"
    );
    assert_eq!(
        incidents
            .iter()
            .filter(|e| e.outcome.contains("1 earlier message"))
            .count(),
        1
    );
    assert_eq!(
        incidents
            .iter()
            .filter(|e| e.outcome.contains("3 earlier message"))
            .count(),
        1
    );

    // Bad chat frames get errors on the channel, nothing is relayed.
    for frame in [
        "not json",
        r#"{"type":"typing"}"#,
        r#"{"type":"chat","text":"hi","to":"agent-7"}"#,
        r#"{"type":"chat","text":7}"#,
        "",
    ] {
        patient.chat_raw(frame).await.unwrap();
        let ChatOut::Error { code, .. } = next_message(&mut patient).await else {
            panic!("{frame:?}")
        };
        assert_eq!(code, "bad_message", "{frame:?}");
    }
    patient.chat(&"x".repeat(5000)).await.unwrap();
    let ChatOut::Error { code, .. } = next_message(&mut patient).await else {
        panic!()
    };
    assert_eq!(code, "message_too_large");

    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}
