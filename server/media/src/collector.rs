//! Digit collector for payment fields keyed on the phone keypad.
//!
//! One field is collected at a time, as requested (Twilio `<Pay>` field names). Keys: `0`-`9`
//! append; `#` ends the entry (accepted if at least the minimum length, else rejected and
//! re-asked); `*` clears the entry; `A`-`D` are ignored. The entry completes by itself at the
//! maximum length. An inter-digit timeout ends an entry (accepted if long enough), a field timeout
//! gives up on the field; every rejected or timed-out entry counts as a failed attempt, and after
//! [`CollectorConfig::max_attempts`] the field fails. The agent side may re-ask a field.
//!
//! Digits are kept in [`SecretDigits`]: a zeroizing buffer whose `Debug` shows only the count.
//! Events ([`CollectorEvent`]) carry counts, never field digits, so they are safe to log and show;
//! the one exception is [`Collector::request_key`], a single key outside any field (a confirmation).

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use crate::Digit;

/// The payment fields (Twilio `<Pay>` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PaymentField {
    /// `payment-card-number`: 12 to 19 digits.
    PaymentCardNumber,
    /// `expiration-date`: MMYY, 4 digits.
    ExpirationDate,
    /// `security-code`: 3 or 4 digits.
    SecurityCode,
    /// `postal-code`: 3 to 10 digits.
    PostalCode,
}

impl PaymentField {
    /// The wire name.
    pub fn name(self) -> &'static str {
        match self {
            Self::PaymentCardNumber => "payment-card-number",
            Self::ExpirationDate => "expiration-date",
            Self::SecurityCode => "security-code",
            Self::PostalCode => "postal-code",
        }
    }

    /// From the wire name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::PaymentCardNumber,
            Self::ExpirationDate,
            Self::SecurityCode,
            Self::PostalCode,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }

    /// Minimum and maximum number of digits.
    pub fn lengths(self) -> (usize, usize) {
        match self {
            Self::PaymentCardNumber => (12, 19),
            Self::ExpirationDate => (4, 4),
            Self::SecurityCode => (3, 4),
            Self::PostalCode => (3, 10),
        }
    }
}

/// Keyed digits (ASCII `0`-`9`), zeroized on drop, redacted in `Debug`.
#[derive(Clone, Default)]
pub struct SecretDigits(Zeroizing<Vec<u8>>);

impl SecretDigits {
    /// The digits as ASCII. Handle with care: this is card data.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// Number of digits.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn push(&mut self, d: u8) {
        self.0.push(d);
    }
    fn clear(&mut self) {
        // Zeroizing<Vec> zeroes on drop; replace so the old buffer is wiped now.
        self.0 = Zeroizing::new(Vec::with_capacity(19));
    }
}

impl fmt::Debug for SecretDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretDigits(<redacted, {} digits>)", self.0.len())
    }
}

/// Why an entry was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectReason {
    /// `#` pressed before the minimum length.
    TooShort,
    /// The inter-digit timeout passed before the minimum length.
    InterDigitTimeout,
}

/// What happened to the field being collected. Counts only, never digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollectorEvent {
    /// A digit was added.
    Progress { field: PaymentField, digits: usize },
    /// The entry was cleared by `*`.
    Cleared { field: PaymentField },
    /// The entry was refused; the field is asked again.
    Rejected {
        field: PaymentField,
        reason: RejectReason,
        attempt: u8,
    },
    /// The field is complete; take it with [`Collector::take`].
    Complete { field: PaymentField, digits: usize },
    /// The field timed out or failed too often; it is abandoned.
    Failed { field: PaymentField, attempts: u8 },
    /// The one key asked by [`Collector::request_key`] (a confirmation or menu key, not part
    /// of a field: the only event that names a key).
    Key { digit: Digit },
    /// No key within the time given to [`Collector::request_key`].
    KeyTimedOut,
}

/// Collector settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CollectorConfig {
    /// Time allowed between two keys of one entry.
    pub inter_digit_timeout: Duration,
    /// Time allowed for the whole field from its request.
    pub field_timeout: Duration,
    /// Failed entries allowed before the field fails.
    pub max_attempts: u8,
}

impl Default for CollectorConfig {
    fn default() -> Self {
        Self {
            inter_digit_timeout: Duration::from_secs(5),
            field_timeout: Duration::from_secs(60),
            max_attempts: 3,
        }
    }
}

#[derive(Debug)]
struct Active {
    field: PaymentField,
    digits: SecretDigits,
    requested: Instant,
    last_key: Option<Instant>,
    failures: u8,
}

/// The collector. Sans-IO: time is an input.
#[derive(Debug, Default)]
pub struct Collector {
    config: CollectorConfig,
    active: Option<Active>,
    done: Vec<(PaymentField, SecretDigits)>,
    /// Waiting for one key until this instant ([`Collector::request_key`]).
    key_until: Option<Instant>,
    events: VecDeque<CollectorEvent>,
}

