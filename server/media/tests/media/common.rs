//! Shared helpers: signal sequences, the browser-like send path (Opus + RTP), the agent-side
//! receive path, and multimon-ng.
#![allow(dead_code)]

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hushpay_media::Digit;
use hushpay_media::detector::{DetectedDigit, detect_all};
use hushpay_media::masker::{Forwarded, Masker, Output};
use hushpay_media::opus_codec::{Decoder, Encoder};
use hushpay_media::resample::resample;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::signal::{TonePair, append_silence};

pub const SSRC: u32 = 0x1234_5678;
pub const OPUS_PT: u8 = 111;

pub fn digit(c: char) -> Digit {
    Digit::from_char(c).unwrap()
}

pub fn digits(s: &str) -> Vec<char> {
    s.chars().collect()
}

/// Detected digits as a string.
pub fn found(d: &[DetectedDigit]) -> String {
    d.iter().map(|x| x.digit.as_char()).collect()
}

/// `pairs` each followed by `pause_ms` of silence, after `lead_ms` (fractional ms allowed).
pub fn sequence(pairs: &[TonePair], lead_ms: f32, pause_ms: f32, rate: u32) -> Vec<i16> {
    let mut pcm = Vec::new();
    append_silence(lead_ms, rate, &mut pcm);
    for p in pairs {
        p.append(rate, &mut pcm);
        append_silence(pause_ms, rate, &mut pcm);
    }
    pcm
}

/// Runs the strict detector.
pub fn detect(pcm: &[i16]) -> String {
    found(&detect_all(pcm))
}

/// Encodes `pcm` (at `rate`) into 20 ms fullband Opus RTP packets, starting at sequence `seq0`.
pub fn packetize(pcm: &[i16], rate: u32, bitrate: i32, seq0: u16, ts0: u32) -> Vec<Vec<u8>> {
    packetize_band(pcm, rate, bitrate, 48_000, seq0, ts0)
}

/// [`packetize`] with the encoder's audio band capped as an SDP `maxplaybackrate` asks.
pub fn packetize_band(
    pcm: &[i16],
    rate: u32,
    bitrate: i32,
    max_playback_rate: u32,
    seq0: u16,
    ts0: u32,
) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(rate, bitrate).unwrap();
    enc.set_max_playback_rate(max_playback_rate).unwrap();
    let frame = rate as usize / 50;
    let mut out = Vec::new();
    let mut padded = pcm.to_vec();
    padded.resize(pcm.len().div_ceil(frame) * frame, 0);
    for (i, f) in padded.chunks(frame).enumerate() {
        let payload = enc.encode(f).unwrap();
        let b = RtpBuilder {
            marker: i == 0,
            payload_type: OPUS_PT,
            sequence: seq0.wrapping_add(i as u16),
            timestamp: ts0.wrapping_add(960 * i as u32),
            ssrc: SSRC,
        };
        out.push(b.build(&payload));
    }
    out
}

/// Everything a masker produced.
#[derive(Debug, Default)]
pub struct Run {
    pub forwarded: Vec<Forwarded>,
    pub digits: Vec<hushpay_media::masker::DigitEvent>,
    pub outputs: Vec<Output>,
}

/// Feeds packets 20 ms apart (arrival = base + (i+1) * 20 ms), honouring timeouts, then flushes.
pub fn run_masker(masker: &mut Masker, packets: &[Vec<u8>], base: Instant) -> Run {
    let arrivals: Vec<Instant> = (0..packets.len())
        .map(|i| base + Duration::from_millis(20 * (i as u64 + 1)))
        .collect();
    run_masker_at(masker, packets, &arrivals)
}

pub fn run_masker_at(masker: &mut Masker, packets: &[Vec<u8>], arrivals: &[Instant]) -> Run {
    let mut run = Run::default();
    let mut next_timeout: Option<Instant> = None;
    for (p, &now) in packets.iter().zip(arrivals) {
        while let Some(t) = next_timeout.filter(|&t| t < now) {
            masker.handle_timeout(t);
            next_timeout = drain(masker, &mut run);
            if next_timeout == Some(t) {
                break;
            }
        }
        let _ = masker.handle_rtp(now, p);
        next_timeout = drain(masker, &mut run);
    }
    let end = arrivals.last().copied().unwrap_or_else(Instant::now) + Duration::from_secs(1);
    masker.flush(end);
    drain(masker, &mut run);
    run
}

fn drain(masker: &mut Masker, run: &mut Run) -> Option<Instant> {
    while let Some(o) = masker.poll_output() {
        match &o {
            Output::Timeout(t) => return Some(*t),
            Output::Forward(f) => run.forwarded.push(f.clone()),
            Output::Digit(d) => run.digits.push(*d),
            _ => {}
        }
        run.outputs.push(o);
    }
    None
}

/// Decodes forwarded packets in sequence order at `rate` (what the agent hears).
pub fn agent_audio(forwarded: &[Forwarded], rate: u32) -> Vec<i16> {
    let mut pkts: Vec<(u16, Vec<u8>)> = forwarded
        .iter()
        .map(|f| {
            let p = RtpPacket::parse(&f.bytes).unwrap();
            (p.sequence, p.payload.to_vec())
        })
        .collect();
    pkts.sort_by_key(|(s, _)| *s);
    let mut dec = Decoder::new(rate).unwrap();
    let mut pcm = Vec::new();
    for (_, p) in pkts {
        dec.decode_into(&p, &mut pcm).unwrap();
    }
    pcm
}

