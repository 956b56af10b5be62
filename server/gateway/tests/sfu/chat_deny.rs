//! Audit or deny: a chat message whose card-number incident cannot be audited, or whose
//! transcript entry cannot be stored, is refused with a stable error and reaches nobody.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hushpay::sfu::Sfu;
use hushpay::sfu::chat::{ChatArchive, ChatIncident, ChatMessage, ChatOut, IncidentSink};
use hushpay::sfu::transcript::{AuditIncidents, VaultChatArchive};
use hushpay_store::StoreError;
use hushpay_vault::VaultError;

use crate::common::TestGateway;
use crate::harness::*;

/// An audit log and a transcript store that are down.
#[derive(Debug)]
struct Down;

fn down() -> StoreError {
    StoreError::Backend("test: unavailable".into())
}

#[async_trait]
impl IncidentSink for Down {
    async fn chat_card_number(&self, _: &ChatIncident) -> Result<(), VaultError> {
        Err(VaultError::AuditUnavailable(down()))
    }
}

#[async_trait]
impl ChatArchive for Down {
    async fn append(&self, _: &str, _: &str, _: &ChatMessage) -> Result<(), VaultError> {
        Err(VaultError::Store(down()))
    }
    async fn redact(&self, _: &str, _: &str, _: &str, _: &str) -> Result<(), VaultError> {
        Err(VaultError::Store(down()))
    }
    async fn transcript(&self, _: &str, _: &str) -> Result<Vec<ChatMessage>, VaultError> {
        Err(VaultError::Store(down()))
    }
}

/// A gateway whose SFU uses `Down` for the audit log (`audit_down`) or the transcript.
async fn gateway_with(audit_down: bool) -> TestGateway {
    TestGateway::start_with(&[("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150")], |state| {
        let vault = Arc::clone(&state.vault.vault);
        let (archive, incidents): (Arc<dyn ChatArchive>, Arc<dyn IncidentSink>) = if audit_down {
            (
                Arc::new(VaultChatArchive::new(vault, Arc::clone(&state.store) as _)),
                Arc::new(Down),
            )
        } else {
            (Arc::new(Down), Arc::new(AuditIncidents::new(vault)))
        };
        state.sfu = Arc::new(
            Sfu::new(
                state.config.sfu.clone(),
                Arc::clone(&state.metrics),
                archive,
                incidents,
                Arc::clone(&state.store),
            )
            .unwrap(),
        );
    })
    .await
}

async fn expect_error(bot: &mut hushpay_bots::Bot, code: &str) {
    match bot.next_chat(Duration::from_secs(5)).await {
        Some(ChatOut::Error { code: got, .. }) => assert_eq!(got, code),
        other => panic!("expected {code}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_is_refused_when_the_audit_log_or_the_transcript_cannot_be_written() {
    for audit_down in [true, false] {
        let gw = gateway_with(audit_down).await;
        let (_t, key) = gw.tenant("deny").await;
        let mut agent = bot(&gw, token(&gw, &key, "agent-1", "deny-1", "agent").await).await;
        let mut patient = bot(
            &gw,
            token(&gw, &key, "patient-1", "deny-1", "patient").await,
        )
        .await;

        patient.chat("4111 1111 1111 1111").await.unwrap();
        let code = if audit_down {
            "audit_unavailable"
        } else {
            "storage_unavailable"
        };
        expect_error(&mut patient, code).await;
        if audit_down {
            // Without a card number nothing needs auditing: the message goes through.
            patient.chat("hello").await.unwrap();
            match agent.next_chat(Duration::from_secs(5)).await {
                Some(ChatOut::Chat(m)) => assert_eq!(m.text, "hello"),
                other => panic!("expected the clean message, got {other:?}"),
            }
        } else {
            patient.chat("hello").await.unwrap();
            expect_error(&mut patient, "storage_unavailable").await;
        }
        // Nothing refused ever reached the agent.
        assert!(
            agent.next_chat(Duration::from_millis(500)).await.is_none(),
            "the agent receives nothing else"
        );
        agent.leave().await;
        patient.leave().await;
        assert_released(&gw).await;
    }
}
