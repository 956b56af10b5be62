//! IVR prompts: the names the IVR speaks with, and a [`PromptSet`] holding each prompt encoded
//! once (at start-up) as 20 ms Opus packets.
//!
//! What it promises: a set is complete or refused. [`PromptSet::encode`] takes WAV bytes per
//! name (the caller reads the files: this crate does no I/O), refuses an unknown name, a
//! missing one, an unreadable or over-long WAV with a typed [`PromptError`], and encodes mono
//! 16-bit PCM at any rate (resampled to 16 kHz unless it is an Opus rate) with libopus, VoIP
//! application, no FEC, no DTX, so every packet is a full 20 ms frame.

use std::collections::BTreeMap;
use std::sync::Arc;

use hushpay_media::opus_codec::Encoder;
use hushpay_media::resample::resample;
use hushpay_media::wav::Wav;

use crate::language::Language;

/// Calls `$callback!` with every prompt name, in order, as string literals: the one list of
/// names. [`PROMPT_NAMES`] is built with it, and so is the gateway's built-in prompt set
/// (`include_bytes!` needs literals, so that list cannot be made from the constant).
#[macro_export]
macro_rules! with_prompt_names {
    ($callback:ident) => {
        $callback!(
            "ask-card-number",
            "ask-expiration-date",
            "ask-security-code",
            "ask-postal-code",
            "invalid-card-number",
            "brand-not-allowed",
            "invalid-expiration-date",
            "card-expired",
            "invalid-security-code",
            "invalid-postal-code",
            "no-input",
            "try-again",
            "restart-field",
            "confirm-paying",
            "confirm-card-ending",
            "confirm-press",
            "processing",
            "payment-succeeded",
            "payment-declined",
            "payment-failed",
            "too-many-attempts",
            "handing-back",
            "hold",
            "n0",
            "n1",
            "n2",
            "n3",
            "n4",
            "n5",
            "n6",
            "n7",
            "n8",
            "n9",
            "n10",
            "n11",
            "n12",
            "n13",
            "n14",
            "n15",
            "n16",
            "n17",
            "n18",
            "n19",
            "n20",
            "n30",
            "n40",
            "n50",
            "n60",
            "n70",
            "n80",
            "n90",
            "hundred",
            "thousand",
            "million",
            "and",
            "point",
            "dollars",
            "dollar",
            "cents",
            "cent",
            "pounds",
            "pound",
            "pence",
            "penny",
            "euros",
            "euro"
        )
    };
}

/// Calls `$callback!` with every Spanish prompt name, in order: the flow prompts of
/// [`with_prompt_names`] (same names, same order), then the words Spanish amounts are spoken
/// with ([`crate::speech_es`]): `n0`..`n29` (Spanish has one word for each up to
/// *veintinueve*), the tens `n30`..`n90`, the hundreds `n200`..`n900` (*doscientos*...),
/// *cien*/*ciento*, *mil*, *millón*/*millones*, the shortened *un*/*veintiún* said before a
/// noun, *y*, *con*, *de*, *coma* and the currency words. Names are ASCII file names.
#[macro_export]
macro_rules! with_spanish_prompt_names {
    ($callback:ident) => {
        $callback!(
            "ask-card-number",
            "ask-expiration-date",
            "ask-security-code",
            "ask-postal-code",
            "invalid-card-number",
            "brand-not-allowed",
            "invalid-expiration-date",
            "card-expired",
            "invalid-security-code",
            "invalid-postal-code",
            "no-input",
            "try-again",
            "restart-field",
            "confirm-paying",
            "confirm-card-ending",
            "confirm-press",
            "processing",
            "payment-succeeded",
            "payment-declined",
            "payment-failed",
            "too-many-attempts",
            "handing-back",
            "hold",
            "n0",
            "n1",
            "n2",
            "n3",
            "n4",
            "n5",
            "n6",
            "n7",
            "n8",
            "n9",
            "n10",
            "n11",
            "n12",
            "n13",
            "n14",
            "n15",
            "n16",
            "n17",
            "n18",
            "n19",
            "n20",
            "n21",
            "n22",
            "n23",
            "n24",
            "n25",
            "n26",
            "n27",
            "n28",
            "n29",
            "n30",
            "n40",
            "n50",
            "n60",
            "n70",
            "n80",
            "n90",
            "n200",
            "n300",
            "n400",
            "n500",
            "n600",
            "n700",
            "n800",
            "n900",
            "cien",
            "ciento",
            "mil",
            "millon",
            "millones",
            "un",
            "veintiun",
            "y",
            "con",
            "de",
            "coma",
            "dolar",
            "dolares",
            "centavo",
            "centavos",
            "euro",
            "euros",
            "centimo",
            "centimos"
        )
    };
}

macro_rules! name_list {
    ($($name:literal),* $(,)?) => {
        &[$($name),*]
    };
}

