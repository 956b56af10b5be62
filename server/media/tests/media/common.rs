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

/// Encodes `pcm` (at `rate`) into 20 ms Opus RTP packets, starting at sequence `seq0`.
pub fn packetize(pcm: &[i16], rate: u32, bitrate: i32, seq0: u16, ts0: u32) -> Vec<Vec<u8>> {
    let mut enc = Encoder::new(rate, bitrate).unwrap();
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
        while let Some(t) = next_timeout.filter(|&t| t <= now) {
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
