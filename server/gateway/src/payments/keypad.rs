//! Keypad payments: the agent asks for each field; the media digit collector (in the room
//! the agent is in) hands over the keyed digits of a completed field through
//! [`PaymentService::submit_keypad_field`]. Digits are validated at once (a bad field counts
//! a failed attempt and is asked again) and held in memory only, zeroized, until the agent
//! completes the payment; the payment record sees lengths, validity and brand only.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Mutex;

use hushpay_card::{Cvc, Expiry, Pan, PostalCode};
use hushpay_vault::Actor;
use hushpay_vault::payment::{Event, Field, Method};
use zeroize::Zeroizing;

use super::card_form::today;
use super::finish::CardInput;
use super::{Loaded, PaymentError, PaymentService};

/// Digits keyed for one field: ASCII `0`-`9`, zeroized on drop, redacted in `Debug`.
pub struct KeyedDigits(Zeroizing<String>);

impl KeyedDigits {
    /// Copies ASCII digits (at most 19) out of a collector buffer. `None` otherwise.
    pub fn from_ascii(digits: &[u8]) -> Option<KeyedDigits> {
        let ok = !digits.is_empty() && digits.len() <= 19 && digits.iter().all(u8::is_ascii_digit);
        ok.then(|| {
            let mut s = Zeroizing::new(String::with_capacity(19));
            s.extend(digits.iter().map(|&b| char::from(b)));
            KeyedDigits(s)
        })
    }

    fn len(&self) -> u8 {
        u8::try_from(self.0.len()).unwrap_or(u8::MAX)
    }
}

impl fmt::Debug for KeyedDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyedDigits(<redacted, {} digits>)", self.0.len())
    }
}

/// Captured fields per payment, in memory only.
#[derive(Default)]
pub struct KeypadBuffers {
    inner: Mutex<HashMap<String, BTreeMap<Field, KeyedDigits>>>,
}

impl fmt::Debug for KeypadBuffers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeypadBuffers(<{} payments>)", self.lock().len())
    }
}

impl KeypadBuffers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, BTreeMap<Field, KeyedDigits>>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn put(&self, id: &str, field: Field, digits: KeyedDigits) {
        self.lock()
            .entry(id.to_owned())
            .or_default()
            .insert(field, digits);
    }

    fn clear(&self, id: &str, field: Field) {
        if let Some(m) = self.lock().get_mut(id) {
            m.remove(&field);
        }
    }

    fn take(&self, id: &str) -> BTreeMap<Field, KeyedDigits> {
        self.lock().remove(id).unwrap_or_default()
    }

    /// The last four digits of the held card number (what the IVR reads back; the masked
    /// card shows the same).
    pub(super) fn pan_last4(&self, id: &str) -> Option<String> {
        let guard = self.lock();
        let digits = &guard.get(id)?.get(&Field::PaymentCardNumber)?.0;
        Some(digits.get(digits.len().checked_sub(4)?..)?.to_owned())
    }

    fn pan_brand(&self, id: &str) -> Option<hushpay_card::Brand> {
        let guard = self.lock();
        let digits = guard.get(id)?.get(&Field::PaymentCardNumber)?;
        Pan::parse(&digits.0).ok()?.brand()
    }

    /// Drops (zeroizes) everything held for a payment.
    pub fn wipe(&self, id: &str) {
        drop(self.take(id));
    }

    /// Payments with digits held (tests).
    pub fn held(&self) -> usize {
        self.lock().len()
    }
}

fn expiry(digits: &str) -> Result<Expiry, &'static str> {
    let bad = "invalid-expiration-date";
    let (mm, yy) = (digits.get(0..2).ok_or(bad)?, digits.get(2..4).ok_or(bad)?);
    if digits.len() != 4 {
        return Err(bad);
    }
    let (month, year): (u8, u16) = (mm.parse().map_err(|_| bad)?, yy.parse().map_err(|_| bad)?);
    let e = Expiry::new(month, 2000 + year).map_err(|_| bad)?;
    if e.is_expired(today()) {
        return Err("card-expired");
    }
    Ok(e)
}

impl PaymentService {
    fn require_keypad(loaded: &Loaded) -> Result<(), PaymentError> {
        if loaded.payment.method == Method::Keypad {
            Ok(())
        } else {
            Err(PaymentError::NotKeypad)
        }
    }

    /// The collector-driven operations serve both keyed methods (`keypad`, `ivr`).
    fn require_keyed(loaded: &Loaded) -> Result<(), PaymentError> {
        if loaded.payment.method.is_keyed() {
            Ok(())
        } else {
            Err(PaymentError::NotKeypad)
        }
    }

    /// The agent asks for `field` (or asks again): anything held for it is wiped.
    pub async fn capture_field(
        &self,
        actor: &Actor,
        loaded: &Loaded,
        field: Field,
    ) -> Result<Loaded, PaymentError> {
        Self::require_keypad(loaded)?;
        self.capture_keyed(actor, loaded, field).await
    }

    /// Asks for `field` of a keyed payment (the agent's keypad command or the IVR).
    pub(super) async fn capture_keyed(
        &self,
        actor: &Actor,
        loaded: &Loaded,
        field: Field,
    ) -> Result<Loaded, PaymentError> {
        let next = self
            .transition(actor, loaded, Event::Capture(field))
            .await?;
        self.keypad.clear(&next.payment.id, field);
        Ok(next)
    }

