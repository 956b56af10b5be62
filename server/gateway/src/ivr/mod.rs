//! Automated IVR payment (payment method `ivr`): the agent hands the patient to Hushpay's IVR,
//! which asks for each field by voice, collects keypad digits with the media digit collector,
//! reads back the amount and the card's last four digits, authorizes, says the result and hands
//! the patient back to the same agent in the same room.
//!
//! * [`config`]: `[ivr]` settings and the prompt set (built-in English defaults, operator
//!   replacements), encoded once at start-up;
//! * [`call`]: what the flow needs from the call ([`call::IvrCall`]);
//! * [`flow`]: the script itself, over any call.
//!
//! What it promises: the flow never holds a digit (entries go from the call to the payment
//! service); prompts go to the patient only (they may speak the amount and last four); the
//! agent hears hold audio or silence; a patient who hangs up ends the payment
//! `caller-hung-up`; the call is handed back whatever happens.

pub mod call;
pub mod config;
pub mod flow;
