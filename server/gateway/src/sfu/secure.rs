//! Secure collection in a room: the owner of a payment collected by keys (the keypad driver,
//! the IVR) holds a [`SecureSession`] on the room; while it lives, the patient's masker is in
//! secure mode (strict masking, every key to the digit collector, none to
//! `Room::digit_keyed`, which only counts) and collects what the session asks: a field, one key, or nothing.
//!
//! The room keeps the *wanted* state (a `watch` of the current [`SecureRequest`]), not a queue
//! of commands, and the patient stream task follows it with a [`SecureFollower`]:
//!
//! * a patient stream that starts while a session lives starts in secure mode (fail closed);
//!   with no patient stream (nobody publishing yet) the request waits for one;
//! * every request has a new sequence number, so asking the same field again restarts it;
//!   events name the request they answer ([`SecureEvent::seq`]);
//! * dropping the session leaves secure mode: the collector and any digits in it are wiped.
//!
//! Events carry counts, never digits, except [`SecureEventKind::Complete`], whose
//! [`KeyedDigits`] zeroize on drop and print redacted, and the single key asked by
//! [`SecureSession::key`] (a confirmation, not card data). Events travel on an unbounded
//! channel so the media task never waits (an entry is at most 19 keys).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hushpay_media::collector::{Collector, CollectorConfig, CollectorEvent, PaymentField};
use hushpay_media::masker::Masker;
use hushpay_vault::payment::Field;
use tokio::sync::{mpsc, watch};

use crate::payments::keypad::KeyedDigits;

/// What the patient stream should collect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// Secure mode, collecting nothing: keys go nowhere.
    Idle,
    /// Collect one field with these timeouts (`max_attempts` is not used: the first refused
    /// entry ends the collection, the owner decides whether to ask again).
    Field(Field, CollectorConfig),
    /// Wait for one key, at most this long from when the stream applies it.
    Key(Duration),
}

/// The room's wanted secure state while a session lives.
#[derive(Debug)]
pub struct SecureRequest {
    seq: u64,
    want: Want,
    events: mpsc::UnboundedSender<SecureEvent>,
}

/// Why an entry was refused; the field is no longer collected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// `#` before the minimum length, or the inter-digit timeout with too few digits.
    TooShort,
    /// The field's time ran out.
    TimedOut,
}

/// What happened in the patient's stream for a request.
#[derive(Debug)]
pub struct SecureEvent {
    /// The request ([`SecureSession::collect`], `key`, `idle`) this answers.
    pub seq: u64,
    pub kind: SecureEventKind,
}

/// See [`SecureEvent`].
#[derive(Debug)]
#[non_exhaustive]
pub enum SecureEventKind {
    /// `digits` keyed into `field` so far.
    Progress { field: Field, digits: usize },
    /// `*`: the entry was cleared; the field is still collected.
    Cleared { field: Field },
    /// The entry was refused; the field is no longer collected.
    Rejected { field: Field, reason: Rejection },
    /// The field is complete; it is no longer collected.
    Complete { field: Field, digits: KeyedDigits },
    /// The key asked by [`SecureSession::key`].
    Key(char),
    /// No key within the time given to [`SecureSession::key`].
    KeyTimedOut,
    /// The patient's stream ended while the request was applied. The request stays: a new
    /// patient stream in the room starts in secure mode and collects it afresh.
    PatientGone,
    /// The patient was a phone caller and hung up (BYE or CANCEL): final, no stream comes
    /// back. The owner ends its payment `caller-hung-up`.
    CallerHungUp,
}

/// Another session holds the room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a secure collection is already running in this room")]
pub struct SecureBusy;

/// A room's secure state (`Room::secure`).
pub struct RoomSecure {
    wanted: Arc<watch::Sender<Option<Arc<SecureRequest>>>>,
    seq: Arc<AtomicU64>,
}

