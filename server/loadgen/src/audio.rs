//! The bots' audio, encoded once and shared: the agent's is a speech-like signal (voiced
//! harmonics with a syllable envelope, plus noise); the patient's is the same voice with an
//! in-band DTMF digit (100 ms at -10 dBm0, the digits of `4111` in turn) every `dtmf_every`,
//! which the gateway's masker detects and masks. 20 ms Opus frames at 32 kb/s, capped at the
//! `maxplaybackrate` the gateway's SDP asks for, as browsers encode.

use std::sync::Arc;

use hushpay_media::opus_codec::Encoder;
use hushpay_media::signal::{Rng, TonePair, add_noise};
use hushpay_media::{Digit, MediaError};

/// Samples per second of the PCM and of the Opus RTP clock.
pub const RATE: usize = 48_000;
/// Samples per 20 ms frame.
pub const FRAME: usize = RATE / 50;
/// The shortest loop [`looped`] makes.
const MIN_LOOP_SECONDS: u64 = 10;

/// Encoder failures.
#[derive(Debug, thiserror::Error)]
#[error("opus: {0}")]
pub struct AudioError(#[from] MediaError);

/// Encoded 20 ms frames, shared by every bot of a role.
pub type Frames = Arc<[Arc<[u8]>]>;

/// The patient's and the agent's frames.
#[derive(Debug, Clone)]
pub struct Audio {
    pub patient: Frames,
    pub agent: Frames,
}

/// Encoded 20 ms frames, one owned buffer each.
pub type OwnedFrames = Vec<Vec<u8>>;

/// `seconds` of call audio (the layout `hushpay loadgen` always used): digits at
/// `dtmf_every`, `2 * dtmf_every`, ... seconds (none when zero), encoded; (patient, agent).
pub fn call(seconds: u64, dtmf_every: u64) -> Result<(OwnedFrames, OwnedFrames), AudioError> {
    let n = usize::try_from(seconds).unwrap_or(usize::MAX / RATE) * RATE;
    let digits_at: Vec<usize> = if dtmf_every == 0 {
        Vec::new()
    } else {
        let every = usize::try_from(dtmf_every).unwrap_or(usize::MAX / RATE) * RATE;
        (1..)
            .map(|k| k * every)
            .take_while(|at| at + RATE / 5 < n)
            .collect()
    };
    let (patient, agent) = pcm(n, &digits_at);
    Ok((encode(&patient)?, encode(&agent)?))
}

/// A loop of whole DTMF periods, at least 10 s long, with a digit in the middle of each
/// period, so a bot that plays it round and round keys one digit every `dtmf_every` (only
/// voice when zero).
pub fn looped(dtmf_every: std::time::Duration) -> Result<Audio, AudioError> {
    let every_ms = u64::try_from(dtmf_every.as_millis()).unwrap_or(u64::MAX);
    let (n, digits_at) = if every_ms < 400 {
        (MIN_LOOP_SECONDS as usize * RATE, Vec::new())
    } else {
        let periods = (MIN_LOOP_SECONDS * 1000).div_ceil(every_ms).max(1);
        let every = usize::try_from(every_ms).unwrap_or(usize::MAX) * (RATE / 1000);
        let count = usize::try_from(periods).unwrap_or(1);
        // whole frames, so the loop's frames are all 20 ms
        let n = (every * count).div_ceil(FRAME) * FRAME;
        (n, (0..count).map(|k| k * every + every / 2).collect())
    };
    let (patient, agent) = pcm(n, &digits_at);
    let share = |frames: Vec<Vec<u8>>| -> Frames { frames.into_iter().map(Arc::from).collect() };
    Ok(Audio {
        patient: share(encode(&patient)?),
        agent: share(encode(&agent)?),
    })
}

/// `n` samples of voice, and the same with a digit at each of `digits_at`.
fn pcm(n: usize, digits_at: &[usize]) -> (Vec<i16>, Vec<i16>) {
    let mut rng = Rng::new(7);
    let mut voice: Vec<i16> = (0..n)
        .map(|i| {
            let t = i as f32 / RATE as f32;
            let f0 = 120.0 + 20.0 * (t * 1.3).sin();
            let env = (0.5 + 0.5 * (t * 2.0 * std::f32::consts::PI * 4.0).sin()).powi(2);
            let s: f32 = (1..=12)
                .map(|k| (2.0 * std::f32::consts::PI * f0 * k as f32 * t).sin() / k as f32)
                .sum();
            (s * env * 4000.0) as i16
        })
        .collect();
    add_noise(&mut voice, -50.0, &mut rng);
    let mut patient = voice.clone();
    let digits: Vec<Digit> = "4111".chars().filter_map(Digit::from_char).collect();
    for (k, &at) in digits_at.iter().enumerate() {
        let mut tone = Vec::new();
        TonePair::new(digits[k % digits.len()], -10.0, 100.0).append(RATE as u32, &mut tone);
        let end = (at + tone.len()).min(n);
        if at < end {
            patient[at..end].copy_from_slice(&tone[..end - at]);
        }
    }
    (patient, voice)
}

/// 48 kHz mono PCM as 20 ms Opus frames, the last one padded with silence.
pub fn encode(pcm: &[i16]) -> Result<Vec<Vec<u8>>, AudioError> {
    let mut enc = Encoder::new(RATE as u32, 32_000)?;
    enc.set_max_playback_rate(hushpay_rtc::sdp::MAX_PLAYBACK_RATE)?;
    let mut frame = vec![0i16; FRAME];
    pcm.chunks(FRAME)
        .map(|c| {
            frame.fill(0);
            frame[..c.len()].copy_from_slice(c);
            Ok(enc.encode(&frame)?)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hushpay_media::detector::detect_all;
    use hushpay_media::opus_codec::Decoder8k;
    use std::time::Duration;

    /// Digits the strict DTMF detector hears in `frames` (decoded to 8 kHz).
    fn digits(frames: &[Arc<[u8]>]) -> usize {
        let mut dec = Decoder8k::new().unwrap();
        let mut pcm = Vec::new();
        for f in frames {
            pcm.extend_from_slice(dec.decode(f).unwrap());
        }
        detect_all(&pcm).len()
    }

    #[test]
    fn the_loop_keys_one_digit_per_period_and_the_agent_none() {
        let a = looped(Duration::from_secs(4)).unwrap();
        // 12 s: three periods of 4 s
        assert_eq!(a.patient.len(), 600);
        assert_eq!(a.agent.len(), 600);
        assert_eq!(digits(&a.patient), 3);
        assert_eq!(digits(&a.agent), 0);
        let quiet = looped(Duration::ZERO).unwrap();
        assert_eq!(quiet.patient.len(), 500);
        assert_eq!(digits(&quiet.patient), 0);
    }

    #[test]
    fn call_audio_keeps_its_layout() {
        let (patient, agent) = call(9, 4).unwrap();
        assert_eq!(patient.len(), 450);
        assert_eq!(agent.len(), 450);
        let shared: Vec<Arc<[u8]>> = patient.into_iter().map(Arc::from).collect();
        assert_eq!(digits(&shared), 2, "digits at 4 s and 8 s");
    }
}
