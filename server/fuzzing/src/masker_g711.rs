//! Target `masker_g711`: a phone caller's RTP stream (PCMU or PCMA, issue 15) through
//! [`Masker`] configured as the gateway's `sfu::phone` configures it (`G711Audio` with PT 0
//! or 8, telephone-event at 8 kHz on PT 101 when negotiated), driven as `sfu::phone` drives it:
//! each packet fed at its arrival, SIP INFO keys handed to [`Masker::handle_signalled_key`],
//! outputs drained, `handle_timeout` when a deadline passes first, a flush at the end.
//!
//! The input is a [`program`] (the `masker` target's encoding, read for a G.711 leg): the
//! first setup byte picks the law (bit 0: A-law) and whether telephone-event was negotiated
//! (bit 1 set: not, so event packets are refused); tones, noise and silence are made at 8 kHz
//! and companded into packets of the program's packet time; `RAW_OPUS` sends its bytes as a raw
//! G.711 payload (any length); events are on the 8 kHz clock; `CTL_SIGNALLED` is a SIP INFO
//! key (with or without a duration); jitter, gaps, replays, raw RTP and secure mode as there.
//!
//! Invariants (the `masker` target's, for G.711):
//!
//! 1. **The agent hears no digit**: what the masker forwards, decoded by the law in the order
//!    it was released, holds no digit for the strict ITU-T Q.24 detector.
//! 2. **Every packet that carries a detected digit is masked**: the audio packets as received
//!    (those in order, decoded by table as the masker decodes them) are run through the strict
//!    detector; every forwarded packet carrying at least [`masker::CARRIES_SAMPLES`] of a digit
//!    it finds is masked, with the same documented exception (a packet released by its hold
//!    timeout, the digit's onset after its start). Checked when no raw RTP packet was sent.
//! 3. **Digits stay in the collector in secure mode**: no `Output::Digit` while secure.
//! 4. **Nothing else reaches the agent**: every forwarded packet is the leg's G.711 payload
//!    type (no telephone event is ever forwarded); a masked packet is the law's silence code in
//!    every byte, as long as the payload received; every audio packet the masker accepted
//!    comes out exactly once (every packet the program encoded is accepted).

use std::time::{Duration, Instant};

use hushpay_media::Digit;
use hushpay_media::collector::{Collector, CollectorConfig, PaymentField};
use hushpay_media::detector::{DetectedDigit, detect_all};
use hushpay_media::g711::Law;
use hushpay_media::masker::{Forwarded, G711Audio, Masker, MaskerConfig, Output};
use hushpay_media::rfc4733::TelephoneEvent;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::signal::Rng;

use crate::bytes::Bytes;
use crate::masker::program;
use crate::masker::{CARRIES_SAMPLES, MAX_AUDIO_MS, Report, SSRC};

/// telephone-event's payload type on the phone leg (8 kHz clock), as SIPp and most trunks
/// offer it.
pub const EVENT_PT: u8 = 101;
const RATE: u32 = 8_000;

pub fn run(data: &[u8]) {
    run_and_report(data);
}

/// [`run`], returning what it saw.
pub fn run_and_report(data: &[u8]) -> Report {
    let mut b = Bytes::new(data);
    let mut d = Driver::new(b.u8(), b.u8());
    while !b.is_empty() && d.audio_ms() < MAX_AUDIO_MS {
        d.step(&mut b);
    }
    d.finish()
}

/// One audio packet as received, for invariants 2 and 4.
struct Received {
    payload: Vec<u8>,
    /// Its sequence number is above every earlier one (the masker decodes only these).
    in_order: bool,
}

struct Driver {
    masker: Masker,
    law: Law,
    pt: u8,
    rng: Rng,
    base: Instant,
    now: Instant,
    next_timeout: Option<Instant>,
    /// PCM at 8 kHz not yet sent.
    pending: Vec<i16>,
    ptime_ms: u32,
    jitter_ms: u64,
    /// Audio time sent so far, in 8 kHz samples.
    sent_samples: u64,
    seq: u64,
    highest_audio_seq: Option<u64>,
    ts: u32,
    event_ts: u32,
    received: Vec<Received>,
    history: Vec<(u64, u32, Vec<u8>)>,
    forwarded: Vec<(Forwarded, bool)>,
    digits_out: usize,
    raw_rtp: bool,
}