impl Collector {
    /// A collector with `config`.
    pub fn new(config: CollectorConfig) -> Self {
        Self {
            config,
            ..Self::default()
        }
    }

    /// Replaces the settings (they apply to the next request).
    pub fn set_config(&mut self, config: CollectorConfig) {
        self.config = config;
    }

    /// Starts (or re-asks) `field`: any earlier entry or completed value of it is wiped.
    pub fn request(&mut self, now: Instant, field: PaymentField) {
        self.done.retain(|(f, _)| *f != field);
        self.key_until = None;
        self.active = Some(Active {
            field,
            digits: SecretDigits::default(),
            requested: now,
            last_key: None,
            failures: 0,
        });
    }

    /// Waits for one key (any key) until `now + timeout`: it comes out as
    /// [`CollectorEvent::Key`], or [`CollectorEvent::KeyTimedOut`]. Any entry in progress is
    /// abandoned (wiped).
    pub fn request_key(&mut self, now: Instant, timeout: Duration) {
        self.active = None;
        self.key_until = Some(now + timeout);
    }

    /// Stops collecting: the entry in progress (or a key wait) is abandoned and wiped; keys
    /// are dropped until the next request. Completed fields not taken are wiped too.
    pub fn cancel(&mut self) {
        self.active = None;
        self.key_until = None;
        self.done.clear();
    }

    /// The field being collected.
    pub fn field(&self) -> Option<PaymentField> {
        self.active.as_ref().map(|a| a.field)
    }

    /// Feeds one key. Keys arriving with no field requested are dropped (and wiped).
    pub fn push(&mut self, now: Instant, digit: Digit) {
        self.handle_timeout(now);
        if self.key_until.take().is_some() {
            self.events.push_back(CollectorEvent::Key { digit });
            return;
        }
        let Some(a) = self.active.as_mut() else {
            return;
        };
        let field = a.field;
        let (min, max) = field.lengths();
        match digit.as_char() {
            c if c.is_ascii_digit() => {
                a.digits.push(c as u8);
                a.last_key = Some(now);
                let digits = a.digits.len();
                self.events
                    .push_back(CollectorEvent::Progress { field, digits });
                if digits >= max {
                    self.complete();
                }
            }
            '#' if a.digits.len() >= min => self.complete(),
            '#' => self.reject(RejectReason::TooShort),
            '*' => {
                a.digits.clear();
                a.last_key = Some(now);
                self.events.push_back(CollectorEvent::Cleared { field });
            }
            _ => {}
        }
    }

    /// Applies timeouts due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.key_until.is_some_and(|t| now >= t) {
            self.key_until = None;
            self.events.push_back(CollectorEvent::KeyTimedOut);
        }
        let Some(a) = self.active.as_ref() else {
            return;
        };
        let (min, _) = a.field.lengths();
        if now >= a.requested + self.config.field_timeout {
            let (field, attempts) = (a.field, a.failures + 1);
            self.active = None;
            self.events
                .push_back(CollectorEvent::Failed { field, attempts });
        } else if a
            .last_key
            .is_some_and(|t| now >= t + self.config.inter_digit_timeout)
        {
            if a.digits.len() >= min {
                self.complete();
            } else if a.digits.is_empty() {
                if let Some(a) = self.active.as_mut() {
                    a.last_key = None;
                }
            } else {
                self.reject(RejectReason::InterDigitTimeout);
            }
        }
    }

    /// When [`Collector::handle_timeout`] should run next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.key_until.is_some() {
            return self.key_until;
        }
        let a = self.active.as_ref()?;
        let field_end = a.requested + self.config.field_timeout;
        Some(a.last_key.map_or(field_end, |t| {
            field_end.min(t + self.config.inter_digit_timeout)
        }))
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<CollectorEvent> {
        self.events.pop_front()
    }

    /// Takes a completed field's digits out of the collector.
    pub fn take(&mut self, field: PaymentField) -> Option<SecretDigits> {
        let i = self.done.iter().position(|(f, _)| *f == field)?;
        Some(self.done.swap_remove(i).1)
    }

    fn complete(&mut self) {
        if let Some(a) = self.active.take() {
            let digits = a.digits.len();
            self.events.push_back(CollectorEvent::Complete {
                field: a.field,
                digits,
            });
            self.done.push((a.field, a.digits));
        }
    }

    fn reject(&mut self, reason: RejectReason) {
        let max_attempts = self.config.max_attempts;
        let Some(a) = self.active.as_mut() else {
            return;
        };
        a.failures += 1;
        a.digits.clear();
        a.last_key = None;
        let (field, attempt) = (a.field, a.failures);
        if attempt >= max_attempts {
            self.active = None;
            self.events.push_back(CollectorEvent::Failed {
                field,
                attempts: attempt,
            });
        } else {
            self.events.push_back(CollectorEvent::Rejected {
                field,
                reason,
                attempt,
            });
        }
    }
}
