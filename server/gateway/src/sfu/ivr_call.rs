//! The IVR in a real room: [`RoomCall`] is the [`IvrCall`] the flow (`crate::ivr::flow`) runs
//! in — prompts on the patient's downlink ([`IvrAudio`]), keys from the patient's masker in
//! secure mode ([`super::secure`]) — and [`start`] runs the flow for an `ivr` payment created
//! in a room, with the agents there on hold until it hands the patient back.
//!
//! What it promises: no digit passes through here except inside the zeroizing
//! [`KeyedDigits`] the collector completes, which goes straight to the payment service; the
//! patient leaving (or the room closing) ends the payment `caller-hung-up`; the downlinks are
//! handed back whatever happens (also when the flow's task is dropped).

use std::sync::Arc;
use std::time::Duration;

use hushpay_auth::Role;
use hushpay_media::collector::CollectorConfig;
use hushpay_prompts::prompt::{Clip, PromptSet};
use hushpay_vault::payment::{Field, Payment};
use tokio::sync::broadcast;
use tokio::time::Instant;

use super::Sfu;
use super::ivr_audio::{IvrAudio, StartError};
use super::participant::Participant;
use super::room::{Room, RoomKey};
use super::secure::{Rejection, SecureEventKind, SecureSession};
use crate::app::AppState;
use crate::ivr::call::{Entry, IvrCall, Key};
use crate::ivr::config::PromptSets;
use crate::ivr::flow::{self, Ended};
use crate::payments::PaymentChange;

/// Why an IVR cannot run in a payment's room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IvrStartError {
    #[error("the payment's room has no patient connected with audio")]
    NoPatient,
    #[error("an IVR or a keypad collection is already running in this room")]
    Busy,
    #[error("the IVR prompts could not be loaded")]
    Prompts,
}

impl From<StartError> for IvrStartError {
    fn from(e: StartError) -> Self {
        match e {
            StartError::Busy => IvrStartError::Busy,
            StartError::NoPatientAudio => IvrStartError::NoPatient,
        }
    }
}

/// The room and patient an IVR for a payment of `tenant` bound to `room` would run with.
pub fn target(
    sfu: &Sfu,
    tenant: &str,
    room: &str,
) -> Result<(Arc<Room>, Arc<Participant>), IvrStartError> {
    let room = sfu
        .rooms
        .get(&RoomKey {
            tenant: tenant.to_owned(),
            name: room.to_owned(),
        })
        .ok_or(IvrStartError::NoPatient)?;
    if room.ivr.is_active() || room.secure.is_active() {
        return Err(IvrStartError::Busy);
    }
    let patient = room
        .with_roles(&[Role::Patient], "")
        .into_iter()
        .find(|p| !p.is_released() && p.ear().is_some())
        .ok_or(IvrStartError::NoPatient)?;
    Ok((room, patient))
}

/// The prompt sets, encoded at the first IVR of this gateway.
async fn prompts(state: &AppState) -> Result<Arc<PromptSets>, IvrStartError> {
    let config = Arc::clone(&state.config);
    state
        .sfu
        .ivr_prompts
        .get_or_try_init(|| async move {
            tokio::task::spawn_blocking(move || config.ivr.load_prompts())
                .await
                .map_err(|_| IvrStartError::Prompts)?
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot load the IVR prompts");
                    IvrStartError::Prompts
                })
        })
        .await
        .cloned()
}

