//! Keypad payments in their room: follows the payment change stream and, for each `keypad`
//! payment bound to a room, holds a [`SecureSession`] on that room from the payment's creation
//! (secure mode before the first field is asked) until it ends (succeeded, failed, cancelled,
//! expired), when the session is dropped and the room leaves secure mode.
//!
//! * the agent's `capture` of a field (also a re-ask) collects that field afresh;
//! * collector progress goes to [`PaymentService::keypad_progress`] (field length only), a `*`
//!   resets it to 0; the agents see it as the `payment` document;
//! * a completed field goes to [`PaymentService::submit_keypad_field`] (the zeroizing
//!   [`KeyedDigits`](crate::payments::keypad::KeyedDigits) are moved, never copied or logged);
//! * a refused or timed-out entry is a failed attempt
//!   ([`PaymentService::keypad_failed`]): the field goes back to pending and the room stays in
//!   secure mode, collecting nothing, until the agent asks again.
//!
//! * the patient was a phone caller who hung up ([`SecureEventKind::CallerHungUp`]): the
//!   payment ends `caller-hung-up`.
//!
//! Payments expire when read past their timeout; the task also reads its payment when the
//! timeout passes, so an abandoned keypad payment ends (`expired`, broadcast to the agents)
//! and its room leaves secure mode without anyone asking.
//!
//! One task per payment; the dispatcher routes changes by payment id.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use hushpay_media::collector::CollectorConfig;
use hushpay_vault::Actor;
use hushpay_vault::payment::{Field, FieldProgress, INPUT_TIMEOUT, Method};
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::mpsc;

use super::Sfu;
use super::room::RoomKey;
use super::secure::{Rejection, SecureEvent, SecureEventKind, SecureSession};
use crate::payments::{PaymentChange, PaymentService};

/// The digit collector's timeouts for keypad fields.
pub fn collector_config() -> CollectorConfig {
    CollectorConfig::default()
}

/// Follows `changes` for the life of the server.
pub async fn drive(
    sfu: Arc<Sfu>,
    payments: Arc<PaymentService>,
    mut changes: broadcast::Receiver<PaymentChange>,
) {
    let mut running: HashMap<String, mpsc::UnboundedSender<PaymentChange>> = HashMap::new();
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "keypad driver lagged; re-reading its payments");
                for (id, tx) in &running {
                    if let Ok(loaded) = payments.load(id).await {
                        let _ = tx.send(PaymentChange {
                            tenant: loaded.payment.tenant.clone(),
                            before: loaded.payment.state,
                            payment: loaded.payment,
                            event: "reload",
                        });
                    }
                }
                running.retain(|_, tx| !tx.is_closed());
                continue;
            }
            Err(RecvError::Closed) => break,
        };
        if change.payment.method != Method::Keypad {
            continue;
        }
        let id = change.payment.id.clone();
        if let Some(tx) = running.get(&id) {
            if tx.send(change).is_err() {
                running.remove(&id);
            }
            continue;
        }
        if change.payment.state.is_terminal() {
            continue;
        }
        let Some(session) = begin(&sfu, &change) else {
            continue;
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(change);
        running.insert(id.clone(), tx);
        let guard = sfu.task_guard();
        let payments = Arc::clone(&payments);
        tokio::spawn(async move {
            let _guard = guard;
            run(payments, id, session, rx).await;
        });
        running.retain(|_, tx| !tx.is_closed());
    }
}

/// Secure mode in the payment's room, if the room is there and free.
fn begin(sfu: &Sfu, change: &PaymentChange) -> Option<SecureSession> {
    let name = change.payment.room.as_deref()?;
    let room = sfu.rooms.get(&RoomKey {
        tenant: change.tenant.clone(),
        name: name.to_owned(),
    })?;
    match room.secure.begin() {
        Ok(session) => Some(session),
        Err(e) => {
            tracing::warn!(payment = %change.payment.id, error = %e, "keypad payment cannot collect in its room");
            None
        }
    }
}