impl Default for RoomSecure {
    fn default() -> Self {
        Self {
            wanted: Arc::new(watch::channel(None).0),
            seq: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl fmt::Debug for RoomSecure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoomSecure")
            .field("active", &self.is_active())
            .finish()
    }
}

impl RoomSecure {
    /// True while a session holds the room.
    pub fn is_active(&self) -> bool {
        self.wanted.borrow().is_some()
    }

    /// Enters secure mode (idle) for a new session; [`SecureBusy`] when one is running.
    pub fn begin(&self) -> Result<SecureSession, SecureBusy> {
        let (tx, rx) = mpsc::unbounded_channel();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let request = Arc::new(SecureRequest {
            seq,
            want: Want::Idle,
            events: tx.clone(),
        });
        let taken = self.wanted.send_if_modified(|w| {
            if w.is_some() {
                return false;
            }
            *w = Some(request);
            true
        });
        if !taken {
            return Err(SecureBusy);
        }
        Ok(SecureSession {
            wanted: Arc::clone(&self.wanted),
            seq: Arc::clone(&self.seq),
            tx,
            rx,
            current: seq,
        })
    }

    /// For the patient stream task.
    pub fn follower(&self) -> SecureFollower {
        let mut rx = self.wanted.subscribe();
        rx.mark_changed();
        SecureFollower { rx, applied: None }
    }
}

/// The owner's hold on a room's secure mode; dropping it leaves secure mode.
pub struct SecureSession {
    wanted: Arc<watch::Sender<Option<Arc<SecureRequest>>>>,
    seq: Arc<AtomicU64>,
    tx: mpsc::UnboundedSender<SecureEvent>,
    rx: mpsc::UnboundedReceiver<SecureEvent>,
    current: u64,
}

impl fmt::Debug for SecureSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecureSession")
            .field("current", &self.current)
            .finish()
    }
}

impl SecureSession {
    fn ask(&mut self, want: Want) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        self.current = seq;
        self.wanted.send_replace(Some(Arc::new(SecureRequest {
            seq,
            want,
            events: self.tx.clone(),
        })));
        seq
    }

    /// Collects `field` (again, if it was being collected); the request's number.
    pub fn collect(&mut self, field: Field, config: CollectorConfig) -> u64 {
        self.ask(Want::Field(field, config))
    }

    /// Waits for one key for at most `timeout`; the request's number.
    pub fn key(&mut self, timeout: Duration) -> u64 {
        self.ask(Want::Key(timeout))
    }

    /// Stays in secure mode collecting nothing; the request's number.
    pub fn idle(&mut self) -> u64 {
        self.ask(Want::Idle)
    }

    /// The latest request's number (events of older ones are stale).
    pub fn current(&self) -> u64 {
        self.current
    }

    /// The next event (of any request). Never `None` while the session lives.
    pub async fn next_event(&mut self) -> Option<SecureEvent> {
        self.rx.recv().await
    }

    /// Leaves secure mode (the same as dropping the session).
    pub fn end(self) {}
}

impl Drop for SecureSession {
    fn drop(&mut self) {
        self.wanted.send_replace(None);
    }
}

/// The vault's field as the collector names it.
pub fn media_field(field: Field) -> PaymentField {
    match field {
        Field::PaymentCardNumber => PaymentField::PaymentCardNumber,
        Field::ExpirationDate => PaymentField::ExpirationDate,
        Field::SecurityCode => PaymentField::SecurityCode,
        Field::PostalCode => PaymentField::PostalCode,
    }
}

fn vault_field(field: PaymentField) -> Option<Field> {
    Field::from_name(field.name())
}

/// The patient stream's side: applies the room's wanted state to its masker and sends the
/// collector's events to the session.
#[derive(Debug)]
pub struct SecureFollower {
    rx: watch::Receiver<Option<Arc<SecureRequest>>>,
    applied: Option<Arc<SecureRequest>>,
}

impl SecureFollower {
    /// Resolves when the wanted state changed (never, once the room is gone).
    pub async fn changed(&mut self) {
        if self.rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }

    /// True when the wanted state changed since the last [`Self::apply`] (for the engine
    /// thread, which cannot await [`Self::changed`]).
    pub fn has_changed(&self) -> bool {
        self.rx.has_changed().unwrap_or(false)
    }