/// Starts the IVR for `payment` (method `ivr`, bound to a room) in its room: the agents go on
/// hold, the patient hears the first prompt. The flow runs on its own task to its end; its
/// handle resolves then (with the patient handed back).
pub async fn start(
    state: &AppState,
    payment: &Payment,
) -> Result<tokio::task::JoinHandle<()>, IvrStartError> {
    let room_name = payment.room.as_deref().ok_or(IvrStartError::NoPatient)?;
    // The payment's locale picks the language the patient (and the agent's hold) hears.
    let prompts = Arc::clone(prompts(state).await?.for_locale(&payment.locale));
    let (room, patient) = target(&state.sfu, &payment.tenant, room_name)?;
    let hold = state
        .config
        .ivr
        .hold_audio
        .then(|| prompts.clip("hold").cloned())
        .flatten();
    let keys = room.secure.begin().map_err(|_| IvrStartError::Busy)?;
    let audio = IvrAudio::start(&state.sfu, &room, &patient, hold)?;
    let mut call = RoomCall {
        audio: Some(audio),
        keys: Some(keys),
        patient,
        prompts,
        payment: payment.id.clone(),
        changes: state.payments.subscribe_changes(),
    };
    let payments = Arc::clone(&state.payments);
    let settings = state.config.ivr.settings;
    let id = payment.id.clone();
    let guard = state.sfu.task_guard();
    Ok(tokio::spawn(async move {
        let _guard = guard;
        match flow::run(&payments, &id, &mut call, &settings).await {
            Ok(Ended::Finished(state, result)) => {
                tracing::info!(payment = %id, ?state, ?result, "IVR finished");
            }
            Ok(Ended::HungUp) => {
                tracing::info!(payment = %id, "IVR: the caller hung up or the payment ended elsewhere");
            }
            Err(e) => tracing::warn!(payment = %id, error = %e, "IVR ended on an error"),
        }
        // the call (and its room's audio) is handed back when dropped
        drop(call);
    }))
}

/// Ends a just-created payment whose IVR could not start.
pub async fn abandon(state: &AppState, payment: &Payment, why: IvrStartError) -> Option<Payment> {
    let actor = hushpay_vault::Actor {
        who: "ivr".into(),
        request_id: String::new(),
    };
    let event = match why {
        IvrStartError::NoPatient => hushpay_vault::payment::Event::HungUp,
        IvrStartError::Busy | IvrStartError::Prompts => hushpay_vault::payment::Event::Cancel,
    };
    match state.payments.ivr_end(&actor, &payment.id, event).await {
        Ok(l) => Some(l.payment),
        Err(e) => {
            tracing::warn!(payment = %payment.id, error = %e, "cannot end an IVR payment that did not start");
            None
        }
    }
}

/// How much longer than the inter-digit timeout the call waits for the collector to end an
/// entry it has begun.
const BACKUP: Duration = Duration::from_secs(2);

/// How long the collector keeps a field or a key request open: longer than any prompt plus
/// entry; the call's own timeouts (from the end of the prompts) end an entry first.
const COLLECTOR_HORIZON: Duration = Duration::from_secs(600);

/// An IVR running in a room (see the module docs).
pub struct RoomCall {
    audio: Option<IvrAudio>,
    keys: Option<SecureSession>,
    patient: Arc<Participant>,
    prompts: Arc<PromptSet>,
    /// The payment's changes: one ended by someone else (cancelled, expired) stops the wait.
    payment: String,
    changes: broadcast::Receiver<PaymentChange>,
}

impl std::fmt::Debug for RoomCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoomCall")
            .field("patient", &self.patient.id)
            .finish()
    }
}

/// What ended one wait on the patient.
enum Waited {
    /// The queued prompts were sent.
    Played,
    /// An event of the current request.
    Event(SecureEventKind),
    /// The deadline passed.
    Expired,
    /// The patient left (or the secure session is gone, or the payment was ended elsewhere).
    Gone,
}

