//! Target `masker`: a patient's RTP stream through [`Masker`], driven the way the gateway's
//! `sfu::forward::patient_stream` drives it (feed each packet at its arrival, drain the
//! outputs, call `handle_timeout` when a deadline passes before the next packet, flush at the
//! end), with the default [`MaskerConfig`] the gateway uses.
//!
//! The input is a small program ([`program`] writes one) whose steps make what a browser, a
//! softphone or an attacker sends: DTMF tone pairs at any level, twist, frequency offset and
//! duration (onsets anywhere in a packet), noise and silence, Opus-encoded in 10, 20, 40 or 60
//! ms packets at several bitrates and audio bands; RFC 4733 telephone events; raw Opus payloads
//! and raw RTP packets; arrival jitter, gaps, replayed (late or duplicate) packets; entering and
//! leaving secure mode.
//!
//! Invariants (checked after the stream is flushed):
//!
//! 1. **The agent hears no digit**: what the masker forwards, decoded in the order it was
//!    released, holds no digit for the strict ITU-T Q.24 detector.
//! 2. **Every packet that carries a detected digit is masked**: the audio packets as received
//!    (those in order, decoded as the masker decodes them) are run through the strict detector;
//!    every forwarded packet carrying at least [`CARRIES_SAMPLES`] of a digit it finds is the
//!    silence packet. The one documented exception: a packet released by its hold timeout,
//!    before the next packet arrived, when the digit's onset lies after its start (the masker's
//!    "one before" rule can only mask a packet still held; see `masker.rs`). Checked when the
//!    program sent no raw RTP packet (whose sequence numbers would leave "in order" unknown).
//! 3. **Digits stay in the collector in secure mode**: no `Output::Digit` while secure.
//! 4. **Nothing else reaches the agent**: every forwarded packet is Opus (no telephone event
//!    is ever forwarded); a masked packet carries a silence frame; every audio packet received
//!    comes out exactly once.

use std::time::{Duration, Instant};

use hushpay_media::collector::{Collector, CollectorConfig, PaymentField};
use hushpay_media::detector::{DetectedDigit, detect_all};
use hushpay_media::masker::{Forwarded, Masker, MaskerConfig, Output};
use hushpay_media::opus_codec::{Decoder8k, Encoder, packet_samples_48k, silence_packet};
use hushpay_media::rfc4733::TelephoneEvent;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::signal::Rng;

use crate::bytes::Bytes;

pub mod program;

/// A forwarded packet "carries" a digit when this many of its 8 kHz samples lie inside the
/// digit's span as the strict detector reports it (5 ms).
pub const CARRIES_SAMPLES: u64 = 40;
/// Longest audio a program may send (keeps one run short).
pub const MAX_AUDIO_MS: u64 = 3000;
/// The stream's SSRC.
pub const SSRC: u32 = 0x4855_5348;
const OPUS_PT: u8 = 111;
const RATE: u32 = 48_000;

pub fn run(data: &[u8]) {
    run_and_report(data);
}

/// What one run saw (for the tests that prove the invariants are not vacuous).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Digits the strict detector finds in the audio as sent (before masking).
    pub sent_digits: String,
    /// Audio packets forwarded, and of those masked.
    pub forwarded: usize,
    pub masked: usize,
    /// Digits reported outside secure mode.
    pub digits_out: usize,
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
    encoder: Option<Encoder>,
    rng: Rng,
    base: Instant,
    now: Instant,
    next_timeout: Option<Instant>,
    /// PCM at 48 kHz not yet sent.
    pending: Vec<i16>,
    ptime_ms: u32,
    jitter_ms: u64,
    /// Audio time sent so far (the end of the last packet's audio), in 48 kHz samples.
    sent_samples: u64,
    seq: u64,
    highest_audio_seq: Option<u64>,
    ts: u32,
    event_ts: u32,
    received: Vec<Received>,
    /// Every audio packet sent, with its wire sequence number, for replays.
    history: Vec<(u64, u32, Vec<u8>)>,
    forwarded: Vec<(Forwarded, bool)>,
    digits_out: usize,
    raw_rtp: bool,
}

