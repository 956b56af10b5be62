//! The IVR script for one `ivr` payment, over any [`IvrCall`]:
//!
//! 1. for each required field in order: ask (prompt), collect with the digit collector; a
//!    refused entry (Luhn, expiry, brand not allowed, too short) or a timeout counts a failed
//!    attempt and is asked again after saying why; `*` restarts the field (no attempt counted);
//! 2. confirm: "you are paying <amount> with the card ending in <last4>; press 1 to confirm or
//!    star to start again" (`*` collects every field again; no answer after
//!    [`IvrSettings::confirm_attempts`] tries expires the payment: `input-timeout`);
//! 3. "please wait", authorize, say the result, "returning you to your agent", hand back.
//!
//! Everything is said in the language of the payment's `locale` (the call plays that
//! language's prompt set; amounts and digits are spoken with its grammar).
//!
//! The patient hanging up at any point ends the payment `caller-hung-up`. Whatever happens
//! (including a payment error or the payment cancelled meanwhile), the call is handed back.
//! Nothing here sees a digit: entries go from the call straight to the payment service.

use std::time::Duration;

use hushpay_prompts::language::Language;
use hushpay_prompts::prompt::FLOW_PROMPT_NAMES;
use hushpay_vault::Actor;
use hushpay_vault::payment::{Event, Field, FieldProgress, INPUT_TIMEOUT, PayResult, State};

use super::call::{Entry, IvrCall, Key};
use crate::payments::{Loaded, PaymentError, PaymentService};

/// IVR timing and patience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IvrSettings {
    /// Time to start (and between keys of) an entry after the prompts end.
    pub entry_timeout: Duration,
    /// Times the confirmation is asked before the payment expires.
    pub confirm_attempts: u8,
}

impl Default for IvrSettings {
    fn default() -> Self {
        Self {
            entry_timeout: Duration::from_secs(10),
            confirm_attempts: 3,
        }
    }
}

/// How a payment's IVR ended, for the caller's logs (no card data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// The payment reached this state with this result.
    Finished(State, Option<PayResult>),
    /// The patient left the call.
    HungUp,
}

/// Where a stage of the script left the call.
enum Step {
    /// On to the next stage.
    Next,
    /// `*` at the confirmation: collect every field again.
    Again,
    /// The payment ended.
    Over(Box<Loaded>),
    /// The patient left.
    HungUp,
}

fn actor() -> Actor {
    Actor {
        who: "ivr".into(),
        request_id: String::new(),
    }
}

/// The prompt that asks for `field`.
pub fn ask(field: Field) -> &'static str {
    match field {
        Field::PaymentCardNumber => "ask-card-number",
        Field::ExpirationDate => "ask-expiration-date",
        Field::SecurityCode => "ask-security-code",
        Field::PostalCode => "ask-postal-code",
    }
}

/// The error code of an entry refused for `field` (also the name of the prompt saying so).
pub fn invalid(field: Field) -> &'static str {
    match field {
        Field::PaymentCardNumber => "invalid-card-number",
        Field::ExpirationDate => "invalid-expiration-date",
        Field::SecurityCode => "invalid-security-code",
        Field::PostalCode => "invalid-postal-code",
    }
}

/// The prompt explaining the payment's last refusal of `field`.
fn refusal(error: Option<&str>, field: Field) -> &'static str {
    match error {
        Some(INPUT_TIMEOUT) => "no-input",
        Some(e) => FLOW_PROMPT_NAMES
            .iter()
            .find(|n| **n == e)
            .copied()
            .unwrap_or(invalid(field)),
        None => invalid(field),
    }
}

/// What the patient hears about a finished payment.
fn result_prompts(p: &hushpay_vault::payment::Payment) -> Vec<&'static str> {
    let mut out = match (p.state, p.result) {
        // `authorized`: an `authorize`-mode payment's card was accepted (captured later).
        (State::Succeeded | State::Authorized, _) => vec!["payment-succeeded"],
        (_, Some(PayResult::TooManyFailedAttempts)) => vec!["too-many-attempts", "payment-failed"],
        (_, Some(PayResult::InputTimeout)) => vec!["no-input", "payment-failed"],
        (_, Some(PayResult::PaymentConnectorError))
            if p.error.as_deref().is_some_and(|e| e != "internal-error") =>
        {
            vec!["payment-declined"]
        }
        _ => vec!["payment-failed"],
    };
    out.push("handing-back");
    out
}

