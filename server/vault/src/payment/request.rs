//! Validating a payment request: amount, currency, reference, fields, brands, attempts,
//! timeout. Every refusal is a typed [`RequestError`] naming the field, never echoing input.

use hushpay_store::UnixTime;

use super::model::{
    Field, FieldProgress, FieldStatus, HandOff, Method, Mode, Payment, State, hand_off_room,
};

/// Largest amount accepted, in minor units (one billion major units of a 2-decimal currency).
pub const MAX_AMOUNT_MINOR: u64 = 100_000_000_000;
/// Bounds of `attempts`.
pub const ATTEMPTS: std::ops::RangeInclusive<u8> = 1..=5;
/// Bounds of `timeout` (seconds).
pub const TIMEOUT_SECS: std::ops::RangeInclusive<u32> = 30..=86_400;
/// Default `timeout` (seconds).
pub const DEFAULT_TIMEOUT_SECS: u32 = 900;
/// Default `attempts`.
pub const DEFAULT_ATTEMPTS: u8 = 3;

/// Active ISO 4217 currency codes.
const CURRENCIES: &str = "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND \
BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB \
EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY \
KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR \
MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF \
SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS \
UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XOF XPF YER ZAR ZMW ZWL";

/// A payment request as the caller described it (already type-checked by serde).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    pub amount: u64,
    pub currency: String,
    pub reference: String,
    pub mode: Mode,
    pub method: Method,
    pub required_fields: Option<Vec<Field>>,
    pub allowed_brands: Option<Vec<String>>,
    pub attempts: Option<u8>,
    pub timeout_secs: Option<u32>,
    pub room: Option<String>,
    /// `channel: "sip"`: a third-party IVR hands its caller over ([`HandOff`]).
    pub hand_off: Option<HandOff>,
    /// BCP 47 (`es`, `es-US`); `None`: [`super::locale::DEFAULT_LOCALE`].
    pub locale: Option<String>,
}

/// Why a payment request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    #[error("`amount` must be between 1 and {MAX_AMOUNT_MINOR} minor units")]
    Amount,
    #[error("`currency` must be an active ISO 4217 code in upper case, such as USD")]
    Currency,
    #[error("`reference` must be 1 to 128 printable characters and must not hold a card number")]
    Reference,
    #[error(
        "`required_fields` must name each field once and include `payment-card-number` and `expiration-date`"
    )]
    Fields,
    #[error("`allowed_brands` must be a non-empty list of known brands without repeats")]
    Brands,
    #[error("`attempts` must be between 1 and 5")]
    Attempts,
    #[error("`timeout` must be between 30 and 86400 seconds")]
    Timeout,
    #[error(
        "`room` must be 1 to 128 characters; it is required for the keypad and ivr methods (card-form and link payments may name the room they are sent to)"
    )]
    Room,
    #[error(
        "`channel: \"sip\"` is for the ivr method without a `room`, and `return_uri` must be a sip: or sips: URI of at most 256 printable characters"
    )]
    HandOff,
    #[error("`reason` must be 1 to 128 printable characters and must not hold a card number")]
    Reason,
    #[error(
        "`locale` must be a BCP 47 tag of a supported language with an optional region: en, es (such as es-US)"
    )]
    Locale,
}

impl RequestError {
    /// A stable error code for the API.
    pub fn code(&self) -> &'static str {
        match self {
            RequestError::Amount => "invalid_amount",
            RequestError::Currency => "invalid_currency",
            RequestError::Reference => "invalid_reference",
            RequestError::Fields => "invalid_required_fields",
            RequestError::Brands => "invalid_allowed_brands",
            RequestError::Attempts => "invalid_attempts",
            RequestError::Timeout => "invalid_timeout",
            RequestError::Room => "invalid_room",
            RequestError::HandOff => "invalid_hand_off",
            RequestError::Reason => "invalid_reason",
            RequestError::Locale => "invalid_locale",
        }
    }
}

