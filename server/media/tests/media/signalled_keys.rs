//! Keys signalled out of band (a phone's SIP INFO, `Masker::handle_signalled_key`): each is one
//! digit, merged with the same key played in-band; the audio around it is masked; in secure
//! mode it goes to the collector only.

use std::time::{Duration, Instant};

use hushpay_media::collector::{Collector, CollectorConfig, CollectorEvent, PaymentField};
use hushpay_media::masker::{DigitSource, Masker, MaskerConfig, Output};
use hushpay_media::signal::{TonePair, append_silence};

use crate::common::{StreamBuilder, agent_audio, digit, multimon, sensitive_hits};

/// Silence, then each key as 100 ms of tone (when `inband`) or silence, 100 ms apart; the
/// packet index each key starts at.
fn stream(keys: &str, inband: bool) -> (StreamBuilder, Vec<usize>) {
    let mut s = StreamBuilder::new(Instant::now(), 100, 5_000);
    let mut quiet = Vec::new();
    append_silence(100.0, 48_000, &mut quiet);
    s.audio(&quiet);
    let mut starts = Vec::new();
    for k in keys.chars() {
        starts.push(s.packets.len());
        let mut tone = Vec::new();
        if inband {
            TonePair::new(digit(k), -8.0, 100.0).append(48_000, &mut tone);
        } else {
            append_silence(100.0, 48_000, &mut tone);
        }
        s.audio(&tone);
        s.audio(&quiet);
    }
    (s, starts)
}

/// Feeds the stream, signalling key `i` as packet `starts[i]` arrives.
fn run(masker: &mut Masker, s: &StreamBuilder, starts: &[usize], keys: &str) -> Vec<Output> {
    let mut out = Vec::new();
    let mut keys = keys.chars().zip(starts);
    let mut next = keys.next();
    for (i, (p, &at)) in s.packets.iter().zip(&s.arrivals).enumerate() {
        masker.handle_rtp(at, p).unwrap();
        if let Some((k, _)) = next.filter(|&(_, &start)| start == i) {
            masker.handle_signalled_key(at, digit(k), Some(Duration::from_millis(100)));
            next = keys.next();
        }
        while let Some(o) = masker.poll_output() {
            if matches!(o, Output::Timeout(_)) {
                break;
            }
            out.push(o);
        }
    }
    masker.flush(s.arrivals[s.arrivals.len() - 1] + Duration::from_secs(1));
    while let Some(o) = masker.poll_output() {
        if matches!(o, Output::Timeout(_)) {
            break;
        }
        out.push(o);
    }
    out
}

#[test]
fn a_signalled_key_is_one_digit_also_when_played_in_band_and_nothing_is_heard() {
    let keys = "4111#";
    for inband in [false, true] {
        let (s, starts) = stream(keys, inband);
        let mut masker = Masker::new(MaskerConfig::default()).unwrap();
        let out = run(&mut masker, &s, &starts, keys);
        let digits: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Output::Digit(d) => Some(*d),
                _ => None,
            })
            .collect();
        let got: String = digits.iter().map(|d| d.digit.as_char()).collect();
        assert_eq!(got, keys, "one digit per key (in-band {inband})");
        if !inband {
            assert!(digits.iter().all(|d| d.source == DigitSource::Signalled));
        }
        let forwarded: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Output::Forward(f) => Some(f.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(forwarded.len(), s.packets.len(), "every packet forwarded");
        // the packet held when the key came (the one that had just arrived) and the one
        // after are masked
        for &i in &starts {
            assert!(
                forwarded[i].masked && forwarded[i + 1].masked,
                "key at packet {i}"
            );
        }
        let heard = agent_audio(&forwarded, 8_000);
        assert_eq!(multimon(&heard, 8_000), "", "in-band {inband}");
        assert_eq!(sensitive_hits(&heard), 0, "in-band {inband}");
    }
}

#[test]
fn in_secure_mode_a_signalled_key_goes_to_the_collector_only() {
    let keys = "4111";
    let (s, starts) = stream(keys, false);
    let mut masker = Masker::new(MaskerConfig::default()).unwrap();
    let mut c = Collector::new(CollectorConfig::default());
    c.request(s.arrivals[0], PaymentField::PaymentCardNumber);
    masker.enter_secure_mode(c);
    let out = run(&mut masker, &s, &starts, keys);
    assert!(!out.iter().any(|o| matches!(o, Output::Digit(_))));
    assert!(out.contains(&Output::Collector(CollectorEvent::Progress {
        field: PaymentField::PaymentCardNumber,
        digits: keys.len()
    })));
    assert!(!format!("{masker:?}").contains("4111"));
}
