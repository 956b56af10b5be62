//! Issue 12, finding 4: keys pressed outside a payment are counted and forgotten.
//!
//! Before the fix every digit the masker captured outside secure mode was pushed to a vector
//! that lived as long as the room (`Room::record_digit`), never zeroized: a card number keyed
//! with no payment open stayed in the gateway's heap for the whole call.
//!
//! `keys_outside_a_payment_are_counted_and_forgotten` runs both parts:
//!
//! * `keyed_card_number_is_not_in_the_gateways_memory`: the real binary, a patient and an
//!   agent bot over WebRTC, the patient keys a tracer card number by RFC 4733 with no payment
//!   open; the gateway counts 16 keys, and its writable memory (read from `/proc/PID/mem`)
//!   holds the number in no form: not as text, not as ASCII bytes or `char`s at any stride up
//!   to 64 bytes (a vector of structs). Positive control: the room's name, which the gateway
//!   keeps, is found in the same image.
//! * `a_hundred_thousand_keys_do_not_grow_the_room`: 100k RFC 4733 key presses through a real
//!   masker into a real room: the process's resident memory does not grow with them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::binary::{Binary, writable_memory};
use common::cards::tracer_pan;
use hushpay::sfu::room::{Registry, RoomKey, RoomSettings};
use hushpay_bots::{Bot, BotConfig, Key};
use hushpay_card::leak_scan::Tracers;
use hushpay_card::memory_scan::scan_strided;
use hushpay_media::Digit;
use hushpay_media::masker::{Masker, MaskerConfig, Output};
use hushpay_media::rfc4733::TelephoneEvent;
use serde_json::{Value, json};

/// The room's name: something the gateway certainly keeps, for the positive control.
const ROOM: &str = "keys-room-5e1d0c2a9b";

async fn bot(c: &reqwest::Client, gw: &Binary, identity: &str, role: &str) -> Bot {
    let resp = c
        .post(format!("{}/v1/access-tokens", gw.url))
        .bearer_auth(gw.api_key.as_deref().unwrap())
        .json(&json!({"identity": identity, "room": ROOM, "role": role}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let token = resp.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    Bot::connect(BotConfig {
        url: gw.rtc_url(),
        token,
        media_ip: [127, 0, 0, 1].into(),
        keep_payloads: false,
    })
    .await
    .unwrap()
}

async fn metric(c: &reqwest::Client, gw: &Binary, name: &str) -> f64 {
    let text = c
        .get(format!("{}/metrics", gw.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// One test, so that nothing else in this process allocates while the resident memory is
/// measured.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_outside_a_payment_are_counted_and_forgotten() {
    a_hundred_thousand_keys_do_not_grow_the_room();
    keyed_card_number_is_not_in_the_gateways_memory().await;
}

async fn keyed_card_number_is_not_in_the_gateways_memory() {
    let dir = tempfile::tempdir().unwrap();
    let gw = Binary::start(dir.path(), 0, &[]);
    let c = reqwest::Client::new();
    let agent = bot(&c, &gw, "agent-1", "agent").await;
    let patient = bot(&c, &gw, "patient-1", "patient").await;

    let pan = tracer_pan();
    let keys: Vec<Key> = pan
        .chars()
        .enumerate()
        .map(|(i, ch)| Key {
            digit: Digit::from_char(ch).unwrap(),
            at_ms: 200 + 240 * i as u64,
            ms: 100,
        })
        .collect();
    // The keys, then two seconds more of the call (the masker's merge memory expires).
    let call_ms = 200 + 240 * keys.len() + 2000;
    patient.play(&vec![0; call_ms * 48], &keys).await.unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while metric(&c, &gw, "hushpay_digits_captured_total").await < 16.0 {
        assert!(Instant::now() < deadline, "the gateway heard the 16 keys");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The call goes on (the room and the patient's stream are alive while memory is read).
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let image = writable_memory(gw.pid());
    assert!(
        image.windows(ROOM.len()).any(|w| w == ROOM.as_bytes()),
        "positive control: the memory image holds the room's name ({} bytes read)",
        image.len()
    );

    let mut tracers = Tracers::new();
    tracers.add("keyed-pan", &pan).unwrap();
    let hits = scan_strided(&tracers, &image, 64);
    assert!(
        hits.is_empty(),
        "the keyed card number is in the gateway's memory: {hits:?}"
    );

    patient.leave().await;
    agent.leave().await;
}

/// Resident set size of this process, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
    pages * 4096
}

/// An RFC 4733 packet (payload type 110, 48 kHz).
fn event_packet(seq: u16, ts: u32, marker: bool, ev: TelephoneEvent) -> Vec<u8> {
    let mut p = vec![0x80, if marker { 0x80 | 110 } else { 110 }];
    p.extend(seq.to_be_bytes());
    p.extend(ts.to_be_bytes());
    p.extend(0x1234_5678u32.to_be_bytes());
    p.extend(ev.build());
    p
}

fn a_hundred_thousand_keys_do_not_grow_the_room() {
    let registry = Registry::default();
    let room = registry
        .create(
            RoomKey {
                tenant: "t".into(),
                name: "r".into(),
            },
            RoomSettings::default(),
            10,
        )
        .unwrap()
        .unwrap();
    let mut masker = Masker::new(MaskerConfig::default()).unwrap();
    let t0 = Instant::now();
    let mut seq = 0u16;
    let mut press = |i: u32, masker: &mut Masker| {
        let now = t0 + Duration::from_millis(u64::from(i) * 200);
        let ts = i.wrapping_mul(9600);
        let code = (i % 10) as u8;
        for (k, end) in [(0, false), (1, true), (2, true), (3, true)] {
            let ev = TelephoneEvent {
                code,
                end,
                volume: 10,
                duration: 4800,
            };
            masker
                .handle_rtp(now, &event_packet(seq, ts, k == 0, ev))
                .unwrap();
            seq = seq.wrapping_add(1);
        }
        masker.handle_timeout(now + Duration::from_millis(100));
        let mut digits = 0;
        while let Some(out) = masker.poll_output() {
            match out {
                Output::Digit(d) => {
                    room.digit_keyed(d);
                    digits += 1;
                }
                Output::Timeout(_) => break,
                _ => {}
            }
        }
        digits
    };
    // Warm up (allocator arenas, the masker's queues), then measure.
    let mut heard = 0;
    for i in 0..1_000 {
        heard += press(i, &mut masker);
    }
    let before = rss();
    for i in 1_000..101_000 {
        heard += press(i, &mut masker);
    }
    let grown = rss().saturating_sub(before);
    assert_eq!(heard, 101_000, "every key was heard");
    assert_eq!(room.digits_keyed(), 101_000);
    assert!(
        grown < 512 * 1024,
        "100k keys grew the process by {grown} bytes"
    );
}
