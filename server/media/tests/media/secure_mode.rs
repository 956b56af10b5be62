//! Secure mode: digits go to the collector only (no `Output::Digit`), masking is wider.

use std::time::Instant;

use hushpay_media::collector::{Collector, CollectorConfig, CollectorEvent, PaymentField};
use hushpay_media::masker::{Masker, MaskerConfig, Output};
use hushpay_media::signal::{TonePair, append_silence};

use crate::common::{StreamBuilder, digit, run_masker_at};

#[test]
fn digits_go_to_the_collector_and_never_out() {
    let base = Instant::now();
    let mut s = StreamBuilder::new(base, 1, 1);
    let mut quiet = Vec::new();
    append_silence(200.0, 48_000, &mut quiet);
    s.audio(&quiet);
    for k in "4242424242424242".chars() {
        if k == '2' {
            let mut tone = Vec::new();
            TonePair::new(digit(k), -10.0, 80.0).append(48_000, &mut tone);
            append_silence(80.0, 48_000, &mut tone);
            s.audio(&tone); // in-band
        } else {
            s.key(110, 48_000, digit(k), 80, None); // RFC 4733
            s.audio(&quiet[..3840]);
        }
    }
    s.key(110, 48_000, digit('#'), 80, None);
    s.audio(&quiet);
    let mut masker = Masker::new(MaskerConfig::default()).unwrap();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(base, PaymentField::PaymentCardNumber);
    masker.enter_secure_mode(c);
    let run = run_masker_at(&mut masker, &s.packets, &s.arrivals);
    assert!(run.digits.is_empty(), "no digit output in secure mode");
    assert!(run.outputs.iter().all(|o| !matches!(o, Output::Digit(_))));
    assert!(
        run.outputs
            .contains(&Output::Collector(CollectorEvent::Complete {
                field: PaymentField::PaymentCardNumber,
                digits: 16
            }))
    );
    let debug = format!("{masker:?}");
    assert!(
        !debug.contains("Digit(") && !debug.contains("4242"),
        "masker Debug shows digits: {debug}"
    );
    let mut c = masker.exit_secure_mode().unwrap();
    assert_eq!(
        c.take(PaymentField::PaymentCardNumber).unwrap().expose(),
        b"4242424242424242"
    );
    assert!(!format!("{:?}", run.outputs).contains("4242"));
}