    /// Collector progress: `length` digits keyed into `field` so far.
    pub async fn keypad_progress(
        &self,
        actor: &Actor,
        id: &str,
        field: Field,
        length: u8,
    ) -> Result<Loaded, PaymentError> {
        let loaded = self.load(id).await?;
        Self::require_keyed(&loaded)?;
        let event = Event::Progress {
            field,
            length,
            valid: false,
            brand: None,
        };
        self.transition(actor, &loaded, event).await
    }

    /// The collector could not get `field` (too short, timed out): a failed attempt.
    pub async fn keypad_failed(
        &self,
        actor: &Actor,
        id: &str,
        field: Field,
        error: &str,
    ) -> Result<Loaded, PaymentError> {
        let loaded = self.load(id).await?;
        Self::require_keyed(&loaded)?;
        let event = Event::Rejected {
            field: Some(field),
            error: error.to_owned(),
        };
        self.transition(actor, &loaded, event).await
    }

    /// A completed field from the digit collector. Valid digits are held (zeroized) for
    /// completion and the field is marked captured with its length (and brand for the card
    /// number); invalid ones count a failed attempt.
    pub async fn submit_keypad_field(
        &self,
        actor: &Actor,
        id: &str,
        field: Field,
        digits: KeyedDigits,
    ) -> Result<Loaded, PaymentError> {
        let loaded = self.load(id).await?;
        Self::require_keyed(&loaded)?;
        let checked = self.check_field(&loaded, field, &digits);
        let valid = checked.is_ok();
        let event = match checked {
            Ok(brand) => Event::Captured {
                field,
                length: digits.len(),
                brand,
            },
            Err(error) => Event::Rejected {
                field: Some(field),
                error: error.into(),
            },
        };
        let next = self.transition(actor, &loaded, event).await?;
        if valid {
            self.keypad.put(id, field, digits);
        }
        Ok(next)
    }

    /// Validates one field; the brand id for the card number.
    fn check_field(
        &self,
        loaded: &Loaded,
        field: Field,
        digits: &KeyedDigits,
    ) -> Result<Option<String>, &'static str> {
        let p = &loaded.payment;
        match field {
            Field::PaymentCardNumber => {
                let pan = Pan::parse(&digits.0).map_err(|_| "invalid-card-number")?;
                let brand = pan.brand().map_or("unknown", |b| b.id());
                if !p.allowed_brands.iter().any(|b| b == brand) {
                    return Err("brand-not-allowed");
                }
                Ok(Some(brand.to_owned()))
            }
            Field::ExpirationDate => expiry(&digits.0).map(|_| None),
            Field::SecurityCode => Cvc::parse(&digits.0, self.keypad.pan_brand(&p.id))
                .map(|_| None)
                .map_err(|_| "invalid-security-code"),
            Field::PostalCode => PostalCode::parse(&digits.0)
                .map(|_| None)
                .map_err(|_| "invalid-postal-code"),
        }
    }

    /// The agent completes a keypad payment in `ready`: the held digits become a card,
    /// which is tokenized and authorized.
    pub async fn complete(&self, actor: &Actor, loaded: &Loaded) -> Result<Loaded, PaymentError> {
        Self::require_keypad(loaded)?;
        self.complete_keyed(actor, loaded).await
    }

    /// Completes a keyed payment in `ready` (the agent's keypad command or the IVR).
    pub(super) async fn complete_keyed(
        &self,
        actor: &Actor,
        loaded: &Loaded,
    ) -> Result<Loaded, PaymentError> {
        let authorizing = self.transition(actor, loaded, Event::Complete).await?;
        let held = self.keypad.take(&loaded.payment.id);
        let card = (|| {
            let pan = Pan::parse(&held.get(&Field::PaymentCardNumber)?.0).ok()?;
            let expiry = expiry(&held.get(&Field::ExpirationDate)?.0).ok()?;
            let cvc = match held.get(&Field::SecurityCode) {
                Some(d) => Some(Cvc::parse(&d.0, pan.brand()).ok()?),
                None => None,
            };
            Some(CardInput { pan, expiry, cvc })
        })();
        drop(held);
        let Some(card) = card else {
            let event = Event::Declined {
                card: None,
                error: "keypad-digits-missing".into(),
            };
            self.transition(actor, &authorizing, event).await?;
            return Err(PaymentError::KeypadDigitsMissing);
        };
        self.finish(actor, authorizing, card).await
    }

    /// Payments with keyed digits held in memory (tests, metrics).
    pub fn keypad_held(&self) -> usize {
        self.keypad.held()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn keyed_digits_are_redacted_and_checked() {
        let d = KeyedDigits::from_ascii(b"4242424242424242");
        assert!(format!("{d:?}").contains("16 digits"));
        assert!(!format!("{d:?}").contains("4242"));
        assert!(KeyedDigits::from_ascii(b"").is_none());
        assert!(KeyedDigits::from_ascii(b"12a4").is_none());
        assert!(KeyedDigits::from_ascii(&[b'1'; 20]).is_none());
    }

    #[test]
    fn expiry_digits_are_mmyy_and_not_past() {
        assert!(expiry("1299").is_ok());
        assert_eq!(expiry("1399").unwrap_err(), "invalid-expiration-date");
        assert_eq!(expiry("129").unwrap_err(), "invalid-expiration-date");
        assert_eq!(expiry("0101").unwrap_err(), "card-expired");
    }
}