impl RoomCall {
    /// Queues `names` for the patient; the mark to wait for.
    fn queue(&mut self, names: &[&'static str]) -> Option<u64> {
        let clips: Vec<Arc<Clip>> = names
            .iter()
            .filter_map(|n| self.prompts.clip(n).cloned())
            .collect();
        self.audio.as_mut().map(|a| a.play(&clips))
    }

    /// Waits for the first of: the prompts up to `mark` played (unless `played`), an event of
    /// request `seq`, `deadline`, the patient leaving.
    async fn wait(
        &mut self,
        mark: u64,
        played: bool,
        seq: u64,
        deadline: Option<Instant>,
    ) -> Waited {
        let (Some(audio), Some(keys)) = (self.audio.as_mut(), self.keys.as_mut()) else {
            return Waited::Gone;
        };
        let expiry = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let event = async {
            loop {
                match keys.next_event().await {
                    Some(e) if e.seq == seq => return Some(e.kind),
                    Some(_) => continue,
                    None => return None,
                }
            }
        };
        let id = self.payment.as_str();
        let changes = &mut self.changes;
        let ended = async {
            loop {
                match changes.recv().await {
                    Ok(c) if c.payment.id == id && c.payment.state.is_terminal() => return,
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
                }
            }
        };
        tokio::select! {
            () = self.patient.left() => Waited::Gone,
            () = ended => Waited::Gone,
            () = audio.played(mark), if !played => Waited::Played,
            e = event => e.map_or(Waited::Gone, Waited::Event),
            () = expiry => Waited::Expired,
        }
    }

    /// Stops the prompts (the patient keyed over them).
    fn barge_in(&mut self) {
        if let Some(a) = self.audio.as_mut() {
            a.clear();
        }
    }

    fn idle(&mut self) {
        if let Some(k) = self.keys.as_mut() {
            k.idle();
        }
    }
}

impl IvrCall for RoomCall {
    async fn collect(
        &mut self,
        field: Field,
        prompts: &[&'static str],
        timeout: Duration,
    ) -> Entry {
        let config = CollectorConfig {
            inter_digit_timeout: timeout,
            field_timeout: COLLECTOR_HORIZON,
            ..CollectorConfig::default()
        };
        let Some(seq) = self.keys.as_mut().map(|k| k.collect(field, config)) else {
            return Entry::HungUp;
        };
        let Some(mark) = self.queue(prompts) else {
            return Entry::HungUp;
        };
        // No deadline while the prompts play; `timeout` after them for the first key; then the
        // collector's inter-digit timeout ends the entry (this deadline only backs it up).
        let (mut played, mut keyed, mut deadline) = (false, false, None);
        let entry = loop {
            match self.wait(mark, played, seq, deadline).await {
                Waited::Played => {
                    played = true;
                    deadline = Some(Instant::now() + timeout);
                }
                Waited::Event(SecureEventKind::Progress { .. }) => {
                    if !keyed {
                        self.barge_in();
                        (played, keyed) = (true, true);
                    }
                    deadline = Some(Instant::now() + timeout + BACKUP);
                }
                Waited::Event(SecureEventKind::Complete { digits, .. }) => {
                    break Entry::Digits(digits);
                }
                Waited::Event(SecureEventKind::Cleared { .. }) => {
                    self.barge_in();
                    break Entry::Restarted;
                }
                Waited::Event(SecureEventKind::Rejected { reason, .. }) => {
                    break match reason {
                        Rejection::TimedOut if !keyed => Entry::TimedOut,
                        _ => Entry::TooShort,
                    };
                }
                Waited::Event(SecureEventKind::PatientGone | SecureEventKind::CallerHungUp)
                | Waited::Gone => {
                    return Entry::HungUp;
                }
                Waited::Event(_) => {}
                Waited::Expired => {
                    break if keyed {
                        Entry::TooShort
                    } else {
                        Entry::TimedOut
                    };
                }
            }
        };
        self.idle();
        entry
    }

    async fn key(&mut self, prompts: &[&'static str], timeout: Duration) -> Key {
        let Some(seq) = self.keys.as_mut().map(|k| k.key(COLLECTOR_HORIZON)) else {
            return Key::HungUp;
        };
        let Some(mark) = self.queue(prompts) else {
            return Key::HungUp;
        };
        let (mut played, mut deadline) = (false, None);
        let key = loop {
            match self.wait(mark, played, seq, deadline).await {
                Waited::Played => {
                    played = true;
                    deadline = Some(Instant::now() + timeout);
                }
                Waited::Event(SecureEventKind::Key(c)) => {
                    self.barge_in();
                    break Key::Pressed(c);
                }
                Waited::Event(SecureEventKind::KeyTimedOut) | Waited::Expired => {
                    break Key::TimedOut;
                }
                Waited::Event(SecureEventKind::PatientGone | SecureEventKind::CallerHungUp)
                | Waited::Gone => return Key::HungUp,
                Waited::Event(_) => {}
            }
        };
        self.idle();
        key
    }

    async fn say(&mut self, prompts: &[&'static str]) -> bool {
        let Some(mark) = self.queue(prompts) else {
            return false;
        };
        let Some(audio) = self.audio.as_mut() else {
            return false;
        };
        tokio::select! {
            () = audio.played(mark) => true,
            () = self.patient.left() => false,
        }
    }

    async fn hand_back(&mut self) {
        if let Some(keys) = self.keys.take() {
            keys.end();
        }
        if let Some(audio) = self.audio.take() {
            audio.stop().await;
        }
    }
}