/// True for an active ISO 4217 code.
pub fn is_currency(code: &str) -> bool {
    code.len() == 3 && CURRENCIES.split_whitespace().any(|c| c == code)
}

/// True when `s` is 1 to 128 printable characters and holds no card number (payment
/// references, refund reasons, saved-card customer references).
pub fn is_clean_reference(s: &str) -> bool {
    check_reference(s).is_ok()
}

pub(crate) fn check_reference(reference: &str) -> Result<(), RequestError> {
    let ok = (1..=128).contains(&reference.chars().count())
        && !reference.chars().any(char::is_control)
        && hushpay_card::chat_scan::find(reference).is_empty();
    ok.then_some(()).ok_or(RequestError::Reference)
}

/// A `sip:` or `sips:` URI Hushpay can put in a `Refer-To`: printable ASCII, no spaces,
/// quotes or angle brackets, at most 256 bytes.
fn is_sip_uri(uri: &str) -> bool {
    let lower = uri.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("sip:")
        .or_else(|| lower.strip_prefix("sips:"));
    rest.is_some_and(|r| !r.is_empty())
        && uri.len() <= 256
        && uri
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'<' | b'>' | b'"'))
}

fn check_fields(fields: Option<Vec<Field>>) -> Result<Vec<Field>, RequestError> {
    let fields = fields.unwrap_or_else(|| {
        vec![
            Field::PaymentCardNumber,
            Field::ExpirationDate,
            Field::SecurityCode,
        ]
    });
    let mut sorted = fields.clone();
    sorted.sort();
    sorted.dedup();
    let ok = sorted.len() == fields.len()
        && fields.contains(&Field::PaymentCardNumber)
        && fields.contains(&Field::ExpirationDate);
    ok.then_some(fields).ok_or(RequestError::Fields)
}

fn check_brands(brands: Option<Vec<String>>) -> Result<Vec<String>, RequestError> {
    let all = || hushpay_card::brand::ALL.iter().map(|b| b.id().to_owned());
    let Some(brands) = brands else {
        return Ok(all().collect());
    };
    let mut sorted = brands.clone();
    sorted.sort();
    sorted.dedup();
    let ok = !brands.is_empty()
        && sorted.len() == brands.len()
        && brands.iter().all(|b| all().any(|k| &k == b));
    ok.then_some(brands).ok_or(RequestError::Brands)
}

