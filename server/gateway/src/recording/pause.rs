//! Pausing and resuming a room's recording, audit or deny: a pause closes the window at once
//! (fail closed) and then writes its audit entry, never refused (that would record more); a
//! resume writes its audit entry first and reopens the window only when it is written. Callers
//! that cannot wait (the payment hook, room creation) go through
//! [`Recorder::set_window_in_background`].

use std::sync::Weak;
use std::sync::atomic::Ordering;

use hushpay_store::TenantId;
use hushpay_vault::Vault;
use hushpay_vault::audit::AuditEvent;

use super::meta::MetaEvent;
use super::track::TrackMsg;
use super::{AUDIT_PAUSE, AUDIT_RESUME, Recorder, state_of, windows};
use crate::sfu::room::RoomKey;
use crate::sfu::signal::RecordingState;

impl Recorder {
    /// Closes the window for `reason` at once (nothing is recorded from now on), then writes
    /// the audit entry. A pause is never refused, that would record more: `Err` means the room
    /// is paused but the entry could not be written, and the caller says so.
    pub async fn pause(
        &self,
        key: &RoomKey,
        reason: &str,
        by: &str,
    ) -> Result<RecordingState, NotAudited> {
        let (audit, state) = self.close_now(key, reason, by);
        if let Some(event) = audit {
            self.write_audit(event).await?;
        }
        Ok(state)
    }

    /// Writes the audit entry of a resume, then reopens the window for `reason`: audit or
    /// deny. `Err` means the entry could not be written and the room stays paused.
    pub async fn resume(
        &self,
        key: &RoomKey,
        reason: &str,
        by: &str,
    ) -> Result<RecordingState, NotAudited> {
        let recording = {
            let rooms = self.lock();
            match rooms.get(key) {
                Some(e) if e.windows.holds(reason) => e.recording.as_ref().map(|r| r.id.clone()),
                entry => return Ok(state_of(entry)),
            }
        };
        self.write_audit(audit_event(key, reason, by, false, recording))
            .await?;
        Ok(self.open_now(key, reason))
    }

    /// Closes the window for `reason` now; the audit entry to write when it changed.
    fn close_now(
        &self,
        key: &RoomKey,
        reason: &str,
        by: &str,
    ) -> (Option<AuditEvent>, RecordingState) {
        let (changed, state, recording) = {
            let mut rooms = self.lock();
            let entry = rooms.entry(key.clone()).or_default();
            let changed = entry.windows.close(reason, by);
            if changed && let Some(rec) = &entry.recording {
                // What was recorded before the pause becomes durable now.
                for tx in rec.tracks.values() {
                    let _ = tx.try_send(TrackMsg::Seal);
                }
                let _ = rec.meta.send(MetaEvent::Pause {
                    reason: reason.to_owned(),
                    by: by.to_owned(),
                    at_ms: rec.now_ms(),
                });
            }
            let recording = entry.recording.as_ref().map(|r| r.id.clone());
            (changed, state_of(Some(entry)), recording)
        };
        if !changed {
            return (None, state);
        }
        self.notify(key, &state);
        (Some(audit_event(key, reason, by, true, recording)), state)
    }

    /// Writes the audit entry of a pause that holds already but whose entry could not be
    /// written when it closed (the audit log was down: a cluster node that lost its store).
    /// Nothing when the room is not paused for `reason`.
    pub async fn audit_held_pause(
        &self,
        key: &RoomKey,
        reason: &str,
        by: &str,
    ) -> Result<(), NotAudited> {
        let recording = {
            let rooms = self.lock();
            match rooms.get(key) {
                Some(e) if e.windows.holds(reason) => e.recording.as_ref().map(|r| r.id.clone()),
                _ => return Ok(()),
            }
        };
        self.write_audit(audit_event(key, reason, by, true, recording))
            .await
    }

