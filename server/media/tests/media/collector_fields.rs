//! The digit collector and secure mode.

use std::time::{Duration, Instant};

use hushpay_media::Digit;
use hushpay_media::collector::{
    Collector, CollectorConfig, CollectorEvent, PaymentField, RejectReason,
};

fn keys(c: &mut Collector, now: Instant, s: &str) {
    for (i, ch) in s.chars().enumerate() {
        c.push(
            now + Duration::from_millis(200 * i as u64),
            Digit::from_char(ch).unwrap(),
        );
    }
}

fn events(c: &mut Collector) -> Vec<CollectorEvent> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

#[test]
fn card_number_ends_with_hash_and_is_redacted() {
    let t = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(t, PaymentField::PaymentCardNumber);
    keys(&mut c, t, "4111111111111111#");
    let ev = events(&mut c);
    assert_eq!(
        ev.last(),
        Some(&CollectorEvent::Complete {
            field: PaymentField::PaymentCardNumber,
            digits: 16
        })
    );
    let debug = format!("{c:?} {ev:?}");
    assert!(!debug.contains("4111"), "digits leaked into Debug: {debug}");
    let v = c.take(PaymentField::PaymentCardNumber).unwrap();
    assert_eq!(v.expose(), b"4111111111111111");
    assert!(!format!("{v:?}").contains("4111"));
    assert!(c.take(PaymentField::PaymentCardNumber).is_none());
}

#[test]
fn maximum_length_completes_by_itself() {
    let t = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(t, PaymentField::ExpirationDate);
    keys(&mut c, t, "1229");
    assert!(events(&mut c).contains(&CollectorEvent::Complete {
        field: PaymentField::ExpirationDate,
        digits: 4
    }));
    assert_eq!(
        c.take(PaymentField::ExpirationDate).unwrap().expose(),
        b"1229"
    );
}

#[test]
fn too_short_is_rejected_then_reasked_and_fails_after_max_attempts() {
    let t = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(t, PaymentField::SecurityCode);
    keys(&mut c, t, "12#");
    keys(&mut c, t + Duration::from_secs(1), "1#");
    let ev = events(&mut c);
    assert!(ev.contains(&CollectorEvent::Rejected {
        field: PaymentField::SecurityCode,
        reason: RejectReason::TooShort,
        attempt: 1
    }));
    keys(&mut c, t + Duration::from_secs(2), "#");
    assert_eq!(
        events(&mut c).last(),
        Some(&CollectorEvent::Failed {
            field: PaymentField::SecurityCode,
            attempts: 3
        })
    );
    // The agent re-asks: a fresh field with fresh attempts.
    c.request(t + Duration::from_secs(3), PaymentField::SecurityCode);
    keys(&mut c, t + Duration::from_secs(3), "737#");
    assert_eq!(c.take(PaymentField::SecurityCode).unwrap().expose(), b"737");
}

#[test]
fn star_clears_and_inter_digit_timeout_completes_or_rejects() {
    let t = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(t, PaymentField::PostalCode);
    keys(&mut c, t, "99*90210");
    c.handle_timeout(t + Duration::from_secs(10));
    assert_eq!(c.take(PaymentField::PostalCode).unwrap().expose(), b"90210");
    c.request(t, PaymentField::PostalCode);
    keys(&mut c, t, "12");
    c.handle_timeout(t + Duration::from_secs(6));
    assert!(events(&mut c).iter().any(|e| matches!(
        e,
        CollectorEvent::Rejected {
            reason: RejectReason::InterDigitTimeout,
            ..
        }
    )));
}

#[test]
fn field_timeout_fails_the_field() {
    let t = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(t, PaymentField::PaymentCardNumber);
    assert_eq!(c.poll_timeout(), Some(t + Duration::from_secs(60)));
    c.handle_timeout(t + Duration::from_secs(61));
    assert!(matches!(
        events(&mut c).last(),
        Some(CollectorEvent::Failed { .. })
    ));
    assert_eq!(c.field(), None);
}

#[test]
fn field_names_round_trip() {
    for n in [
        "payment-card-number",
        "expiration-date",
        "security-code",
        "postal-code",
    ] {
        assert_eq!(PaymentField::from_name(n).unwrap().name(), n);
    }
}

#[test]
fn one_key_is_asked_then_times_out_and_keys_after_it_go_nowhere() {
    let t = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(t, PaymentField::SecurityCode);
    keys(&mut c, t, "12");
    // Asking for a key abandons the entry (no completion of a partial field).
    c.request_key(t + Duration::from_secs(1), Duration::from_secs(4));
    assert_eq!(c.field(), None);
    assert_eq!(c.poll_timeout(), Some(t + Duration::from_secs(5)));
    events(&mut c);
    c.push(t + Duration::from_secs(2), Digit::from_char('#').unwrap());
    assert_eq!(
        events(&mut c),
        vec![CollectorEvent::Key {
            digit: Digit::from_char('#').unwrap()
        }]
    );
    // One key only: the next goes nowhere.
    keys(&mut c, t + Duration::from_secs(3), "1");
    assert_eq!(events(&mut c), vec![]);
    assert_eq!(c.poll_timeout(), None);

    c.request_key(t + Duration::from_secs(10), Duration::from_secs(4));
    c.handle_timeout(t + Duration::from_millis(13_999));
    assert_eq!(events(&mut c), vec![]);
    c.handle_timeout(t + Duration::from_secs(14));
    assert_eq!(events(&mut c), vec![CollectorEvent::KeyTimedOut]);
    assert!(c.take(PaymentField::SecurityCode).is_none());
}

#[test]
fn cancel_abandons_the_entry_and_wipes_completed_fields() {
    let t = Instant::now();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(t, PaymentField::ExpirationDate);
    keys(&mut c, t, "1229");
    c.request(t + Duration::from_secs(2), PaymentField::SecurityCode);
    keys(&mut c, t + Duration::from_secs(2), "12");
    c.cancel();
    events(&mut c);
    assert_eq!(c.field(), None);
    assert_eq!(c.poll_timeout(), None);
    assert!(c.take(PaymentField::ExpirationDate).is_none());
    keys(&mut c, t + Duration::from_secs(3), "3#");
    assert_eq!(events(&mut c), vec![]);
}