    /// Brings `masker` to the wanted state.
    pub fn apply(&mut self, now: Instant, masker: &mut Masker) {
        let wanted = self.rx.borrow_and_update().clone();
        let Some(request) = wanted else {
            // Leaving secure mode drops the collector: any entry in it is wiped.
            drop(masker.exit_secure_mode());
            self.applied = None;
            return;
        };
        if self.applied.as_ref().is_some_and(|a| a.seq == request.seq) && masker.is_secure() {
            return;
        }
        if !masker.is_secure() {
            masker.enter_secure_mode(Collector::default());
        }
        if let Some(c) = masker.collector_mut() {
            match request.want {
                Want::Idle => c.cancel(),
                Want::Field(field, config) => {
                    c.cancel();
                    c.set_config(CollectorConfig {
                        max_attempts: u8::MAX,
                        ..config
                    });
                    c.request(now, media_field(field));
                }
                Want::Key(timeout) => {
                    c.cancel();
                    c.request_key(now, timeout);
                }
            }
        }
        self.applied = Some(request);
    }

    /// Handles one collector event from the masker (secure mode only).
    pub fn collector_event(&mut self, masker: &mut Masker, event: CollectorEvent) {
        let Some(request) = self.applied.as_ref() else {
            return;
        };
        let kind = match event {
            CollectorEvent::Progress { field, digits } => {
                vault_field(field).map(|field| SecureEventKind::Progress { field, digits })
            }
            CollectorEvent::Cleared { field } => {
                vault_field(field).map(|field| SecureEventKind::Cleared { field })
            }
            CollectorEvent::Rejected { field, .. } => {
                if let Some(c) = masker.collector_mut() {
                    c.cancel();
                }
                vault_field(field).map(|field| SecureEventKind::Rejected {
                    field,
                    reason: Rejection::TooShort,
                })
            }
            // With unlimited attempts, only the field's timeout fails it.
            CollectorEvent::Failed { field, .. } => {
                vault_field(field).map(|field| SecureEventKind::Rejected {
                    field,
                    reason: Rejection::TimedOut,
                })
            }
            CollectorEvent::Complete { field, .. } => {
                let taken = masker.collector_mut().and_then(|c| c.take(field));
                let digits = taken.and_then(|d| KeyedDigits::from_ascii(d.expose()));
                match (vault_field(field), digits) {
                    (Some(field), Some(digits)) => {
                        Some(SecureEventKind::Complete { field, digits })
                    }
                    (Some(field), None) => Some(SecureEventKind::Rejected {
                        field,
                        reason: Rejection::TooShort,
                    }),
                    (None, _) => None,
                }
            }
            CollectorEvent::Key { digit } => Some(SecureEventKind::Key(digit.as_char())),
            CollectorEvent::KeyTimedOut => Some(SecureEventKind::KeyTimedOut),
            _ => None,
        };
        if let Some(kind) = kind {
            let _ = request.events.send(SecureEvent {
                seq: request.seq,
                kind,
            });
        }
    }

    /// The phone caller hung up: the session hears of it (as [`SecureEventKind::CallerHungUp`])
    /// whether or not its request was applied yet, since no stream will ever apply it.
    pub fn caller_hung_up(&mut self) {
        self.applied = None;
        if let Some(request) = self.rx.borrow().clone() {
            let _ = request.events.send(SecureEvent {
                seq: request.seq,
                kind: SecureEventKind::CallerHungUp,
            });
        }
    }

