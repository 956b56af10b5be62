//! The payment session as it is kept and shown: masked data only (field lengths, validity,
//! brand, last four, token id). Names follow Twilio `<Pay>` where they fit.

use serde::{Deserialize, Serialize};

use hushpay_store::UnixTime;

/// A payment field (Twilio `<Pay>` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    PaymentCardNumber,
    ExpirationDate,
    SecurityCode,
    PostalCode,
}

impl Field {
    /// Every field, in the order they are usually asked.
    pub const ALL: [Field; 4] = [
        Field::PaymentCardNumber,
        Field::ExpirationDate,
        Field::SecurityCode,
        Field::PostalCode,
    ];

    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Field::PaymentCardNumber => "payment-card-number",
            Field::ExpirationDate => "expiration-date",
            Field::SecurityCode => "security-code",
            Field::PostalCode => "postal-code",
        }
    }

    /// From the wire name.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// Charge the card through the connector, authorize it only (captured or voided later), or
/// only tokenize it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Authorize and capture at once: `succeeded` means the money moves.
    Charge,
    Tokenize,
    /// Authorize only: a success is `authorized` until `capture-funds` (full or partial) or
    /// `void`.
    Authorize,
}

impl Mode {
    /// True for the modes that send the card to the connector.
    pub fn authorizes(self) -> bool {
        matches!(self, Mode::Charge | Mode::Authorize)
    }
}

/// How the card reaches the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Method {
    /// Phone keypad tones, collected by the media digit collector in the agent's room.
    Keypad,
    /// The card iframe on the patient's page.
    CardForm,
    /// A single-use pay-by-link page with the same iframe.
    Link,
    /// Hushpay's IVR in the agent's room: spoken prompts ask for each field, the media digit
    /// collector gathers the keyed tones while the agent is on hold, and the patient is handed
    /// back to the agent with the result.
    Ivr,
}

impl Method {
    /// True for the methods whose digits are keyed in a room and gathered by the media digit
    /// collector field by field (`keypad`, `ivr`): they need a `room`.
    pub fn is_keyed(self) -> bool {
        matches!(self, Method::Keypad | Method::Ivr)
    }

    /// True for the methods whose card arrives sealed from the iframe (with a client secret).
    pub fn uses_client_secret(self) -> bool {
        matches!(self, Method::CardForm | Method::Link)
    }
}

/// Where a payment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    Requested,
    Collecting,
    Ready,
    Authorizing,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
    /// (`authorize` mode) the connector approved; the funds wait for `capture-funds` or
    /// `void`.
    Authorized,
    /// A capture is with the connector (back to `authorized` if it fails).
    Capturing,
    /// The funds were captured (`amount_captured`); refunds may follow.
    Captured,
    /// A void is with the connector (back to `authorized` if it fails).
    Voiding,
    /// The authorization was released; nothing was charged.
    Voided,
    /// 3-D Secure: the issuer asked the cardholder to authenticate on its challenge page
    /// (card form and link); the authorization resumes when they have. Still open: it can be
    /// cancelled, and it expires at the payment's deadline.
    Authenticating,
}

impl State {
    /// Every state.
    pub const ALL: [State; 14] = [
        State::Requested,
        State::Collecting,
        State::Ready,
        State::Authorizing,
        State::Succeeded,
        State::Failed,
        State::Cancelled,
        State::Expired,
        State::Authorized,
        State::Capturing,
        State::Captured,
        State::Voiding,
        State::Voided,
        State::Authenticating,
    ];

    /// True once the payment's collection is over: nothing more is keyed, submitted or
    /// authorized, its room leaves secure mode. An `authorized` payment still takes its funds
    /// operations (capture, void; [`super::FundsEvent`]), and refunds follow a `captured` or
    /// `succeeded` charge, but none of them concerns the card entry.
    pub fn is_terminal(self) -> bool {
        !matches!(
            self,
            State::Requested
                | State::Collecting
                | State::Ready
                | State::Authorizing
                | State::Authenticating
        )
    }

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Requested => "requested",
            State::Collecting => "collecting",
            State::Ready => "ready",
            State::Authorizing => "authorizing",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::Cancelled => "cancelled",
            State::Expired => "expired",
            State::Authorized => "authorized",
            State::Capturing => "capturing",
            State::Captured => "captured",
            State::Voiding => "voiding",
            State::Voided => "voided",
            State::Authenticating => "authenticating",
        }
    }
}