impl PaymentRequest {
    /// Validates the request into a new payment in state `requested`.
    pub fn into_payment(
        self,
        id: String,
        tenant: &str,
        created_by: &str,
        now: UnixTime,
    ) -> Result<Payment, RequestError> {
        if !(1..=MAX_AMOUNT_MINOR).contains(&self.amount) {
            return Err(RequestError::Amount);
        }
        if !is_currency(&self.currency) {
            return Err(RequestError::Currency);
        }
        check_reference(&self.reference)?;
        let required_fields = check_fields(self.required_fields)?;
        let allowed_brands = check_brands(self.allowed_brands)?;
        let max_attempts = self.attempts.unwrap_or(DEFAULT_ATTEMPTS);
        if !ATTEMPTS.contains(&max_attempts) {
            return Err(RequestError::Attempts);
        }
        let timeout_secs = self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS);
        if !TIMEOUT_SECS.contains(&timeout_secs) {
            return Err(RequestError::Timeout);
        }
        // Keypad digits come from a room's patient; card-form and link payments may be bound
        // to the room (the call) they are offered in, so that room's agents follow them.
        let room = match &self.hand_off {
            Some(h) => {
                let uri_ok = h.return_uri.as_deref().is_none_or(is_sip_uri);
                if self.method != Method::Ivr || self.room.is_some() || !uri_ok {
                    return Err(RequestError::HandOff);
                }
                Some(hand_off_room(&id))
            }
            None => self.room,
        };
        let room_ok = match (&room, self.method) {
            (Some(r), _) => (1..=128).contains(&r.len()) && !r.chars().any(char::is_control),
            (None, m) if m.is_keyed() => false,
            (None, _) => true,
        };
        if !room_ok {
            return Err(RequestError::Room);
        }
        let locale = match &self.locale {
            Some(tag) => super::locale::normalize(tag).ok_or(RequestError::Locale)?,
            None => super::locale::DEFAULT_LOCALE.to_owned(),
        };
        let fields = required_fields
            .iter()
            .map(|&field| FieldStatus {
                field,
                status: FieldProgress::Pending,
                length: 0,
                valid: false,
                brand: None,
            })
            .collect();
        Ok(Payment {
            id,
            tenant: tenant.to_owned(),
            amount: self.amount,
            currency: self.currency,
            reference: self.reference,
            mode: self.mode,
            method: self.method,
            required_fields,
            allowed_brands,
            max_attempts,
            timeout_secs,
            state: State::Requested,
            fields,
            failed_attempts: 0,
            result: None,
            error: None,
            card: None,
            authorization_code: None,
            amount_captured: None,
            room,
            hand_off: self.hand_off,
            locale,
            created_by: created_by.to_owned(),
            created_at: now,
            updated_at: now,
            expires_at: now + i64::from(timeout_secs),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    pub(crate) fn request(method: Method) -> PaymentRequest {
        PaymentRequest {
            amount: 1250,
            currency: "USD".into(),
            reference: "inv-1".into(),
            mode: Mode::Charge,
            method,
            required_fields: None,
            allowed_brands: None,
            attempts: None,
            timeout_secs: None,
            room: method.is_keyed().then(|| "room-1".into()),
            hand_off: None,
            locale: None,
        }
    }

    #[test]
    fn a_hand_off_is_an_ivr_payment_in_a_room_of_its_own() {
        let mut r = request(Method::Ivr);
        r.room = None;
        r.hand_off = Some(HandOff {
            return_uri: Some("sip:ivr@192.0.2.9:5060".into()),
        });
        let p = r
            .clone()
            .into_payment("pay_h".into(), "ten_a", "key_a", 0)
            .unwrap();
        assert_eq!(p.room.as_deref(), Some("sip-pay_h"));
        assert_eq!(p.hand_off, r.hand_off);
        let refused = |f: &dyn Fn(&mut PaymentRequest)| {
            let mut bad = r.clone();
            f(&mut bad);
            bad.into_payment("pay_h".into(), "ten_a", "key_a", 0)
        };
        assert_eq!(
            refused(&|b| b.room = Some("r".into())),
            Err(RequestError::HandOff)
        );
        assert_eq!(
            refused(&|b| b.method = Method::Keypad),
            Err(RequestError::HandOff)
        );
        for uri in [
            "tel:+1555",
            "sip:",
            "sip:a b@c",
            "sip:<a>@c",
            "http://x",
            "",
        ] {
            assert_eq!(
                refused(&|b| b.hand_off = Some(HandOff {
                    return_uri: Some(uri.into())
                })),
                Err(RequestError::HandOff),
                "{uri:?}"
            );
        }
        let long = format!("sip:{}@c", "a".repeat(260));
        assert_eq!(
            refused(&|b| b.hand_off = Some(HandOff {
                return_uri: Some(long.clone())
            })),
            Err(RequestError::HandOff)
        );
        // no return address: the call is ended at the end
        assert!(refused(&|b| b.hand_off = Some(HandOff { return_uri: None })).is_ok());
    }

    #[test]
    fn the_locale_is_normalised_defaulted_and_an_unknown_one_refused() {
        let mut r = request(Method::Ivr);
        let p = r.clone().into_payment("pay_l".into(), "t", "k", 0).unwrap();
        assert_eq!(p.locale, "en");
        r.locale = Some("es-us".into());
        let p = r.clone().into_payment("pay_l".into(), "t", "k", 0).unwrap();
        assert_eq!(p.locale, "es-US");
        // Stored documents written before the locale existed read as English.
        let mut doc = serde_json::to_value(&p).unwrap();
        assert_eq!(doc["locale"], "es-US");
        doc.as_object_mut().unwrap().remove("locale");
        let old: Payment = serde_json::from_value(doc).unwrap();
        assert_eq!(old.locale, "en");
        for bad in ["fr", "klingon", "es-US-x", ""] {
            r.locale = Some(bad.into());
            let err = r.clone().into_payment("pay_l".into(), "t", "k", 0);
            assert_eq!(err, Err(RequestError::Locale), "{bad}");
        }
        assert_eq!(RequestError::Locale.code(), "invalid_locale");
    }

    fn refused(f: impl FnOnce(&mut PaymentRequest)) -> RequestError {
        let mut r = request(Method::CardForm);
        f(&mut r);
        r.into_payment("pay_x".into(), "ten_a", "key_a", 0)
            .unwrap_err()
    }

    #[test]
    fn a_good_request_becomes_a_requested_payment_with_defaults() {
        let p = request(Method::Keypad)
            .into_payment("pay_x".into(), "ten_a", "agent:a", 100)
            .unwrap();
        assert_eq!(p.state, State::Requested);
        assert_eq!(p.fields.len(), 3);
        assert_eq!(p.allowed_brands.len(), hushpay_card::brand::ALL.len());
        assert_eq!(p.expires_at, 100 + i64::from(DEFAULT_TIMEOUT_SECS));
    }

    #[test]
    fn bad_requests_are_refused_with_their_own_error() {
        assert_eq!(refused(|r| r.amount = 0), RequestError::Amount);
        assert_eq!(
            refused(|r| r.amount = MAX_AMOUNT_MINOR + 1),
            RequestError::Amount
        );
        for c in ["usd", "XXX", "US", "USDD", ""] {
            assert_eq!(refused(|r| r.currency = c.into()), RequestError::Currency);
        }
        assert_eq!(
            refused(|r| r.reference = String::new()),
            RequestError::Reference
        );
        assert_eq!(
            refused(|r| r.reference = "x".repeat(129)),
            RequestError::Reference
        );
        assert_eq!(
            refused(|r| r.reference = "card 4111111111111111".into()),
            RequestError::Reference
        );
        assert_eq!(
            refused(|r| r.reference = "a\nb".into()),
            RequestError::Reference
        );
        assert_eq!(
            refused(|r| r.required_fields = Some(vec![Field::PaymentCardNumber])),
            RequestError::Fields
        );
        assert_eq!(
            refused(|r| r.required_fields = Some(vec![
                Field::PaymentCardNumber,
                Field::ExpirationDate,
                Field::ExpirationDate
            ])),
            RequestError::Fields
        );
        assert_eq!(
            refused(|r| r.allowed_brands = Some(vec![])),
            RequestError::Brands
        );
        assert_eq!(
            refused(|r| r.allowed_brands = Some(vec!["bogus".into()])),
            RequestError::Brands
        );
        assert_eq!(refused(|r| r.attempts = Some(0)), RequestError::Attempts);
        assert_eq!(refused(|r| r.attempts = Some(6)), RequestError::Attempts);
        assert_eq!(refused(|r| r.timeout_secs = Some(5)), RequestError::Timeout);
        assert_eq!(
            refused(|r| r.room = Some(String::new())),
            RequestError::Room
        );
        assert_eq!(
            refused(|r| r.room = Some("x".repeat(129))),
            RequestError::Room
        );
        assert_eq!(
            refused(|r| r.room = Some("a\nb".into())),
            RequestError::Room
        );
        let mut link = request(Method::Link);
        link.room = Some("intake-42".into());
        let bound = link.into_payment("p".into(), "t", "a", 0).unwrap();
        assert_eq!(bound.room.as_deref(), Some("intake-42"));
        let mut keypad = request(Method::Keypad);
        keypad.room = None;
        assert_eq!(
            keypad.into_payment("p".into(), "t", "a", 0).unwrap_err(),
            RequestError::Room
        );
    }
}
