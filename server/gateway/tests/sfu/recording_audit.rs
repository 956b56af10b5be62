//! Issue 12, finding 7: recording pauses and resumes are audit-or-deny.
//!
//! Before the fix the audit entry of a pause or resume was written by a spawned task whose
//! failure was only logged: with the audit log down, an agent's resume reopened the window and
//! the call was recorded with no audit trail of the resume. Now a resume is audited first and
//! denied (`audit_unavailable`, the room stays paused) when the entry cannot be written; a pause
//! still holds (refusing it would record more) and the agent is told it was not audited.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use hushpay::recording::{PauseAudit, Recorder};
use hushpay::sfu::Sfu;
use hushpay::sfu::room::RoomKey;
use hushpay::sfu::signal::ServerMessage;
use hushpay::sfu::transcript::{AuditIncidents, VaultChatArchive};
use hushpay_store::StoreError;
use hushpay_vault::VaultError;
use hushpay_vault::audit::AuditEvent;
use serde_json::json;

use crate::common::TestGateway;
use crate::harness::*;

/// An audit log that is down.
#[derive(Debug)]
struct Down;

#[async_trait]
impl PauseAudit for Down {
    async fn record(&self, _: AuditEvent) -> Result<(), VaultError> {
        Err(VaultError::AuditUnavailable(StoreError::Backend(
            "test: unavailable".into(),
        )))
    }
}

/// A recording gateway whose recorder audits to `Down`.
async fn gateway_with_audit_down() -> TestGateway {
    TestGateway::start_with(
        &[
            ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
            ("HUSHPAY__RECORDING__ENABLED", "true"),
            ("HUSHPAY__RECORDING__CHUNK_MS", "500"),
        ],
        |state| {
            let vault = Arc::clone(&state.vault.vault);
            let recorder = Arc::new(
                Recorder::new(
                    state.config.recording.clone(),
                    Arc::clone(&vault),
                    Arc::clone(&state.store) as _,
                    Arc::clone(&state.metrics),
                )
                .with_audit(Arc::new(Down)),
            );
            let mut sfu = Sfu::new(
                state.config.sfu.clone(),
                Arc::clone(&state.metrics),
                Arc::new(VaultChatArchive::new(
                    Arc::clone(&vault),
                    Arc::clone(&state.store) as _,
                )),
                Arc::new(AuditIncidents::new(vault)),
                Arc::clone(&state.store),
            )
            .unwrap();
            sfu.recorder = Arc::clone(&recorder) as _;
            let sfu = Arc::new(sfu);
            recorder.attach(&sfu);
            state.sfu = sfu;
            state.recorder = recorder;
        },
    )
    .await
}

/// The next error code the bot receives within 3 s (other frames skipped).
async fn next_error(bot: &mut hushpay_bots::Bot) -> String {
    loop {
        match tokio::time::timeout(Duration::from_secs(3), bot.events.recv()).await {
            Ok(Some(ServerMessage::Error { code, .. })) => return code,
            Ok(Some(_)) => continue,
            other => panic!("no error frame: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_that_cannot_be_audited_is_denied_and_a_pause_still_holds() {
    let gw = gateway_with_audit_down().await;
    let (t, key) = gw.tenant("audit-down").await;
    let room = "rec-audit-1";
    let room_key = RoomKey {
        tenant: t.id.as_str().to_owned(),
        name: room.to_owned(),
    };
    let mut agent = bot(&gw, token(&gw, &key, "agent-1", room, "agent").await).await;
    let patient = bot(&gw, token(&gw, &key, "patient-1", room, "patient").await).await;
    patient
        .play(&speech("before the pause"), &[])
        .await
        .unwrap();
    let recorded = |gw: &TestGateway| {
        gw.state
            .metrics
            .recording
            .packets
            .load(std::sync::atomic::Ordering::Relaxed)
    };
    assert!(
        eventually(Duration::from_secs(3), || recorded(&gw) > 0).await,
        "control: the call is recorded"
    );

    agent
        .send_signal(&json!({"type": "recording", "action": "pause"}))
        .unwrap();
    assert_eq!(next_error(&mut agent).await, "audit_unavailable");
    let state = gw.state.recorder.room_state(&room_key);
    assert!(state.paused, "the pause holds though it was not audited");

    agent
        .send_signal(&json!({"type": "recording", "action": "resume"}))
        .unwrap();
    assert_eq!(next_error(&mut agent).await, "audit_unavailable");
    let state = gw.state.recorder.room_state(&room_key);
    assert!(state.paused, "the unaudited resume is denied");
    assert_eq!(state.reasons, ["manual"]);

    let before = recorded(&gw);
    patient
        .play(&speech("after the resume"), &[])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        recorded(&gw),
        before,
        "nothing is recorded after the denied resume"
    );
    assert!(
        gw.state
            .metrics
            .recording
            .audit_failures
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 2
    );
    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}