impl Driver {
    fn new(setup: u8, seed: u8) -> Driver {
        let law = if setup & 1 == 0 { Law::Mu } else { Law::A };
        let pt = if law == Law::Mu { 0 } else { 8 };
        let events = setup & 2 == 0;
        let config = MaskerConfig {
            g711: Some(G711Audio { pt, law }),
            event_pts: if events {
                vec![(EVENT_PT, RATE)]
            } else {
                Vec::new()
            },
            ..MaskerConfig::default()
        };
        let Ok(masker) = Masker::new(config) else {
            panic!("the phone leg's masker configuration is valid");
        };
        let base = Instant::now();
        Driver {
            masker,
            law,
            pt,
            rng: Rng::new(u64::from(seed) + 1),
            base,
            now: base,
            next_timeout: None,
            pending: Vec::new(),
            ptime_ms: 20,
            jitter_ms: 0,
            sent_samples: 0,
            seq: u64::from(seed) * 251,
            highest_audio_seq: None,
            ts: u32::from(seed) << 20,
            event_ts: 0,
            received: Vec::new(),
            history: Vec::new(),
            forwarded: Vec::new(),
            digits_out: 0,
            raw_rtp: false,
        }
    }

    fn audio_ms(&self) -> u64 {
        self.sent_samples / 8
    }

    /// One program step (see [`program`] for the encoding).
    fn step(&mut self, b: &mut Bytes<'_>) {
        let op = b.u8();
        let flags = op >> 3;
        match op & 7 {
            program::TONE | program::NOISE | program::SILENCE => {
                if let Some(pcm) = program::audio(op & 7, flags, b, RATE, &mut self.rng) {
                    self.push_pcm(&pcm);
                }
            }
            program::EVENT => self.event(b, flags),
            program::RAW_RTP => {
                let mut bytes = b.short_slice().to_vec();
                if flags & 1 == 1 && bytes.len() >= 12 {
                    bytes[0] = (bytes[0] & 0x3f) | 0x80;
                    bytes[8..12].copy_from_slice(&SSRC.to_be_bytes());
                }
                self.raw_rtp = true;
                let at = self.now;
                let _ = self.deliver(at, &bytes);
            }
            program::RAW_OPUS => {
                // read as a raw G.711 payload on this leg
                let payload = b.short_slice().to_vec();
                self.send_audio(payload, false);
            }
            program::GAP => {
                let ms = u64::from(b.u8());
                self.sent_samples += ms * 8;
                self.ts = self.ts.wrapping_add(ms as u32 * 8);
            }
            _ => self.control(b, flags),
        }
    }

    fn control(&mut self, b: &mut Bytes<'_>, flags: u8) {
        match flags & 7 {
            program::CTL_PTIME => self.ptime_ms = [10, 20, 40, 60][usize::from(b.u8() & 3)],
            program::CTL_JITTER => self.jitter_ms = u64::from(b.u8() % 16),
            program::CTL_SECURE if !self.masker.is_secure() => {
                let mut c = Collector::new(CollectorConfig::default());
                c.request(self.now, PaymentField::PaymentCardNumber);
                self.masker.enter_secure_mode(c);
            }
            program::CTL_INSECURE => drop(self.masker.exit_secure_mode()),
            program::CTL_REPLAY => {
                let i = usize::from(b.u8());
                if let Some((seq, ts, payload)) = self.history.get(i % self.history.len().max(1)) {
                    let (seq, ts, payload) = (*seq, *ts, payload.clone());
                    let pkt = rtp(self.pt, false, seq as u16, ts, &payload);
                    let in_order = self.note_seq(seq);
                    let at = self.now;
                    if self.deliver(at, &pkt) {
                        self.received.push(Received { payload, in_order });
                    }
                }
            }
            program::CTL_SIGNALLED => {
                let digit = Digit::from_event_code(b.u8() % 16);
                let held_ms = b.u8();
                let Some(digit) = digit else { return };
                let held = (held_ms > 0).then(|| Duration::from_millis(u64::from(held_ms) * 4));
                let at = self.arrival();
                self.advance(at);
                self.masker.handle_signalled_key(at, digit, held);
                self.next_timeout = self.drain(false);
            }
            _ => {}
        }
    }

