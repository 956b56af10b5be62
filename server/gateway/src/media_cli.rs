//! `hushpay media ...`: check the DTMF detector and the masker on your own audio.
//!
//! * `hushpay media detect IN.wav` prints one JSON object a line per detected digit:
//!   `{"digit":"5","start_ms":120,"end_ms":220}`. 8, 16 and 48 kHz mono 16-bit WAV.
//! * `hushpay media flag IN.wav` prints one JSON object a line per stretch the sensitive leak
//!   detector flags (the masker's flagger with payment thresholds, window by window):
//!   `{"start_ms":120,"end_ms":225}`. Nothing printed: no tone energy. For checking what an
//!   agent heard during a payment.
//! * `hushpay media mask IN.wav OUT.wav [--ptime 20] [--bitrate 32000]
//!   [--max-playback-rate 16000]` runs a browser call's path: Opus-encodes IN in `ptime` frames
//!   (wideband, as browsers do for Hushpay's SDP; 48000 for fullband), runs the masker, decodes
//!   what the agent would hear into OUT (at IN's rate), and prints the digits it captured as JSON
//!   lines (with `source`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use hushpay_media::masker::DigitSource;
use hushpay_media::offline::{detect_pcm, flag_pcm, mask_pcm};
use hushpay_media::wav::Wav;

/// The `media` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum MediaCommand {
    /// Detect DTMF digits in a WAV file (8, 16 or 48 kHz, mono, 16-bit); one JSON line per digit.
    Detect {
        /// Input WAV.
        input: PathBuf,
    },
    /// Flag tone energy with the masker's sensitive (payment) thresholds in a WAV file (8, 16
    /// or 48 kHz, mono, 16-bit); one JSON line per flagged stretch, none when clean.
    Flag {
        /// Input WAV.
        input: PathBuf,
    },
    /// Encode with Opus, mask, decode what the agent hears; print the captured digits.
    Mask {
        /// Input WAV (8, 16 or 48 kHz, mono, 16-bit).
        input: PathBuf,
        /// Output WAV (the agent's audio, at the input's rate).
        output: PathBuf,
        /// Packet time in ms (10, 20, 40 or 60).
        #[arg(long, default_value_t = 20)]
        ptime: u32,
        /// Opus bitrate in bit/s.
        #[arg(long, default_value_t = 32_000)]
        bitrate: i32,
        /// The SDP `maxplaybackrate` the encoder honours: 16000 (wideband, what Hushpay asks
        /// browsers for) up to 48000 (fullband).
        #[arg(long, default_value_t = hushpay_rtc::sdp::MAX_PLAYBACK_RATE)]
        max_playback_rate: u32,
    },
}

/// Runs a `media` subcommand.
pub fn run(cmd: MediaCommand) -> anyhow::Result<()> {
    match cmd {
        MediaCommand::Detect { input } => {
            let wav = read_wav(&input)?;
            for d in detect_pcm(&wav.samples, wav.rate)? {
                println!("{}", json_line(d.digit, d.start_ms(), d.end_ms(), None));
            }
            Ok(())
        }
        MediaCommand::Flag { input } => {
            let wav = read_wav(&input)?;
            for s in flag_pcm(&wav.samples, wav.rate)? {
                println!(r#"{{"start_ms":{},"end_ms":{}}}"#, s.start_ms, s.end_ms);
            }
            Ok(())
        }
        MediaCommand::Mask {
            input,
            output,
            ptime,
            bitrate,
            max_playback_rate,
        } => {
            let wav = read_wav(&input)?;
            if ![8000, 16_000, 48_000].contains(&wav.rate) {
                anyhow::bail!("{}: {} Hz; use 8, 16 or 48 kHz", input.display(), wav.rate);
            }
            let result = mask_pcm(
                Instant::now(),
                &wav.samples,
                wav.rate,
                ptime,
                bitrate,
                max_playback_rate,
            )?;
            let out = Wav {
                rate: wav.rate,
                samples: result.audio,
            };
            std::fs::write(&output, out.to_bytes())
                .with_context(|| format!("cannot write {}", output.display()))?;
            for d in result.digits {
                let source = match d.source {
                    DigitSource::Rfc4733 => "rfc4733",
                    DigitSource::Signalled => "signalled",
                    _ => "in-band",
                };
                println!("{}", json_line(d.digit, d.start_ms, d.end_ms, Some(source)));
            }
            Ok(())
        }
    }
}

/// One JSON object with the keys in the documented order (`digit`, `start_ms`, `end_ms`, then
/// `source`). Values are a keypad character and integers, so no escaping is needed.
fn json_line(
    digit: hushpay_media::Digit,
    start_ms: u64,
    end_ms: u64,
    source: Option<&str>,
) -> String {
    let source = source
        .map(|s| format!(r#","source":"{s}""#))
        .unwrap_or_default();
    format!(r#"{{"digit":"{digit}","start_ms":{start_ms},"end_ms":{end_ms}{source}}}"#)
}

fn read_wav(path: &Path) -> anyhow::Result<Wav> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Wav::parse(&bytes).with_context(|| format!("{}", path.display()))
}