/// Runs the IVR for payment `id` in `call`, then hands the call back: how the payment ended.
pub async fn run<C: IvrCall>(
    payments: &PaymentService,
    id: &str,
    call: &mut C,
    settings: &IvrSettings,
) -> Result<Ended, PaymentError> {
    let ended = match drive(payments, id, call, settings).await {
        Ok(Step::Over(loaded)) => {
            call.say(&result_prompts(&loaded.payment)).await;
            Ok(Ended::Finished(loaded.payment.state, loaded.payment.result))
        }
        Ok(_) => payments
            .ivr_end(&actor(), id, Event::HungUp)
            .await
            .map(|_| Ended::HungUp),
        Err(e) => {
            // The payment was cancelled meanwhile, the store failed...: tell the patient and
            // hand back all the same.
            call.say(&["payment-failed", "handing-back"]).await;
            Err(e)
        }
    };
    call.hand_back().await;
    ended
}

async fn drive<C: IvrCall>(
    payments: &PaymentService,
    id: &str,
    call: &mut C,
    settings: &IvrSettings,
) -> Result<Step, PaymentError> {
    loop {
        let loaded = payments.load(id).await?;
        let fields: Vec<Field> = loaded.payment.fields.iter().map(|f| f.field).collect();
        for field in fields {
            match collect_field(payments, id, field, call, settings).await? {
                Step::Next => {}
                other => return Ok(other),
            }
        }
        match confirm(payments, id, call, settings).await? {
            Step::Next => break,
            Step::Again => {}
            other => return Ok(other),
        }
    }
    if !call.say(&["processing"]).await {
        return Ok(Step::HungUp);
    }
    let done = match payments.ivr_complete(&actor(), id).await {
        Ok(l) => l,
        // A vault failure was recorded on the payment (`failed`); say so.
        Err(_) => payments.load(id).await?,
    };
    Ok(Step::Over(Box::new(done)))
}

async fn collect_field<C: IvrCall>(
    payments: &PaymentService,
    id: &str,
    field: Field,
    call: &mut C,
    settings: &IvrSettings,
) -> Result<Step, PaymentError> {
    let a = actor();
    let mut prompts = vec![ask(field)];
    loop {
        payments.ivr_capture(&a, id, field).await?;
        let loaded = match call.collect(field, &prompts, settings.entry_timeout).await {
            Entry::Digits(d) => payments.ivr_submit(&a, id, field, d).await?,
            Entry::Restarted => {
                prompts = vec!["restart-field", ask(field)];
                continue;
            }
            Entry::TooShort => payments.ivr_entry_failed(&a, id, field, false).await?,
            Entry::TimedOut => payments.ivr_entry_failed(&a, id, field, true).await?,
            Entry::HungUp => return Ok(Step::HungUp),
        };
        let p = &loaded.payment;
        if p.state.is_terminal() {
            return Ok(Step::Over(Box::new(loaded)));
        }
        if p.field(field).map(|f| f.status) == Some(FieldProgress::Captured) {
            return Ok(Step::Next);
        }
        prompts = vec![refusal(p.error.as_deref(), field), "try-again", ask(field)];
    }
}

async fn confirm<C: IvrCall>(
    payments: &PaymentService,
    id: &str,
    call: &mut C,
    settings: &IvrSettings,
) -> Result<Step, PaymentError> {
    let loaded = payments.load(id).await?;
    let p = &loaded.payment;
    // The payment's locale picks the language the amount and digits are spoken in (the call
    // plays the same language's set).
    let language = Language::from_locale(&p.locale).unwrap_or(Language::English);
    let mut prompts = vec!["confirm-paying"];
    prompts.extend(language.amount(p.amount, &p.currency));
    if let Some(last4) = payments.ivr_last4(id).await? {
        prompts.push("confirm-card-ending");
        prompts.extend(language.digits(&last4));
    }
    prompts.push("confirm-press");
    for _ in 0..settings.confirm_attempts.max(1) {
        match call.key(&prompts, settings.entry_timeout).await {
            Key::Pressed('1') => return Ok(Step::Next),
            Key::Pressed('*') => {
                return Ok(if call.say(&["restart-field"]).await {
                    Step::Again
                } else {
                    Step::HungUp
                });
            }
            Key::HungUp => return Ok(Step::HungUp),
            Key::Pressed(_) | Key::TimedOut => {}
        }
    }
    let expired = payments.ivr_end(&actor(), id, Event::Expire).await?;
    Ok(Step::Over(Box::new(expired)))
}