/// Every prompt a set must have, by file name (without `.wav`). `n0`..`n19` and the tens
/// `n20`..`n90` are the number words amounts and digits are spoken with.
pub const PROMPT_NAMES: &[&str] = with_prompt_names!(name_list);

/// Every prompt a Spanish set must have ([`with_spanish_prompt_names`]).
pub const SPANISH_PROMPT_NAMES: &[&str] = with_spanish_prompt_names!(name_list);

/// The prompts the IVR script itself speaks (asks, refusals, results), named alike in every
/// language; the rest of a set is the words its amounts and digits are spoken with.
pub const FLOW_PROMPT_NAMES: &[&str] = PROMPT_NAMES.split_at(23).0;

/// The longest prompt accepted.
pub const MAX_PROMPT_SECS: u32 = 30;
/// Samples per 20 ms frame at 48 kHz (the RTP clock of Opus).
pub const FRAME_48K: u32 = 960;
/// Bit rate of encoded prompts.
const BITRATE: i32 = 24_000;

/// Why a prompt set was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PromptError {
    #[error("unknown prompt name `{0}`")]
    UnknownName(String),
    #[error("prompt `{0}` is missing")]
    Missing(&'static str),
    #[error("prompt `{name}`: {reason}")]
    Unreadable { name: String, reason: String },
    #[error("prompt `{0}` is empty")]
    Empty(String),
    #[error("prompt `{name}` lasts longer than {MAX_PROMPT_SECS} s")]
    TooLong { name: String },
}

/// One prompt: 20 ms Opus packets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clip {
    packets: Vec<Vec<u8>>,
}

impl Clip {
    /// Encodes 16-bit mono PCM at `rate` Hz (zero-padded to a whole frame).
    pub fn from_pcm(pcm: &[i16], rate: u32) -> Result<Clip, hushpay_media::MediaError> {
        let (pcm, rate) = match rate {
            8000 | 12_000 | 16_000 | 24_000 | 48_000 => (pcm.to_vec(), rate),
            _ => (resample(pcm, rate, 16_000), 16_000),
        };
        let mut enc = Encoder::new(rate, BITRATE)?;
        let frame = (rate / 50) as usize;
        let mut packets = Vec::with_capacity(pcm.len() / frame + 1);
        for chunk in pcm.chunks(frame) {
            let mut f = chunk.to_vec();
            f.resize(frame, 0);
            packets.push(enc.encode(&f)?);
        }
        Ok(Clip { packets })
    }

    /// The packets, each 20 ms.
    pub fn packets(&self) -> &[Vec<u8>] {
        &self.packets
    }

    /// Length in 20 ms frames.
    pub fn frames(&self) -> usize {
        self.packets.len()
    }
}

/// Every prompt of one language's names ([`Language::prompt_names`]), encoded.
#[derive(Debug, Clone)]
pub struct PromptSet {
    language: Language,
    clips: BTreeMap<&'static str, Arc<Clip>>,
}

impl PromptSet {
    /// Encodes a complete English set ([`PROMPT_NAMES`]); see [`PromptSet::encode_for`].
    pub fn encode<'a>(
        sources: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<PromptSet, PromptError> {
        PromptSet::encode_for(Language::English, sources)
    }

    /// Encodes a complete set of `language` from `(name, WAV bytes)` pairs: every name of
    /// [`Language::prompt_names`] exactly once (a later pair for the same name replaces the
    /// earlier one, so defaults can be followed by an operator's replacements).
    pub fn encode_for<'a>(
        language: Language,
        sources: impl IntoIterator<Item = (&'a str, &'a [u8])>,
    ) -> Result<PromptSet, PromptError> {
        let names = language.prompt_names();
        let mut clips = BTreeMap::new();
        for (name, bytes) in sources {
            let known = names
                .iter()
                .find(|n| **n == name)
                .ok_or_else(|| PromptError::UnknownName(name.chars().take(64).collect()))?;
            clips.insert(*known, Arc::new(encode_wav(known, bytes)?));
        }
        if let Some(missing) = names.iter().find(|n| !clips.contains_key(*n)) {
            return Err(PromptError::Missing(missing));
        }
        Ok(PromptSet { language, clips })
    }

    /// The language the set speaks.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The prompt called `name`, if it is one of the set's names.
    pub fn clip(&self, name: &str) -> Option<&Arc<Clip>> {
        self.clips.get(name)
    }
}

