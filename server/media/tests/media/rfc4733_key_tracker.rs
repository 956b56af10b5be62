//! The key tracker: exactly one digit per key press whatever the network does to the packets.

use std::time::{Duration, Instant};

use hushpay_media::key_tracker::{KeyTracker, KeyTrackerConfig};
use hushpay_media::rfc4733::TelephoneEvent;

/// One event packet: (marker, timestamp, code, end, duration), arriving `at_ms`.
type Pkt = (bool, u32, u8, bool, u16, u64);

fn run(clock: u32, packets: &[Pkt], end_ms: u64) -> String {
    let base = Instant::now();
    let mut t = KeyTracker::new(KeyTrackerConfig {
        clock_rate: clock,
        ..KeyTrackerConfig::default()
    });
    let mut out = String::new();
    for &(marker, ts, code, end, duration, at) in packets {
        let now = base + Duration::from_millis(at);
        t.handle_timeout(now);
        t.handle_event(
            now,
            marker,
            ts,
            TelephoneEvent {
                code,
                end,
                volume: 10,
                duration,
            },
        );
        while let Some(p) = t.poll_press() {
            out.push(p.digit.as_char());
        }
    }
    t.handle_timeout(base + Duration::from_millis(end_ms));
    while let Some(p) = t.poll_press() {
        out.push(p.digit.as_char());
    }
    out
}

/// A normal press of `code` at `ts`, starting `at` ms: updates every 20 ms, end three times.
fn press(code: u8, ts: u32, at: u64, ms: u64) -> Vec<Pkt> {
    let mut v = Vec::new();
    let steps = ms / 20;
    for i in 0..steps {
        v.push((i == 0, ts, code, false, (160 * (i + 1)) as u16, at + 20 * i));
    }
    for r in 0..3 {
        v.push((
            false,
            ts,
            code,
            true,
            (160 * steps) as u16,
            at + 20 * steps + r,
        ));
    }
    v
}

#[test]
fn one_digit_per_press_with_triple_end_packets() {
    let mut p = press(1, 1000, 0, 100);
    p.extend(press(1, 3000, 300, 100));
    p.extend(press(11, 5000, 600, 60));
    assert_eq!(run(8000, &p, 2000), "11#");
}

#[test]
fn lost_first_packet_still_counts() {
    let mut p = press(5, 1000, 0, 100);
    p.remove(0); // the marked packet
    assert_eq!(run(8000, &p, 2000), "5");
}

#[test]
fn lost_end_packets_end_by_the_next_key_or_by_timeout() {
    let mut p: Vec<Pkt> = press(7, 1000, 0, 100)
        .into_iter()
        .filter(|x| !x.3)
        .collect();
    p.extend(press(7, 4000, 400, 100).into_iter().filter(|x| !x.3));
    assert_eq!(run(8000, &p, 2000), "77");
}

#[test]
fn single_packet_press_that_is_only_end_packets() {
    let p = vec![
        (false, 900, 3, true, 800, 0),
        (false, 900, 3, true, 800, 1),
        (false, 900, 3, true, 800, 2),
    ];
    assert_eq!(run(8000, &p, 1000), "3");
}

#[test]
fn long_press_split_into_segments_counts_once() {
    // RFC 4733 2.5.1.3: at the maximum duration a new segment starts with a new timestamp, no marker.
    let mut p = Vec::new();
    let mut at = 0;
    let mut dur = 0u32;
    while dur < 0xffff {
        dur = (dur + 160).min(0xffff);
        p.push((at == 0, 10_000, 4, false, dur as u16, at));
        at += 20;
    }
    for i in 1..=20u32 {
        p.push((false, 10_000 + 0xffff, 4, false, (160 * i) as u16, at));
        at += 20;
    }
    for r in 0..3 {
        p.push((false, 10_000 + 0xffff, 4, true, 3200, at + r));
    }
    assert_eq!(run(8000, &p, at + 1000), "4");
}

#[test]
fn long_press_with_wrapping_duration_counts_once() {
    let mut p = Vec::new();
    let mut dur: u16 = 0;
    for i in 0..600u64 {
        dur = dur.wrapping_add(960); // 48 kHz clock: wraps after ~1.4 s
        p.push((i == 0, 77, 9, false, dur, i * 20));
    }
    p.push((false, 77, 9, true, dur, 12_000));
    assert_eq!(run(48_000, &p, 13_000), "9");
}

#[test]
fn timestamp_wrap_between_presses() {
    let mut p = press(2, u32::MAX - 100, 0, 100);
    p.extend(press(2, 500, 300, 100));
    assert_eq!(run(8000, &p, 2000), "22");
}

#[test]
fn late_retransmissions_and_stale_packets_are_ignored() {
    let mut p = press(6, 1000, 0, 100);
    p.extend(press(8, 3000, 300, 100));
    p.push((false, 1000, 6, true, 800, 500)); // a stray end packet of the first key
    p.push((false, 1000, 6, false, 480, 510)); // and a stale update
    assert_eq!(run(8000, &p, 2000), "68");
}

#[test]
fn non_key_events_are_not_digits() {
    let p = press(16, 1000, 0, 100); // flash
    assert_eq!(run(8000, &p, 2000), "");
}
