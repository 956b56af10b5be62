//! Whole-buffer helpers behind `hushpay media detect`, `hushpay media flag` and `hushpay media
//! mask`: the same code paths as a live call, driven with time stepped by hand (the caller
//! supplies the base instant).

use std::time::{Duration, Instant};

use crate::MediaError;
use crate::detector::{DetectedDigit, detect_all};
use crate::flagger::{Flagger, FlaggerConfig, HOP, WINDOW, to_f32};
use crate::masker::{DigitSource, Masker, MaskerConfig, MaskerStats, Output};
use crate::opus_codec::{Decoder, Encoder, OPUS_RTP_CLOCK};
use crate::resample::resample;
use crate::rtp::{RtpBuilder, RtpPacket};

/// Runs the strict detector over PCM at 8, 16 or 48 kHz (resampled to 8 kHz).
pub fn detect_pcm(pcm: &[i16], rate: u32) -> Result<Vec<DetectedDigit>, MediaError> {
    let pcm8 = match rate {
        8000 => pcm.to_vec(),
        16_000 | 48_000 => resample(pcm, rate, 8000),
        other => return Err(MediaError::SampleRate(other)),
    };
    Ok(detect_all(&pcm8))
}

/// A stretch of audio the sensitive leak detector flags, ms from the start of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlaggedSpan {
    /// Start of the first flagged 10 ms window.
    pub start_ms: u64,
    /// End of the last flagged window of the stretch.
    pub end_ms: u64,
}

/// Runs the masker's flagger with the secure-mode (payment) thresholds, one window at a time
/// and without the vowel check, over PCM at 8, 16 or 48 kHz (resampled to 8 kHz): the
/// sensitive leak detector tests run on what an agent heard. Overlapping and adjacent flagged
/// windows (hop 5 ms) merge into one span.
pub fn flag_pcm(pcm: &[i16], rate: u32) -> Result<Vec<FlaggedSpan>, MediaError> {
    let pcm8 = match rate {
        8000 => pcm.to_vec(),
        16_000 | 48_000 => resample(pcm, rate, 8000),
        other => return Err(MediaError::SampleRate(other)),
    };
    let flagger = Flagger::new(FlaggerConfig::secure());
    let x = to_f32(&pcm8);
    let ms = |samples: usize| (samples / 8) as u64;
    let mut spans: Vec<FlaggedSpan> = Vec::new();
    for at in (0..=x.len().saturating_sub(WINDOW)).step_by(HOP) {
        let w = &x[at..(at + WINDOW).min(x.len())];
        if w.len() < WINDOW || !flagger.window_flags(w) {
            continue;
        }
        let (start_ms, end_ms) = (ms(at), ms(at + WINDOW));
        match spans.last_mut() {
            Some(last) if last.end_ms >= start_ms => last.end_ms = end_ms,
            _ => spans.push(FlaggedSpan { start_ms, end_ms }),
        }
    }
    Ok(spans)
}

/// A digit the masker captured, with times relative to the start of the audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CapturedDigit {
    /// The key.
    pub digit: crate::Digit,
    /// In-band or RFC 4733.
    pub source: DigitSource,
    /// Start, ms from the beginning of the input.
    pub start_ms: u64,
    /// End, ms from the beginning of the input.
    pub end_ms: u64,
}

/// What [`mask_pcm`] produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskResult {
    /// What the agent hears, at the input rate, as long as the input.
    pub audio: Vec<i16>,
    /// Digits the masker captured.
    pub digits: Vec<CapturedDigit>,
    /// Masker counters.
    pub stats: MaskerStats,
}

/// The browser path: Opus-encodes `pcm` (8, 12, 16, 24 or 48 kHz) in `ptime_ms` frames at
/// `bitrate` with the audio band capped by `max_playback_rate` (the SDP `maxplaybackrate` the
/// receiver asked for: 16000 for wideband, 48000 for fullband), sends the RTP packets through a
/// [`Masker`] (arrival = `base` + frame end), decodes what is forwarded at the input rate.
pub fn mask_pcm(
    base: Instant,
    pcm: &[i16],
    rate: u32,
    ptime_ms: u32,
    bitrate: i32,
    max_playback_rate: u32,
) -> Result<MaskResult, MediaError> {
    if ![8000, 12_000, 16_000, 24_000, 48_000].contains(&rate) {
        return Err(MediaError::SampleRate(rate));
    }
    if ![10, 20, 40, 60].contains(&ptime_ms) {
        return Err(MediaError::Config("ptime must be 10, 20, 40 or 60 ms"));
    }
    let frame = (rate * ptime_ms / 1000) as usize;
    let mut enc = Encoder::new(rate, bitrate)?;
    enc.set_max_playback_rate(max_playback_rate)?;
    let mut dec = Decoder::new(rate)?;
    let config = MaskerConfig {
        hold: Duration::from_millis(u64::from(ptime_ms)),
        ..MaskerConfig::default()
    };
    let opus_pt = config.opus_pt;
    let mut masker = Masker::new(config)?;
    let mut audio = Vec::with_capacity(pcm.len() + frame);
    let mut digits = Vec::new();
    let mut padded = pcm.to_vec();
    padded.resize(pcm.len().div_ceil(frame).max(1) * frame, 0);
    let mut timeout: Option<Instant> = None;
    let mut drain = |m: &mut Masker,
                     audio: &mut Vec<i16>,
                     digits: &mut Vec<CapturedDigit>|
     -> Result<Option<Instant>, MediaError> {
        while let Some(o) = m.poll_output() {
            match o {
                Output::Timeout(t) => return Ok(Some(t)),
                Output::Forward(f) => {
                    let p = RtpPacket::parse(&f.bytes)?;
                    dec.decode_into(p.payload, audio)?;
                }
                Output::Digit(d) => digits.push(CapturedDigit {
                    digit: d.digit,
                    source: d.source,
                    start_ms: d.start.saturating_duration_since(base).as_millis() as u64,
                    end_ms: d.end.saturating_duration_since(base).as_millis() as u64,
                }),
                _ => {}
            }
        }
        Ok(None)
    };
    for (i, f) in padded.chunks(frame).enumerate() {
        let payload = enc.encode(f)?;
        let rtp = RtpBuilder {
            marker: i == 0,
            payload_type: opus_pt,
            sequence: i as u16,
            timestamp: (i as u64 * u64::from(OPUS_RTP_CLOCK * ptime_ms / 1000)) as u32,
            ssrc: 0x4855_5348,
        }
        .build(&payload);
        let now = base + Duration::from_millis(u64::from(ptime_ms) * (i as u64 + 1));
        while let Some(t) = timeout.filter(|&t| t < now) {
            masker.handle_timeout(t);
            timeout = drain(&mut masker, &mut audio, &mut digits)?;
            if timeout == Some(t) {
                break;
            }
        }
        masker.handle_rtp(now, &rtp)?;
        timeout = drain(&mut masker, &mut audio, &mut digits)?;
    }
    let end = base + Duration::from_millis(u64::from(ptime_ms) * (padded.len() / frame + 1) as u64);
    masker.flush(end);
    drain(&mut masker, &mut audio, &mut digits)?;
    audio.resize(pcm.len(), 0);
    Ok(MaskResult {
        audio,
        digits,
        stats: masker.stats(),
    })
}