/// Runs `multimon-ng -a DTMF` over `pcm` at `rate`; returns the digits it reports.
pub fn multimon(pcm: &[i16], rate: u32) -> String {
    let audio = resample(pcm, rate, 22050);
    let mut child = match Command::new("multimon-ng")
        .args(["-q", "-a", "DTMF", "-t", "raw", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!(
            "multimon-ng is required for the leak tests ({e}); install it with scripts/setup.sh \
             (Debian package multimon-ng)"
        ),
    };
    let mut bytes = Vec::with_capacity(audio.len() * 2);
    for s in &audio {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    // 1 s of silence so that multimon flushes a trailing digit.
    bytes.extend(std::iter::repeat_n(0u8, 44100));
    child.stdin.take().unwrap().write_all(&bytes).unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("DTMF: "))
        .map(|d| d.trim())
        .collect()
}

/// Builds one RTP stream (Opus 48 kHz + telephone events) as a browser or gateway would send it,
/// with arrival times 20 ms apart per audio frame.
pub struct StreamBuilder {
    pub packets: Vec<Vec<u8>>,
    pub arrivals: Vec<Instant>,
    enc: Encoder,
    seq: u16,
    ts: u32,
    ts0: u32,
    now: Instant,
}

impl StreamBuilder {
    pub fn new(base: Instant, seq0: u16, ts0: u32) -> Self {
        Self {
            packets: Vec::new(),
            arrivals: Vec::new(),
            enc: Encoder::new(48_000, 32_000).unwrap(),
            seq: seq0,
            ts: ts0,
            ts0,
            now: base,
        }
    }

    fn push(&mut self, pt: u8, marker: bool, ts: u32, payload: &[u8]) {
        let b = RtpBuilder {
            marker,
            payload_type: pt,
            sequence: self.seq,
            timestamp: ts,
            ssrc: SSRC,
        };
        self.packets.push(b.build(payload));
        self.arrivals.push(self.now);
        self.seq = self.seq.wrapping_add(1);
    }

    /// Encodes and sends 48 kHz audio in 20 ms frames (padded with silence).
    pub fn audio(&mut self, pcm48: &[i16]) {
        let mut padded = pcm48.to_vec();
        padded.resize(pcm48.len().div_ceil(960) * 960, 0);
        for f in padded.chunks(960) {
            self.now += Duration::from_millis(20);
            let payload = self.enc.encode(f).unwrap();
            let ts = self.ts;
            self.push(OPUS_PT, false, ts, &payload);
            self.ts = self.ts.wrapping_add(960);
        }
    }

    /// A Chrome-like key press: `ms` long, one event packet per 20 ms (first marked), end sent
    /// three times; no audio meanwhile (the timestamp jumps over the key). With `inband`, audio
    /// frames carrying the tone are sent too (a gateway that sends both).
    pub fn key(&mut self, pt: u8, clock: u32, d: Digit, ms: u32, inband: Option<&[i16]>) {
        let start_ts = self.ts;
        let per = clock / 50;
        let steps = ms / 20;
        let mut tone_frames = inband
            .map(|p| p.chunks(960).collect::<Vec<_>>())
            .unwrap_or_default()
            .into_iter();
        for i in 0..steps {
            if let Some(f) = tone_frames.next() {
                self.now += Duration::from_millis(20);
                let mut frame = f.to_vec();
                frame.resize(960, 0);
                let payload = self.enc.encode(&frame).unwrap();
                let ts = self.ts;
                self.push(OPUS_PT, false, ts, &payload);
                self.ts = self.ts.wrapping_add(960);
            } else {
                self.now += Duration::from_millis(20);
                self.ts = self.ts.wrapping_add(960);
            }
            let ev = TelephoneEvent {
                code: d.event_code(),
                end: false,
                volume: 10,
                duration: ((i + 1) * per) as u16,
            };
            self.push(
                pt,
                i == 0,
                start_ts_in(clock, self.ts0, start_ts),
                &ev.build(),
            );
        }
        let ev = TelephoneEvent {
            code: d.event_code(),
            end: true,
            volume: 10,
            duration: (steps * per) as u16,
        };
        for _ in 0..3 {
            self.push(
                pt,
                false,
                start_ts_in(clock, self.ts0, start_ts),
                &ev.build(),
            );
        }
    }
}

/// The event timestamp in the event clock (same origin as the 48 kHz audio clock, wrapping).
fn start_ts_in(clock: u32, ts0: u32, ts48: u32) -> u32 {
    let elapsed = u64::from(ts48.wrapping_sub(ts0)) * u64::from(clock) / 48_000;
    ts0.wrapping_add(elapsed as u32)
}

use hushpay_media::rfc4733::TelephoneEvent;

/// Counts 10 ms windows the sensitive leak detector (the flagger with its secure-mode
/// thresholds) marks in 8 kHz `pcm`.
pub fn sensitive_hits(pcm8: &[i16]) -> usize {
    use hushpay_media::flagger::{Flagger, FlaggerConfig, HOP, WINDOW};
    // The secure-mode settings: more sensitive than the masking default.
    let f = Flagger::new(FlaggerConfig::secure());
    let x: Vec<f32> = pcm8.iter().map(|&s| f32::from(s)).collect();
    if x.len() < WINDOW {
        return 0;
    }
    (0..=x.len() - WINDOW)
        .step_by(HOP)
        .filter(|&i| f.window_flags(&x[i..i + WINDOW]))
        .count()
}