impl Driver {
    fn new(setup: u8, seed: u8) -> Driver {
        let bitrate = [12_000, 20_000, 32_000, 64_000][usize::from(setup & 3)];
        let band = [48_000, 16_000, 8_000][usize::from((setup >> 2) % 3)];
        let mut encoder = Encoder::new(RATE, bitrate).ok();
        if let Some(e) = encoder.as_mut()
            && e.set_max_playback_rate(band).is_err()
        {
            encoder = None;
        }
        let Ok(masker) = Masker::new(MaskerConfig::default()) else {
            panic!("the default masker configuration is valid");
        };
        let base = Instant::now();
        Driver {
            masker,
            encoder,
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
        self.sent_samples / 48
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
                self.deliver(at, &bytes);
            }
            program::RAW_OPUS => {
                let payload = b.short_slice().to_vec();
                self.send_audio(payload);
            }
            program::GAP => {
                // The sender stops (mute, DTX, a network stall): time and the RTP clock go on.
                let ms = u64::from(b.u8());
                self.sent_samples += ms * 48;
                self.ts = self.ts.wrapping_add(ms as u32 * 48);
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
                    let pkt = rtp(OPUS_PT, false, seq as u16, ts, &payload);
                    let in_order = self.note_seq(seq);
                    self.received.push(Received { payload, in_order });
                    let at = self.now;
                    self.deliver(at, &pkt);
                }
            }
            _ => {}
        }
    }

    fn event(&mut self, b: &mut Bytes<'_>, flags: u8) {
        let code = b.u8() % 20;
        let volume = b.u8() % 64;
        let duration = b.u16();
        if flags & 1 == 1 {
            // A new key press starts at the current audio position.
            self.event_ts = self.ts;
        }
        let (pt, clock) = if flags & 2 == 0 {
            (110, 48_000)
        } else {
            (126, 8_000)
        };
        let ts = if clock == 48_000 {
            self.event_ts
        } else {
            self.event_ts / 6
        };
        let ev = TelephoneEvent {
            code,
            end: flags & 4 != 0,
            volume,
            duration,
        };
        let pkt = rtp(pt, flags & 8 != 0, self.seq as u16, ts, &ev.build());
        self.seq += 1;
        let at = self.arrival();
        self.deliver(at, &pkt);
    }

    fn push_pcm(&mut self, pcm: &[i16]) {
        self.pending.extend_from_slice(pcm);
        let frame = (RATE / 1000 * self.ptime_ms) as usize;
        while self.pending.len() >= frame && self.audio_ms() < MAX_AUDIO_MS {
            let chunk: Vec<i16> = self.pending.drain(..frame).collect();
            let Some(payload) = self.encoder.as_mut().and_then(|e| e.encode(&chunk).ok()) else {
                return;
            };
            self.send_audio(payload);
        }
    }

    /// Sends one Opus packet, arriving when its audio has been captured (plus jitter).
    fn send_audio(&mut self, payload: Vec<u8>) {
        let samples = packet_samples_48k(&payload).unwrap_or(960);
        let seq = self.seq;
        self.seq += 1;
        self.sent_samples += u64::from(samples);
        let pkt = rtp(OPUS_PT, false, seq as u16, self.ts, &payload);
        self.history.push((seq, self.ts, payload.clone()));
        self.ts = self.ts.wrapping_add(samples);
        let in_order = self.note_seq(seq);
        self.received.push(Received { payload, in_order });
        let at = self.arrival();
        self.deliver(at, &pkt);
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
            + Duration::from_micros(self.sent_samples * 1000 / 48)
            + Duration::from_millis(self.jitter_ms)
    }

    /// Feeds one packet at `at` the way the gateway does: deadlines that pass before it first.
    fn deliver(&mut self, at: Instant, bytes: &[u8]) {
        let at = at.max(self.now);
        while let Some(t) = self.next_timeout.filter(|&t| t < at) {
            self.masker.handle_timeout(t);
            self.next_timeout = self.drain(true);
            if self.next_timeout == Some(t) {
                break;
            }
        }
        self.now = at;
        let _ = self.masker.handle_rtp(at, bytes);
        self.next_timeout = self.drain(false);
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
        for (f, _) in &self.forwarded {
            let Ok(p) = RtpPacket::parse(&f.bytes) else {
                panic!("the masker forwarded a packet that does not parse");
            };
            assert_eq!(p.payload_type, OPUS_PT, "a non-Opus packet was forwarded");
            if f.masked {
                let samples = packet_samples_48k(p.payload).unwrap_or(0);
                assert_eq!(
                    p.payload,
                    &silence_packet(samples)[..],
                    "masked, not silence"
                );
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
        let Ok(mut dec) = Decoder8k::new() else {
            return;
        };
        let mut agent = Vec::new();
        for (f, _) in &self.forwarded {
            if let Ok(p) = RtpPacket::parse(&f.bytes)
                && let Ok(pcm) = dec.decode(p.payload)
            {
                agent.extend_from_slice(pcm);
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
        let Ok(mut dec) = Decoder8k::new() else {
            return Vec::new();
        };
        // 8 kHz sample range of each in-order packet, as the masker decodes them.
        let mut input = Vec::new();
        let mut spans = Vec::with_capacity(self.received.len());
        for r in &self.received {
            let start = input.len() as u64;
            if r.in_order
                && let Ok(pcm) = dec.decode(&r.payload)
            {
                input.extend_from_slice(pcm);
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
                    "packet {i} carries {overlap} samples of digit {} unmasked",
                    digit.digit.as_char()
                );
            }
        }
        sent
    }
}

impl Driver {
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