    fn event(&mut self, b: &mut Bytes<'_>, flags: u8) {
        let code = b.u8() % 20;
        let volume = b.u8() % 64;
        let duration = b.u16();
        if flags & 1 == 1 {
            self.event_ts = self.ts;
        }
        let ev = TelephoneEvent {
            code,
            end: flags & 4 != 0,
            volume,
            duration,
        };
        let pkt = rtp(
            EVENT_PT,
            flags & 8 != 0,
            self.seq as u16,
            self.event_ts,
            &ev.build(),
        );
        self.seq += 1;
        let at = self.arrival();
        let _ = self.deliver(at, &pkt);
    }

    fn push_pcm(&mut self, pcm: &[i16]) {
        self.pending.extend_from_slice(pcm);
        let frame = (RATE / 1000 * self.ptime_ms) as usize;
        while self.pending.len() >= frame && self.audio_ms() < MAX_AUDIO_MS {
            let chunk: Vec<i16> = self.pending.drain(..frame).collect();
            let mut payload = Vec::with_capacity(frame);
            self.law.encode(&chunk, &mut payload);
            self.send_audio(payload, true);
        }
    }

    /// Sends one G.711 packet, arriving when its audio has been captured (plus jitter).
    /// `ours`: the program encoded it (the masker must accept it).
    fn send_audio(&mut self, payload: Vec<u8>, ours: bool) {
        let samples = u32::try_from(payload.len()).unwrap_or(u32::MAX);
        let seq = self.seq;
        self.seq += 1;
        self.sent_samples += u64::from(samples);
        let pkt = rtp(self.pt, false, seq as u16, self.ts, &payload);
        self.history.push((seq, self.ts, payload.clone()));
        self.ts = self.ts.wrapping_add(samples);
        let in_order = self.note_seq(seq);
        let at = self.arrival();
        let accepted = self.deliver(at, &pkt);
        assert!(
            accepted || !ours,
            "the masker refused a G.711 packet of {samples} samples"
        );
        if accepted {
            self.received.push(Received { payload, in_order });
        }
    }

    fn note_seq(&mut self, seq: u64) -> bool {
        let in_order = self.highest_audio_seq.is_none_or(|h| seq > h);
        if in_order {
            self.highest_audio_seq = Some(seq);
        }
        in_order
    }

    fn arrival(&self) -> Instant {
        self.base
            + Duration::from_micros(self.sent_samples * 1000 / 8)
            + Duration::from_millis(self.jitter_ms)
    }

    /// Deadlines that pass before `at`, in order; then `now` is `at` (never backwards).
    fn advance(&mut self, at: Instant) -> Instant {
        let at = at.max(self.now);
        while let Some(t) = self.next_timeout.filter(|&t| t < at) {
            self.masker.handle_timeout(t);
            self.next_timeout = self.drain(true);
            if self.next_timeout == Some(t) {
                break;
            }
        }
        self.now = at;
        at
    }

    /// Feeds one packet at `at` the way the gateway does; whether the masker accepted it.
    fn deliver(&mut self, at: Instant, bytes: &[u8]) -> bool {
        let at = self.advance(at);
        let accepted = self.masker.handle_rtp(at, bytes).is_ok();
        self.next_timeout = self.drain(false);
        accepted
    }

    fn drain(&mut self, by_timeout: bool) -> Option<Instant> {
        while let Some(out) = self.masker.poll_output() {
            match out {
                Output::Timeout(t) => return Some(t),
                Output::Forward(f) => self.forwarded.push((f, by_timeout)),
                Output::Digit(_) => {
                    assert!(
                        !self.masker.is_secure(),
                        "a digit came out of the masker in secure mode"
                    );
                    self.digits_out += 1;
                }
                _ => {}
            }
        }
        None
    }