    /// Reopens the window for `reason` (its resume already audited).
    fn open_now(&self, key: &RoomKey, reason: &str) -> RecordingState {
        let (changed, state) = {
            let mut rooms = self.lock();
            let Some(entry) = rooms.get_mut(key) else {
                return state_of(None);
            };
            let changed = entry.windows.open(reason);
            if changed && let Some(rec) = &entry.recording {
                let _ = rec.meta.send(MetaEvent::Resume {
                    reason: reason.to_owned(),
                    at_ms: rec.now_ms(),
                });
            }
            let state = state_of(Some(entry));
            if entry.windows.is_open() && entry.recording.is_none() {
                rooms.remove(key);
            }
            (changed, state)
        };
        if changed {
            self.notify(key, &state);
        }
        state
    }

    /// For callers that cannot wait (the payment hook, room creation): the pause holds at
    /// once and its audit entry is written by a task; a resume is audited first and then
    /// reopens the window, retried with back-off while the audit log is down (the room stays
    /// paused meanwhile).
    pub(super) fn set_window_in_background(
        &self,
        key: &RoomKey,
        reason: &str,
        by: &str,
        pause: bool,
    ) {
        // The pause holds at once, whatever happens to its audit entry (fail closed).
        let pause_audit = pause.then(|| self.close_now(key, reason, by).0);
        let (me, rt) = match (
            self.me.get().and_then(Weak::upgrade),
            tokio::runtime::Handle::try_current(),
        ) {
            (Some(me), Ok(rt)) => (me, rt),
            _ => {
                if pause_audit.flatten().is_some() {
                    tracing::error!("recording pause not audited: the recorder is not running");
                }
                // A resume without its audit does not happen: the window stays closed.
                return;
            }
        };
        if let Some(audit) = pause_audit {
            if let Some(event) = audit {
                rt.spawn(async move {
                    let _ = me.write_audit(event).await;
                });
            }
            return;
        }
        let (key, reason, by) = (key.clone(), reason.to_owned(), by.to_owned());
        rt.spawn(async move {
            let mut wait = std::time::Duration::from_millis(250);
            while me.resume(&key, &reason, &by).await.is_err() {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(std::time::Duration::from_secs(30));
            }
        });
    }

    /// Marks a room as needing recording consent before anything is recorded.
    pub fn require_consent(&self, key: &RoomKey) {
        if !self.config.enabled {
            return;
        }
        self.set_window_in_background(key, windows::CONSENT, "system", true);
    }

    /// Records the room's consent (lifts the consent pause once audited; the open room's own
    /// [`crate::sfu::room::RoomConsent`] is given by the caller, after the consent is stored).
    pub async fn consent(&self, key: &RoomKey, by: &str) -> Result<RecordingState, NotAudited> {
        self.resume(key, windows::CONSENT, by).await
    }

    pub(super) async fn write_audit(&self, event: AuditEvent) -> Result<(), NotAudited> {
        self.audit.record(event).await.map_err(|e| {
            self.metrics
                .recording
                .audit_failures
                .fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "recording pause/resume not audited");
            NotAudited
        })
    }
}

/// A pause or resume could not be written to the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the recording pause or resume could not be audited")]
pub struct NotAudited;

/// Where pauses and resumes are audited.
#[async_trait::async_trait]
pub trait PauseAudit: Send + Sync + std::fmt::Debug {
    async fn record(&self, event: AuditEvent) -> Result<(), hushpay_vault::VaultError>;
}

#[async_trait::async_trait]
impl PauseAudit for Vault {
    async fn record(&self, event: AuditEvent) -> Result<(), hushpay_vault::VaultError> {
        self.audit(event).await
    }
}

fn audit_event(
    key: &RoomKey,
    reason: &str,
    by: &str,
    pause: bool,
    recording: Option<String>,
) -> AuditEvent {
    AuditEvent {
        tenant: Some(TenantId::new(key.tenant.as_str())),
        actor: by.to_owned(),
        action: if pause { AUDIT_PAUSE } else { AUDIT_RESUME }.to_owned(),
        resource: format!("room:{}", key.name),
        outcome: match recording {
            Some(id) => format!("reason={reason}; recording={id}"),
            None => format!("reason={reason}"),
        },
        request_id: String::new(),
    }
}
