//! The chat transcript is stored encrypted with the room, and card numbers typed in chat reach
//! neither the database files nor the audit log; each interception is audited in the hash chain.

use std::time::Duration;

use hushpay::sfu::chat::ChatOut;
use hushpay_card::chat_scan::NOTICE;
use hushpay_card::leak_scan::{self, Net, Tracers};
use hushpay_store::TenantId;
use hushpay_vault::VaultError;

use crate::common::{TestGateway, data_dir_hits};
use crate::harness::*;

const WHOLE: &str = "4111111111111111";
const SPLIT: &str = "5555555555554444";
const ARABIC: &str = "378282246310005";
const AGENT_TEXT: &str = "thanks, noted: transcript-marker-7f3a";

async fn wait_for_text(bot: &mut hushpay_bots::Bot, text: &str) {
    loop {
        match bot.next_chat(Duration::from_secs(5)).await {
            Some(ChatOut::Chat(m)) if m.text == text => return,
            Some(_) => {}
            None => panic!("{text:?} never arrived"),
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_transcript_is_encrypted_in_sqlite_and_no_file_holds_a_chat_card_number() {
    let gw = TestGateway::start(&[
        ("HUSHPAY__STORE", "sqlite"),
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
    ])
    .await;
    let (tenant, key) = gw.tenant("stored-chat").await;
    let room = "room-stored";
    let mut agent = bot(&gw, token(&gw, &key, "agent-3", room, "agent").await).await;
    let mut patient = bot(&gw, token(&gw, &key, "patient-3", room, "patient").await).await;

    patient
        .chat("my card is 4111 1111 1111 1111 exp 12/29")
        .await
        .unwrap();
    patient.chat("ok").await.unwrap();
    patient.chat("5555 5555").await.unwrap();
    patient.chat("5555 4444").await.unwrap();
    patient.chat("also ٣٧٨٢ ٨٢٢٤٦٣ ١٠٠٠٥").await.unwrap();
    patient.chat("done").await.unwrap();
    wait_for_text(&mut agent, "done").await;
    agent.chat(AGENT_TEXT).await.unwrap();
    wait_for_text(&mut patient, AGENT_TEXT).await;

    // In the store: ciphertext only, one row per message, in order.
    let tid = TenantId::new(tenant.id.as_str());
    let records = gw.state.store.chat_messages(&tid, room).await.unwrap();
    assert_eq!(records.len(), 7);
    for r in &records {
        assert!(!contains(&r.ciphertext, b"noted"));
        assert!(!contains(&r.ciphertext, b"5555"));
    }

    // It decrypts to the redacted text; the fragment of the split number was retracted.
    let transcript = gw
        .state
        .sfu
        .archive
        .transcript(tenant.id.as_str(), room)
        .await
        .unwrap();
    let texts: Vec<(&str, bool)> = transcript
        .iter()
        .map(|m| (m.text.as_str(), m.redacted))
        .collect();
    let expected_first = format!("my card is {NOTICE} exp 12/29");
    let expected_arabic = format!("also {NOTICE}");
    assert_eq!(
        texts,
        vec![
            (expected_first.as_str(), true),
            ("ok", false),
            (NOTICE, true),
            (NOTICE, true),
            (expected_arabic.as_str(), true),
            ("done", false),
            (AGENT_TEXT, false),
        ]
    );
    assert_eq!(transcript[6].from.role, "agent");
    assert_eq!(
        records.iter().map(|r| &r.id).collect::<Vec<_>>(),
        transcript.iter().map(|m| &m.id).collect::<Vec<_>>()
    );

    // Bound to its message: another message's ciphertext in this row does not decrypt.
    gw.state
        .store
        .replace_chat_message(
            &tid,
            room,
            &records[1].id,
            records[0].key_version,
            &records[0].ciphertext,
        )
        .await
        .unwrap();
    let err = gw
        .state
        .sfu
        .archive
        .transcript(tenant.id.as_str(), room)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::Decrypt), "{err}");

    // Three incidents, in a chain that verifies, without any digit of the numbers.
    let incidents = chat_incidents(&gw).await;
    assert_eq!(incidents.len(), 3, "{incidents:?}");
    assert_eq!(
        incidents
            .iter()
            .filter(|e| e.outcome.contains("1 earlier message"))
            .count(),
        1
    );
    let report = hushpay_vault::audit::verify(gw.state.store.as_ref())
        .await
        .unwrap();
    assert_eq!(report.problem, None);
    assert!(report.entries >= 3);

    // Tracer scan of every file in the data directory (database, WAL, shm, keys) and of the
    // audit entries: none of the numbers typed in chat.
    let mut tracers = Tracers::new();
    for (label, pan) in [("whole", WHOLE), ("split", SPLIT), ("arabic", ARABIC)] {
        tracers.add(label, pan).unwrap();
    }
    let (mut hits, marker_found) = data_dir_hits(&gw.state, &tracers, b"transcript-marker");
    let audit_json = serde_json::to_string(&incidents).unwrap();
    for h in leak_scan::scan(&tracers, audit_json.as_bytes(), Net::KnownBrands) {
        hits.push(format!("audit: {h:?}"));
    }
    assert!(hits.is_empty(), "tracer hits: {hits:?}");
    assert!(!marker_found, "the agent's text is not stored in the clear");

    // Positive control: the same scan finds a planted tracer.
    let planted = format!("{{\"text\":\"5555 5555\\u0020{}\"}}", &SPLIT[8..]);
    assert!(!leak_scan::scan(&tracers, planted.as_bytes(), Net::KnownBrands).is_empty());

    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}