/// The result of a finished payment (Twilio `<Pay>` `Result` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PayResult {
    Success,
    TooManyFailedAttempts,
    PaymentConnectorError,
    CallerHungUp,
    ValidationError,
    InputTimeout,
    /// The agent or the tenant cancelled the payment.
    Cancelled,
    /// The gateway node holding the payment's room died (cluster; `error` is `node_lost`).
    NodeLost,
}

/// One field's progress. Never digits: length, validity and brand only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStatus {
    pub field: Field,
    pub status: FieldProgress,
    /// Digits keyed so far.
    pub length: u8,
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
}

/// Where a field is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FieldProgress {
    Pending,
    Collecting,
    Captured,
}

/// The masked card of a finished payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaskedCard {
    pub token: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

/// A payment a third-party IVR hands its caller over for (`channel: "sip"`): the caller
/// arrives by SIP at the payment's own address, hears Hushpay's IVR in a room of its own
/// ([`Payment::room`], `sip-<id>`), and is sent back when the payment ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandOff {
    /// Where the caller goes back to (a REFER); absent: the call is ended (a BYE). Either
    /// carries the result in `X-Hushpay-*` headers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_uri: Option<String>,
}

/// The room of a hand-off payment's caller.
pub fn hand_off_room(payment_id: &str) -> String {
    format!("sip-{payment_id}")
}

/// A payment session. Everything in it is safe to store, log and show to the agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Payment {
    /// `pay_` + base62.
    pub id: String,
    pub tenant: String,
    /// Minor units (cents).
    pub amount: u64,
    /// ISO 4217, upper case.
    pub currency: String,
    pub reference: String,
    pub mode: Mode,
    pub method: Method,
    pub required_fields: Vec<Field>,
    /// Brand ids (`visa`, `mastercard`, ...).
    pub allowed_brands: Vec<String>,
    /// Failed entries or submissions allowed before the payment fails.
    pub max_attempts: u8,
    pub timeout_secs: u32,
    pub state: State,
    pub fields: Vec<FieldStatus>,
    pub failed_attempts: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<PayResult>,
    /// A finer reason: `card-declined`, `insufficient-funds`, `brand-not-allowed`, ...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<MaskedCard>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_code: Option<String>,
    /// (`authorize` mode) the amount captured, once `captured`: what refunds are limited to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_captured: Option<u64>,
    /// The room whose patient keys the digits (keypad).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// Set for an `ivr` payment a third-party IVR hands its caller over for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand_off: Option<HandOff>,
    /// BCP 47, normalised (`en`, `es-US`): the language the patient is spoken to and shown the
    /// card form and pay page in. Payments stored before it existed read as `en`.
    #[serde(default = "default_locale")]
    pub locale: String,
    /// Who asked: `key_...` or `agent:<identity>`.
    pub created_by: String,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    pub expires_at: UnixTime,
}

fn default_locale() -> String {
    super::locale::DEFAULT_LOCALE.to_owned()
}

impl Payment {
    /// The status of `field`, if it is required.
    pub fn field(&self, field: Field) -> Option<&FieldStatus> {
        self.fields.iter().find(|f| f.field == field)
    }

    pub(crate) fn field_mut(&mut self, field: Field) -> Option<&mut FieldStatus> {
        self.fields.iter_mut().find(|f| f.field == field)
    }

    /// True when every required field is captured.
    pub fn all_captured(&self) -> bool {
        self.fields
            .iter()
            .all(|f| f.status == FieldProgress::Captured)
    }

    /// The most all of a payment's refunds may add up to: the captured amount of a `captured`
    /// payment, the amount of a `charge` that `succeeded`; `None` when nothing was charged.
    pub fn refundable(&self) -> Option<u64> {
        match (self.state, self.mode) {
            (State::Captured, _) => self.amount_captured,
            (State::Succeeded, Mode::Charge) => Some(self.amount),
            _ => None,
        }
    }

    /// True when the payment's deadline passed at `now` and it can still expire.
    pub fn is_overdue(&self, now: UnixTime) -> bool {
        now >= self.expires_at
            && matches!(
                self.state,
                State::Requested | State::Collecting | State::Ready | State::Authenticating
            )
    }
}