/// The field a payment document is collecting.
fn collecting(change: &PaymentChange) -> Option<Field> {
    change
        .payment
        .fields
        .iter()
        .find(|f| f.status == FieldProgress::Collecting)
        .map(|f| f.field)
}

/// One payment: changes in, collector events out, until the payment ends.
async fn run(
    payments: Arc<PaymentService>,
    id: String,
    mut session: SecureSession,
    mut changes: mpsc::UnboundedReceiver<PaymentChange>,
) {
    let actor = Actor {
        who: "system".into(),
        request_id: String::new(),
    };
    // The field the session collects (None: idle).
    let mut field: Option<Field> = None;
    let mut expires = tokio::time::Instant::now() + Duration::from_secs(3600);
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(expires) => {
                // Loading a payment past its timeout expires it; the change ends this task.
                if let Err(e) = payments.load(&id).await {
                    tracing::warn!(payment = %id, error = %e, "keypad payment could not be expired");
                }
                expires = tokio::time::Instant::now() + Duration::from_secs(1);
            }
            change = changes.recv() => {
                let Some(change) = change else { break };
                if change.payment.state.is_terminal() {
                    break;
                }
                expires = expiry_instant(change.payment.expires_at);
                match collecting(&change) {
                    Some(f) if change.event == "capture" || field != Some(f) => {
                        session.collect(f, collector_config());
                        field = Some(f);
                    }
                    Some(_) => {}
                    None if field.is_some() => {
                        session.idle();
                        field = None;
                    }
                    None => {}
                }
            }
            event = session.next_event() => {
                let Some(event) = event else { break };
                // A hang-up ends the payment whatever request it answers.
                if event.seq != session.current()
                    && !matches!(event.kind, SecureEventKind::CallerHungUp)
                {
                    continue;
                }
                handle(&payments, &actor, &id, &mut session, &mut field, event).await;
            }
        }
    }
    // Dropping the session leaves secure mode.
    session.end();
}

/// When a payment expiring at `expires_at` (Unix seconds) is due, on the tokio clock (a
/// quarter second late, so that the read sees it overdue).
fn expiry_instant(expires_at: i64) -> tokio::time::Instant {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let at = Duration::from_secs(u64::try_from(expires_at).unwrap_or(0));
    tokio::time::Instant::now() + at.saturating_sub(now) + Duration::from_millis(250)
}

async fn handle(
    payments: &PaymentService,
    actor: &Actor,
    id: &str,
    session: &mut SecureSession,
    field: &mut Option<Field>,
    event: SecureEvent,
) {
    let result = match event.kind {
        SecureEventKind::Progress { field, digits } => {
            let length = u8::try_from(digits).unwrap_or(u8::MAX);
            payments.keypad_progress(actor, id, field, length).await
        }
        SecureEventKind::Cleared { field } => payments.keypad_progress(actor, id, field, 0).await,
        SecureEventKind::Rejected { field: f, reason } => {
            session.idle();
            *field = None;
            let error = match reason {
                Rejection::TooShort => crate::ivr::flow::invalid(f),
                Rejection::TimedOut => INPUT_TIMEOUT,
            };
            payments.keypad_failed(actor, id, f, error).await
        }
        SecureEventKind::Complete { field: f, digits } => {
            session.idle();
            *field = None;
            payments.submit_keypad_field(actor, id, f, digits).await
        }
        SecureEventKind::CallerHungUp => {
            session.idle();
            *field = None;
            match payments.load(id).await {
                Ok(loaded) if !loaded.payment.state.is_terminal() => {
                    payments
                        .transition(actor, &loaded, hushpay_vault::payment::Event::HungUp)
                        .await
                }
                Ok(loaded) => Ok(loaded),
                Err(e) => Err(e),
            }
        }
        _ => return,
    };
    if let Err(e) = result {
        // Errors name states and events, never digits.
        tracing::warn!(payment = %id, error = %e, "keypad collector event refused");
    }
}
