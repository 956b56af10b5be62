//! Schemas of the response types that other crates own (the vault's payment model and token
//! metadata, the card crate's sealed envelope, the auth crate's role and grants, the store's
//! delivery log, the recording crate's metadata, the protocol's participant and recording
//! state). Those crates stay free of the documentation dependency, so their wire shape is
//! written here once, field for field with their serde attributes; the unit tests below
//! compare the enums with the real types' serde names, and the property-based API test
//! (scripts/check-openapi.sh) checks every live answer against these schemas.

#![allow(dead_code)] // read by the schema derive only

use serde::Serialize;
use utoipa::ToSchema;

/// A payment field (Twilio `<Pay>` names).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    PaymentCardNumber,
    ExpirationDate,
    SecurityCode,
    PostalCode,
}

/// Charge the card through the connector, only tokenize it, or authorize it only
/// (`authorized` until `capture-funds` or `void`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Charge,
    Tokenize,
    Authorize,
}

/// How the card reaches the vault: phone keypad tones in the agent's room, the card iframe
/// on the patient's page, a single-use pay-by-link page, or Hushpay's IVR in the room.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    Keypad,
    CardForm,
    Link,
    Ivr,
}

/// Where a payment is in its life.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PaymentState {
    Requested,
    Collecting,
    Ready,
    Authorizing,
    Succeeded,
    Failed,
    Cancelled,
    Expired,
    Authorized,
    Capturing,
    Captured,
    Voiding,
    Voided,
    /// 3-D Secure: the cardholder is answering the issuer's challenge.
    Authenticating,
}

/// The result of a finished payment (Twilio `<Pay>` `Result` names).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PayResult {
    Success,
    TooManyFailedAttempts,
    PaymentConnectorError,
    CallerHungUp,
    ValidationError,
    InputTimeout,
    Cancelled,
    NodeLost,
}

/// Where a field is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FieldProgress {
    Pending,
    Collecting,
    Captured,
}

/// One field's progress. Never digits: length, validity and brand only.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldStatus {
    pub field: Field,
    pub status: FieldProgress,
    /// Digits keyed so far.
    pub length: u8,
    pub valid: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
}

/// The masked card of a finished payment.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaskedCard {
    /// The card token (`tok_...`).
    pub token: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
}

/// A third-party IVR's hand-off: where the caller goes back when the payment ends.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandOff {
    /// A `sip:` or `sips:` URI (a REFER sends the caller there); absent: the call is ended.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_uri: Option<String>,
}

/// A payment session as the tenant and its agents see it: masked data only.
#[derive(Debug, Serialize, ToSchema)]
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
    pub state: PaymentState,
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
    /// (`authorize` mode) the amount captured, once `capturing` or `captured`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_captured: Option<u64>,
    /// The room whose patient keys the digits (keypad, ivr) or is offered the payment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub room: Option<String>,
    /// A payment a third-party IVR hands its caller over for (`channel: "sip"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hand_off: Option<HandOff>,
    /// BCP 47, normalised (`en`, `es-US`): the language the patient is spoken to and shown
    /// pages in.
    #[schema(example = "es-US")]
    pub locale: String,
    /// Who asked: `key_...` or `agent:<identity>`.
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

/// Where a refund is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RefundState {
    Pending,
    Succeeded,
    Failed,
}

/// A refund of a payment (`re_...`): amounts and names only.
#[derive(Debug, Serialize, ToSchema)]
pub struct Refund {
    /// `re_` + base62.
    pub id: String,
    pub tenant: String,
    /// The refunded payment (`pay_...`).
    pub payment: String,
    /// Minor units, in the payment's currency.
    pub amount: u64,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub state: RefundState,
    /// Why the connector refused it (`processing-error`, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Who asked (`key_...`).
    pub created_by: String,
    /// Unix seconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// What the patient's page sees of a payment (with `Bearer pcs_...`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientPayment {
    pub amount: u64,
    pub currency: String,
    pub reference: String,
    pub required_fields: Vec<Field>,
    pub allowed_brands: Vec<String>,
    pub state: PaymentState,
    /// BCP 47 (`en`, `es-US`): the language to show the page in.
    pub locale: String,
}

/// A card token's masked metadata (never the PAN or CVC).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenMetadata {
    /// `tok_` + base62 (never a Luhn-valid digit string).
    pub id: String,
    pub tenant: String,
    pub brand: String,
    pub last4: String,
    pub exp_month: u8,
    pub exp_year: u16,
    /// Keyed HMAC of the PAN: equal for equal cards of the tenant.
    pub fingerprint: String,
    pub created_at: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// The saved card, when `POST /v1/tokens` saved it (`save: true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saved: Option<crate::routes::saved_cards::SavedCard>,
}

