//! The payment facts a patient may see, as they travel: the payment offered to it
//! ([`PatientPayment`], in `payment_requested` and in the `payment_link` chat message
//! [`LinkMessage`]) and how it ended ([`PaymentEnd`], `payment_ended`). Only masked facts:
//! amount, currency, reference, fields, brands, expiry, locale, and the brand and last four of the card
//! used. The client secret, when a patient gets one, travels next to these, never in them.

use hushpay_vault::payment::{Field, Method, Payment};
use serde::{Deserialize, Serialize};

use crate::chat::ChatSender;

/// The payment as the patient may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientPayment {
    pub id: String,
    pub method: Method,
    pub amount: u64,
    pub currency: String,
    pub reference: String,
    pub required_fields: Vec<Field>,
    pub allowed_brands: Vec<String>,
    /// Unix seconds.
    pub expires_at: i64,
    /// BCP 47 (`en`, `es-US`): the language to show the card form in (`en` from a node that
    /// predates it).
    #[serde(default = "english")]
    pub locale: String,
}

fn english() -> String {
    hushpay_vault::payment::locale::DEFAULT_LOCALE.to_owned()
}

impl From<&Payment> for PatientPayment {
    fn from(p: &Payment) -> Self {
        Self {
            id: p.id.clone(),
            method: p.method,
            amount: p.amount,
            currency: p.currency.clone(),
            reference: p.reference.clone(),
            required_fields: p.required_fields.clone(),
            allowed_brands: p.allowed_brands.clone(),
            expires_at: p.expires_at,
            locale: p.locale.clone(),
        }
    }
}

/// The `payment_link` chat message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkMessage {
    pub id: String,
    /// Unix milliseconds.
    pub ts: i64,
    pub from: ChatSender,
    pub payment: PatientPayment,
    /// `{public_url}/pay/{id}`, with `#<client secret>` in the patient's copy only.
    pub url: String,
}

/// How a payment offered to the patient ended (the `payment_ended` message).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentEnd {
    pub id: String,
    pub method: Method,
    /// `succeeded`, `failed`, `cancelled` or `expired`.
    pub state: hushpay_vault::payment::State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<hushpay_vault::payment::PayResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last4: Option<String>,
}