fn encode_wav(name: &str, bytes: &[u8]) -> Result<Clip, PromptError> {
    let unreadable = |e: hushpay_media::MediaError| PromptError::Unreadable {
        name: name.to_owned(),
        reason: e.to_string(),
    };
    let wav = Wav::parse(bytes).map_err(unreadable)?;
    if wav.rate < 8000 || wav.rate > 48_000 {
        return Err(unreadable(hushpay_media::MediaError::SampleRate(wav.rate)));
    }
    if wav.samples.is_empty() {
        return Err(PromptError::Empty(name.to_owned()));
    }
    if wav.samples.len() as u64 > u64::from(wav.rate) * u64::from(MAX_PROMPT_SECS) {
        return Err(PromptError::TooLong {
            name: name.to_owned(),
        });
    }
    Clip::from_pcm(&wav.samples, wav.rate).map_err(unreadable)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hushpay_media::opus_codec::packet_samples_48k;
    use hushpay_media::signal::append_tone;

    fn sine(rate: u32, ms: u32) -> Vec<i16> {
        let mut v = Vec::new();
        append_tone(440.0, -10.0, ms as f32, rate, &mut v);
        v
    }

    fn tone_wav(rate: u32, ms: u32) -> Vec<u8> {
        Wav {
            rate,
            samples: sine(rate, ms),
        }
        .to_bytes()
    }

    fn full_set(wav: &[u8]) -> Vec<(&'static str, &[u8])> {
        PROMPT_NAMES.iter().map(|n| (*n, wav)).collect()
    }

    #[test]
    fn encodes_whole_20ms_frames_at_any_rate() {
        for rate in [8000, 11_025, 16_000, 22_050, 44_100, 48_000] {
            let clip = Clip::from_pcm(&sine(rate, 100), rate);
            let clip = clip.unwrap();
            assert_eq!(clip.frames(), 5, "{rate}");
            assert!(
                clip.packets()
                    .iter()
                    .all(|p| packet_samples_48k(p) == Some(FRAME_48K))
            );
        }
    }

    #[test]
    fn a_set_is_complete_or_refused() {
        let wav = tone_wav(8000, 100);
        let set = PromptSet::encode(full_set(&wav)).unwrap();
        assert_eq!(set.clip("n7").unwrap().frames(), 5);
        assert!(set.clip("nope").is_none());

        let mut short = full_set(&wav);
        short.retain(|(n, _)| *n != "hold");
        assert_eq!(
            PromptSet::encode(short).unwrap_err(),
            PromptError::Missing("hold")
        );
        let mut unknown = full_set(&wav);
        unknown.push(("../etc/passwd", &wav));
        assert!(matches!(
            PromptSet::encode(unknown),
            Err(PromptError::UnknownName(_))
        ));
    }

    #[test]
    fn each_language_has_its_own_names_and_shares_the_flow_prompts() {
        assert_eq!(FLOW_PROMPT_NAMES.last(), Some(&"hold"));
        assert_eq!(SPANISH_PROMPT_NAMES.split_at(23).0, FLOW_PROMPT_NAMES);
        let wav = tone_wav(8000, 100);
        let spanish: Vec<_> = SPANISH_PROMPT_NAMES
            .iter()
            .map(|n| (*n, &wav[..]))
            .collect();
        let set = PromptSet::encode_for(Language::Spanish, spanish.clone()).unwrap();
        assert_eq!(set.language(), Language::Spanish);
        assert!(set.clip("veintiun").is_some() && set.clip("dollars").is_none());
        // An English name is no Spanish prompt, and a Spanish set lacks the English words.
        let mut mixed = spanish;
        mixed.push(("dollars", &wav));
        assert!(matches!(
            PromptSet::encode_for(Language::Spanish, mixed),
            Err(PromptError::UnknownName(_))
        ));
        assert_eq!(
            PromptSet::encode_for(Language::English, full_set(&wav)[..23].to_vec()).unwrap_err(),
            PromptError::Missing("n0")
        );
    }

    #[test]
    fn later_sources_replace_earlier_ones() {
        let short = tone_wav(16_000, 100);
        let long = tone_wav(16_000, 400);
        let mut sources = full_set(&short);
        sources.push(("hold", &long));
        let set = PromptSet::encode(sources).unwrap();
        assert_eq!(set.clip("hold").unwrap().frames(), 20);
        assert_eq!(set.clip("n1").unwrap().frames(), 5);
    }

    #[test]
    fn refuses_bad_wavs_without_panicking() {
        let good = tone_wav(8000, 100);
        let too_long = tone_wav(8000, (MAX_PROMPT_SECS + 1) * 1000);
        let empty = Wav {
            rate: 8000,
            samples: vec![],
        }
        .to_bytes();
        let odd_rate = Wav {
            rate: 1000,
            samples: vec![1; 100],
        }
        .to_bytes();
        for (bad, want) in [
            (&b"not a wav"[..], "unreadable"),
            (&too_long[..], "longer"),
            (&empty[..], "empty"),
            (&odd_rate[..], "unsupported sample rate"),
        ] {
            let mut sources = full_set(&good);
            sources.push(("n3", bad));
            let err = PromptSet::encode(sources).unwrap_err().to_string();
            assert!(err.contains("n3"), "{err}");
            assert!(err.contains(want) || want == "unreadable", "{err}");
        }
    }
}