/// A card sealed with HPKE to the vault's public key (`GET /v1/vault/public-key`) by the
/// card iframe; only ciphertext.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SealedCard {
    /// The sealed card format's version (`format_version` of the vault key).
    #[schema(minimum = 0, maximum = 255)]
    pub version: u8,
    /// The vault key id it is sealed to.
    pub kid: String,
    /// HPKE encapsulated key, base64url without padding.
    pub enc: String,
    /// AES-256-GCM ciphertext with its tag, base64url without padding.
    pub ciphertext: String,
}

/// A participant's role in a room.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Patient,
    Agent,
    Supervisor,
}

/// What a participant may do; a missing grant is `false`. Without `grants` a token gets its
/// role's defaults (patient: publish, subscribe, chat; agent: those and requestPayment;
/// supervisor: subscribe, chat, viewRecordings).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Grants {
    #[serde(default)]
    pub can_publish: bool,
    #[serde(default)]
    pub can_subscribe: bool,
    #[serde(default)]
    pub can_chat: bool,
    #[serde(default)]
    pub can_request_payment: bool,
    #[serde(default)]
    pub can_view_recordings: bool,
}

/// A participant of an open room.
#[derive(Debug, Serialize, ToSchema)]
pub struct ParticipantInfo {
    pub participant_id: String,
    pub identity: String,
    pub role: String,
    pub muted: bool,
}

/// A room's recording state.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingState {
    /// The recording in progress, if audio has been recorded in this room.
    pub recording_id: Option<String>,
    /// True while any pause reason holds (nothing is recorded).
    pub paused: bool,
    /// `payment:<id>`, `manual`, `consent`.
    pub reasons: Vec<String>,
}

/// Where a webhook delivery stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

/// One delivery attempt of the log.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    pub event_id: String,
    pub endpoint_id: String,
    pub tenant: String,
    /// 1, 2, ...
    pub attempt: u32,
    pub at: i64,
    /// The receiver's HTTP status, if it answered.
    pub status_code: Option<u16>,
    /// Why it failed (transport error, refused target); never body content.
    pub error: Option<String>,
    /// The delivery's status after this attempt.
    pub status: DeliveryStatus,
    /// When to try again (pending only).
    pub next_attempt_at: Option<i64>,
}

/// A window in which nothing was recorded.
#[derive(Debug, Serialize, ToSchema)]
pub struct PauseWindow {
    /// Recording-clock ms when the window closed.
    pub from_ms: u32,
    /// When it reopened; null while paused (or paused to the end).
    pub to_ms: Option<u32>,
    /// `payment:<id>`, `manual`, `consent`, `fault`, ...
    pub reason: String,
    /// Who closed it: `system`, `agent:<identity>`, ...
    pub by: String,
}

/// One track of a recording.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackInfo {
    pub track: String,
    pub role: String,
    pub participant: String,
    /// Chunks written when the track was finished; null if it never was (crash).
    pub chunks: Option<u64>,
}

/// What an auditor needs to know about a recording (signed).
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordingMetadata {
    pub version: u32,
    pub recording_id: String,
    pub tenant: String,
    pub room: String,
    /// Unix ms of recording-clock 0.
    pub started_at_unix_ms: i64,
    /// Recording-clock ms at the end; null while recording (or after a crash).
    pub ended_ms: Option<u32>,
    pub tracks: Vec<TrackInfo>,
    pub pauses: Vec<PauseWindow>,
}

/// The metadata with its HMAC signature.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedMetadata {
    pub metadata: RecordingMetadata,
    pub signature: String,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn names<T: Serialize>(values: impl IntoIterator<Item = T>) -> Vec<String> {
        values
            .into_iter()
            .map(|v| {
                serde_json::to_value(v)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect()
    }

    fn enum_of<T: ToSchema>() -> Vec<String> {
        let schema = serde_json::to_value(T::schema()).unwrap();
        schema["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn enums_match_the_real_types_serde_names() {
        use hushpay_vault::payment as real;
        assert_eq!(enum_of::<Field>(), names(real::Field::ALL));
        assert_eq!(enum_of::<PaymentState>(), names(real::State::ALL));
        assert_eq!(enum_of::<RefundState>(), names(real::RefundState::ALL));
        assert_eq!(
            enum_of::<Mode>(),
            names([
                real::Mode::Charge,
                real::Mode::Tokenize,
                real::Mode::Authorize
            ])
        );
        assert_eq!(
            enum_of::<Role>(),
            names([
                hushpay_auth::Role::Patient,
                hushpay_auth::Role::Agent,
                hushpay_auth::Role::Supervisor
            ])
        );
        assert_eq!(
            enum_of::<Method>(),
            names([
                real::Method::Keypad,
                real::Method::CardForm,
                real::Method::Link,
                real::Method::Ivr
            ])
        );
    }
}