    /// The patient stream ended: the session hears of it if one is applied.
    pub fn stream_ended(&mut self) {
        if let Some(request) = self.applied.take() {
            let _ = request.events.send(SecureEvent {
                seq: request.seq,
                kind: SecureEventKind::PatientGone,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use hushpay_media::masker::MaskerConfig;

    use super::*;

    fn masker() -> Masker {
        Masker::new(MaskerConfig {
            opus_pt: 111,
            event_pts: vec![(110, 48_000)],
            ..MaskerConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn one_session_per_room_and_dropping_it_leaves_secure_mode() {
        let room = RoomSecure::default();
        let mut m = masker();
        let mut follower = room.follower();
        follower.apply(Instant::now(), &mut m);
        assert!(!m.is_secure());

        let mut session = room.begin().unwrap();
        assert!(room.is_active());
        assert_eq!(room.begin().unwrap_err(), SecureBusy);
        // A stream that starts now starts secure.
        let mut late = masker();
        room.follower().apply(Instant::now(), &mut late);
        assert!(late.is_secure());

        follower.apply(Instant::now(), &mut m);
        assert!(m.is_secure());
        let seq = session.collect(Field::SecurityCode, CollectorConfig::default());
        assert!(seq > 0 && session.current() == seq);
        follower.apply(Instant::now(), &mut m);
        assert_eq!(
            m.collector_mut().unwrap().field(),
            Some(PaymentField::SecurityCode)
        );
        session.idle();
        follower.apply(Instant::now(), &mut m);
        assert_eq!(m.collector_mut().unwrap().field(), None);

        drop(session);
        assert!(!room.is_active());
        follower.apply(Instant::now(), &mut m);
        assert!(!m.is_secure());
        assert!(room.begin().is_ok(), "free again");
    }

    #[tokio::test]
    async fn a_callers_hang_up_reaches_the_session_even_before_its_request_was_applied() {
        let room = RoomSecure::default();
        // no session: nothing to tell, nothing breaks
        room.follower().caller_hung_up();
        let mut session = room.begin().unwrap();
        let seq = session.collect(Field::PaymentCardNumber, CollectorConfig::default());
        // the caller's stream never applied the request (it hung up first)
        room.follower().caller_hung_up();
        let got = session.next_event().await.unwrap();
        assert_eq!(got.seq, seq);
        assert!(matches!(got.kind, SecureEventKind::CallerHungUp));
    }

    #[tokio::test]
    async fn collector_events_reach_the_session_with_their_request() {
        let room = RoomSecure::default();
        let mut m = masker();
        let mut follower = room.follower();
        let mut session = room.begin().unwrap();
        let seq = session.collect(Field::ExpirationDate, CollectorConfig::default());
        let now = Instant::now();
        follower.apply(now, &mut m);
        for (i, c) in "1230".chars().enumerate() {
            let d = hushpay_media::Digit::from_char(c).unwrap();
            m.collector_mut().unwrap().push(now, d);
            let ev = m.collector_mut().unwrap().poll_event().unwrap();
            follower.collector_event(&mut m, ev);
            let got = session.next_event().await.unwrap();
            assert_eq!(got.seq, seq);
            assert!(
                matches!(got.kind, SecureEventKind::Progress { field: Field::ExpirationDate, digits } if digits == i + 1)
            );
        }
        let ev = m.collector_mut().unwrap().poll_event().unwrap();
        follower.collector_event(&mut m, ev);
        let got = session.next_event().await.unwrap();
        let SecureEventKind::Complete { field, digits } = got.kind else {
            panic!("complete expected: {got:?}");
        };
        assert_eq!(field, Field::ExpirationDate);
        assert!(!format!("{digits:?}").contains("1230"));

        // A too-short entry ends the collection.
        session.collect(Field::SecurityCode, CollectorConfig::default());
        follower.apply(now, &mut m);
        m.collector_mut()
            .unwrap()
            .push(now, hushpay_media::Digit::from_char('#').unwrap());
        let ev = m.collector_mut().unwrap().poll_event().unwrap();
        follower.collector_event(&mut m, ev);
        let got = session.next_event().await.unwrap();
        assert!(matches!(
            got.kind,
            SecureEventKind::Rejected {
                field: Field::SecurityCode,
                reason: Rejection::TooShort
            }
        ));
        assert_eq!(m.collector_mut().unwrap().field(), None);
        follower.stream_ended();
        assert!(matches!(
            session.next_event().await.unwrap().kind,
            SecureEventKind::PatientGone
        ));
    }
}
