//! What the IVR flow needs from the call it runs in: play prompts to the patient while the
//! digit collector gathers a field, and read one key. The room implements it with the prompt
//! player on the patient's downlink and the masker's collector in secure mode; tests script it.

use std::time::Duration;

use hushpay_vault::payment::Field;

use crate::payments::keypad::KeyedDigits;

/// How one attempt at a field ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum Entry {
    /// The collector completed the field (`#`, or the maximum length).
    Digits(KeyedDigits),
    /// `*`: the patient restarts the field (not a failed attempt).
    Restarted,
    /// Too few digits before `#` or the inter-digit timeout.
    TooShort,
    /// Nothing usable was keyed within the timeout after the prompts.
    TimedOut,
    /// The patient left the call.
    HungUp,
}

/// One key the patient pressed (confirmation), or why there is none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Key {
    Pressed(char),
    TimedOut,
    HungUp,
}

/// The call the IVR runs in. Prompts are names of [`hushpay_prompts::prompt::PROMPT_NAMES`].
#[allow(async_fn_in_trait)]
pub trait IvrCall {
    /// Plays `prompts` while the collector gathers `field` (keys during the prompts count and
    /// cut the prompts short); the entry comes back at most `timeout` after the prompts end.
    async fn collect(&mut self, field: Field, prompts: &[&'static str], timeout: Duration)
    -> Entry;

    /// Plays `prompts` and waits (at most `timeout` after them) for one key.
    async fn key(&mut self, prompts: &[&'static str], timeout: Duration) -> Key;

    /// Plays `prompts` to the end; false when the patient left meanwhile.
    async fn say(&mut self, prompts: &[&'static str]) -> bool;

    /// Ends the IVR: prompts stop, the patient hears the agent again, the agent's hold ends.
    async fn hand_back(&mut self);
}
