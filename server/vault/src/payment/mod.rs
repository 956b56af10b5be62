//! Payment sessions, the pure part: the masked [`Payment`] record, request validation and the
//! state machine ([`Payment::apply`]). No I/O: the gateway's payment service loads, applies
//! and persists.
//!
//! States: `requested` → `collecting` (per field, keypad and ivr) → `ready` → `authorizing` →
//! `succeeded` | `failed` | `cancelled` | `expired`, with results after Twilio `<Pay>`
//! (`success`, `too-many-failed-attempts`, `payment-connector-error`, `caller-hung-up`,
//! `validation-error`, `input-timeout`, `cancelled`). An `authorize`-mode payment that
//! succeeds is `authorized` until captured or voided ([`FundsEvent`]: `capturing` →
//! `captured`, `voiding` → `voided`); refunds are resources of their own ([`Refund`]). A
//! payment never holds card data: field
//! lengths, validity, brand, last four and the token id only.

mod funds;
pub mod locale;
mod machine;
mod model;
pub mod money;
mod refund;
mod request;

pub use funds::{CaptureAmountError, FundsEvent};
pub use machine::{Event, INPUT_TIMEOUT, NODE_LOST, TransitionError};
pub use model::{
    Field, FieldProgress, FieldStatus, HandOff, MaskedCard, Method, Mode, PayResult, Payment,
    State, hand_off_room,
};
pub use refund::{Refund, RefundRequest, RefundState};
pub use request::{
    ATTEMPTS, DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT_SECS, MAX_AMOUNT_MINOR, PaymentRequest,
    RequestError, TIMEOUT_SECS, is_clean_reference, is_currency,
};