    fn finish(mut self) -> Report {
        if !self.pending.is_empty() {
            let frame = (RATE / 1000 * self.ptime_ms) as usize;
            let missing = frame - self.pending.len() % frame;
            self.pending.resize(self.pending.len() + missing, 0);
            let rest = std::mem::take(&mut self.pending);
            self.push_pcm(&rest);
        }
        let end = self.arrival() + Duration::from_secs(1);
        self.advance(end);
        self.masker.flush(end);
        self.drain(false);
        self.check_forwarded();
        let sent = if self.raw_rtp {
            Vec::new()
        } else {
            self.check_digits_are_masked()
        };
        self.check_agent_hears_no_digit(&sent);
        Report {
            sent_digits: keys(&sent),
            forwarded: self.forwarded.len(),
            masked: self.forwarded.iter().filter(|(f, _)| f.masked).count(),
            digits_out: self.digits_out,
        }
    }

    /// Invariant 4.
    fn check_forwarded(&self) {
        for (i, (f, _)) in self.forwarded.iter().enumerate() {
            let Ok(p) = RtpPacket::parse(&f.bytes) else {
                panic!("the masker forwarded a packet that does not parse");
            };
            assert_eq!(p.payload_type, self.pt, "a non-G.711 packet was forwarded");
            if f.masked {
                assert!(
                    p.payload.iter().all(|&c| c == self.law.silence()),
                    "masked, not the law's silence"
                );
            }
            if !self.raw_rtp
                && let Some(r) = self.received.get(i)
            {
                assert_eq!(p.payload.len(), r.payload.len(), "a payload changed length");
            }
        }
        if !self.raw_rtp {
            assert_eq!(
                self.forwarded.len(),
                self.received.len(),
                "every audio packet comes out exactly once"
            );
        }
    }

    /// Invariant 1.
    fn check_agent_hears_no_digit(&self, sent: &[DetectedDigit]) {
        let mut agent = Vec::new();
        for (f, _) in &self.forwarded {
            if let Ok(p) = RtpPacket::parse(&f.bytes) {
                self.law.decode(p.payload, &mut agent);
            }
        }
        let heard = detect_all(&agent);
        assert!(
            heard.is_empty(),
            "the agent hears digits: {} at {:?} ms (sent: {:?}); forwarded (M masked, t released by timeout): {}",
            keys(&heard),
            heard
                .iter()
                .map(|d| (d.start_ms(), d.end_ms()))
                .collect::<Vec<_>>(),
            sent.iter()
                .map(|d| (d.digit.as_char(), d.start_ms(), d.end_ms()))
                .collect::<Vec<_>>(),
            self.pattern()
        );
    }

    /// Invariant 2; the digits found in the audio as sent.
    fn check_digits_are_masked(&self) -> Vec<DetectedDigit> {
        let mut input = Vec::new();
        let mut spans = Vec::with_capacity(self.received.len());
        for r in &self.received {
            let start = input.len() as u64;
            if r.in_order {
                self.law.decode(&r.payload, &mut input);
            }
            spans.push(start..input.len() as u64);
        }
        let sent = detect_all(&input);
        for digit in &sent {
            for (i, span) in spans.iter().enumerate() {
                let overlap = span
                    .end
                    .min(digit.end_sample)
                    .saturating_sub(span.start.max(digit.start_sample));
                if overlap < CARRIES_SAMPLES {
                    continue;
                }
                let (f, by_timeout) = &self.forwarded[i];
                let onset_in_tail = digit.start_sample > span.start;
                assert!(
                    f.masked || (*by_timeout && onset_in_tail),
                    "packet {i} carries {overlap} samples of digit {} unmasked; forwarded: {}",
                    digit.digit.as_char(),
                    self.pattern()
                );
            }
        }
        sent
    }

    /// One character a forwarded packet: `M` masked, `t` released by its timeout, `.` other.
    fn pattern(&self) -> String {
        self.forwarded
            .iter()
            .map(|(f, by_timeout)| match (f.masked, by_timeout) {
                (true, _) => 'M',
                (false, true) => 't',
                (false, false) => '.',
            })
            .collect()
    }
}

fn keys(found: &[DetectedDigit]) -> String {
    found.iter().map(|d| d.digit.as_char()).collect()
}

fn rtp(payload_type: u8, marker: bool, sequence: u16, timestamp: u32, payload: &[u8]) -> Vec<u8> {
    RtpBuilder {
        marker,
        payload_type,
        sequence,
        timestamp,
        ssrc: SSRC,
    }
    .build(payload)
}
