//! Keypad tones under speech (issue 18): builds the corpus from the sources written by
//! `bench/dtmf-compare/make-speech-sources.sh` and scores Hushpay on it; spandsp and multimon-ng
//! are run on the same files by `scripts/bench-dtmf-speech.sh`, which scores all three with
//! `bench/dtmf-compare/speech_table.py`.
//!
//! Usage: `cargo bench -p hushpay-media --bench speech_corpus -- SRC_DIR OUT_DIR [--no-mask]
//! [--narrow] [--pure-speech]` (`--no-mask`: the detector only; `--narrow`: the first, easier
//! keying, `Keying::NARROW`, instead of `Keying::Q24`; `--pure-speech`: only the masker on the
//! pure speech and babble files, a summary with what flagged the masked packets and no files
//! written, in seconds: for tuning the masker's cost on speech)
//!
//! Writes into `OUT_DIR`:
//! * `*.raw` (8 kHz s16le) and `manifest.tsv`
//!   (`file<TAB>class<TAB>expected<TAB>snr<TAB>tone spans in samples "start-end,..."`):
//!   class `speech` = digits keyed over speech or babble at 10/15/20/25 dB SNR (pair power over
//!   active speech power; keys to the Q.24 accept limits, `Keying::Q24`), `talkoff` = pure
//!   speech, babble and music;
//! * `hushpay.tsv`: `hushpay media detect`'s strict detector on each file (the format of
//!   `bench/dtmf-compare/spandsp_rx.c`);
//! * `masked/*.raw` and `mask.tsv`: each file through the browser path (48 kHz, Opus 32 kbit/s
//!   wideband, 20 ms, as `hushpay media mask` runs it) and the masker, what the agent hears (8 kHz)
//!   and `file<TAB>captured digits<TAB>active frames<TAB>muted frames<TAB>muted frames without
//!   the masker (codec only)<TAB>masked packets<TAB>packets`, and `keys/*.raw` with `keys/keys.tsv`:
//!   the masked audio of each key +/- 100 ms and the key, for the leak check, with
//!   `keys-unkeyed/*.raw`: the same excerpts of the input with every key's tones cut out (a digit
//!   a peer finds there too is its talk-off on the speech, not a leak); where active frames are
//!   20 ms frames of the input within 40 dB of its loudest frame and above -50 dBm0, outside the
//!   digit windows (each tone extended by 40 ms both sides: the masker mutes the packet before
//!   and after a key by design), and muted ones are those the agent hears >= 10 dB quieter.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hushpay_media::offline::mask_pcm;
use hushpay_media::resample::resample;
use hushpay_media::wav::Wav;

mod corpus_io;
use corpus_io::write_raw;

#[path = "../tests/media/talk_off.rs"]
#[allow(dead_code, unused_imports)]
mod talk_off;

#[path = "../tests/media/keyed_speech.rs"]
mod keyed_speech;
use keyed_speech::{Case, Keying, add_background, keyed_over, muted_frames, scale, seed_of};

pub const SNRS: [f32; 4] = [10.0, 15.0, 20.0, 25.0];
/// Room babble under every keyed file, dB below the keys (the same at every speech SNR).
pub const BACKGROUND_SNR_DB: f32 = 19.0;

pub fn load_sources(dir: &Path) -> Vec<(String, Vec<i16>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run bench/dtmf-compare/make-speech-sources.sh)",
                dir.display()
            )
        })
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let w = Wav::parse(&std::fs::read(&p).unwrap()).unwrap();
            assert_eq!(w.rate, 8000, "{}", p.display());
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                w.samples,
            )
        })
        .collect()
}

fn corpus(src: &Path, keying: Keying, background: Option<f32>) -> Vec<Case> {
    let sources = load_sources(src);
    let mut v = Vec::new();
    for (name, pcm) in &sources {
        if name.starts_with("music") {
            continue;
        }
        // Background: a babble track other than this source, the same for every SNR.
        let babble: Vec<&(String, Vec<i16>)> = sources
            .iter()
            .filter(|(n, _)| n.starts_with("babble") && n != name)
            .collect();
        for snr in SNRS {
            for variant in 0..2 {
                let mut case = keyed_over(name, pcm, snr, variant, keying);
                if let (Some(bg), false) = (background, babble.is_empty()) {
                    let seed = seed_of(name, variant) as usize;
                    let (_, noise) = babble[seed % babble.len()];
                    add_background(&mut case, noise, seed / 7, bg);
                }
                v.push(case);
            }
        }
    }
    for (name, pcm) in &sources {
        for gain in [1.0f32, 2.8] {
            v.push(Case {
                name: format!("{name}-x{gain}"),
                class: "talkoff",
                snr: None,
                expected: String::new(),
                spans: Vec::new(),
                pcm: scale(pcm, gain),
                pair_power: 0.0,
            });
        }
    }
    for seed in 5..=8 {
        v.push(Case {
            name: format!("music-synthetic-{seed}"),
            class: "talkoff",
            snr: None,
            expected: String::new(),
            spans: Vec::new(),
            pcm: talk_off::synthetic_music(seed),
            pair_power: 0.0,
        });
    }
    v
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let src = PathBuf::from(args.first().expect("usage: speech_corpus SRC_DIR OUT_DIR"));
    let dir = PathBuf::from(args.get(1).expect("usage: speech_corpus SRC_DIR OUT_DIR"));
    let no_mask = std::env::args().any(|a| a == "--no-mask");
    std::fs::create_dir_all(dir.join("masked")).unwrap();
    let mut manifest = String::from("file\tclass\texpected\tsnr\tspans\n");
    let mut results = String::new();
    let mut masks = String::new();
    let mut keys = String::new();
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    std::fs::create_dir_all(dir.join("keys-unkeyed")).unwrap();
    let narrow = std::env::args().any(|a| a == "--narrow");
    let keying = if narrow { Keying::NARROW } else { Keying::Q24 };
    // The Q.24 keying has room babble behind the talker; the first corpus had none.
    let background = (!narrow).then_some(BACKGROUND_SNR_DB);
    let cases = corpus(&src, keying, background);
    if std::env::args().any(|a| a == "--pure-speech") {
        pure_speech_summary(&cases);
        return;
    }
    for c in &cases {
        let file = dir.join(format!("{}.raw", c.name));
        write_raw(&file, &c.pcm);
        let spans: Vec<String> = c.spans.iter().map(|(s, e)| format!("{s}-{e}")).collect();
        writeln!(
            manifest,
            "{}\t{}\t{}\t{}\t{}",
            file.display(),
            c.class,
            c.expected,
            c.snr.map_or(String::new(), |s| format!("{s}")),
            spans.join(",")
        )
        .unwrap();
        corpus_io::detect_row(&mut results, &file, &c.pcm);
        if no_mask {
            continue;
        }
        let pcm48 = resample(&c.pcm, 8000, 48_000);
        let r = mask_pcm(Instant::now(), &pcm48, 48_000, 20, 32_000, 16_000).unwrap();
        let (active, muted) = muted_frames(&pcm48, &r.audio, 48_000, &c.spans);
        // Control: the same codec path without the masker (frames the codec alone attenuates).
        let (_, codec_muted) = muted_frames(&pcm48, &codec_only(&pcm48), 48_000, &c.spans);
        let captured: String = r.digits.iter().map(|d| d.digit.as_char()).collect();
        writeln!(
            masks,
            "{}\t{captured}\t{active}\t{muted}\t{codec_muted}\t{}\t{}",
            file.display(),
            r.stats.masked,
            r.stats.forwarded
        )
        .unwrap();
        let agent = resample(&r.audio, 48_000, 8000);
        write_raw(&dir.join("masked").join(format!("{}.raw", c.name)), &agent);
        // One excerpt per key (100 ms either side) so that a digit found in the masked audio
        // is tied to the key at that place, not to talk-off elsewhere in the file; and the
        // same excerpt of the input with every key's tones cut out, so that a digit a peer
        // also finds there is known to be the peer's talk-off on the speech, not the key.
        let mut unkeyed = c.pcm.clone();
        let n = unkeyed.len();
        for &(s, e) in &c.spans {
            unkeyed[s.min(n)..e.min(n)].fill(0);
        }
        for (i, (&(s, e), d)) in c.spans.iter().zip(c.expected.chars()).enumerate() {
            let window = |pcm: &[i16]| {
                pcm[s.saturating_sub(800).min(pcm.len())..(e + 800).min(pcm.len())].to_vec()
            };
            let name = format!("{}-key{i:02}.raw", c.name);
            write_raw(&dir.join("keys").join(&name), &window(&agent));
            write_raw(&dir.join("keys-unkeyed").join(&name), &window(&unkeyed));
            writeln!(keys, "{}\t{d}", dir.join("keys").join(&name).display()).unwrap();
        }
    }
    std::fs::write(dir.join("manifest.tsv"), manifest).unwrap();
    std::fs::write(dir.join("hushpay.tsv"), results).unwrap();
    if !no_mask {
        std::fs::write(dir.join("mask.tsv"), masks).unwrap();
        std::fs::write(dir.join("keys").join("keys.tsv"), keys).unwrap();
    }
    println!("{} files written to {}", cases.len(), dir.display());
}

/// The masker on the pure speech and babble files only: speech muted beyond the codec alone,
/// and what flagged the masked packets (`MaskerStats`), per file and in total.
fn pure_speech_summary(cases: &[Case]) {
    let (mut active, mut muted, mut codec) = (0, 0, 0);
    let mut total = hushpay_media::masker::MaskerStats::default();
    println!("file\tactive\tmuted\tcodec\tmasked\tflagged\thit-only\tagent-view");
    for c in cases
        .iter()
        .filter(|c| c.class == "talkoff" && !c.name.starts_with("music"))
    {
        let pcm48 = resample(&c.pcm, 8000, 48_000);
        let r = mask_pcm(Instant::now(), &pcm48, 48_000, 20, 32_000, 16_000).unwrap();
        let (a, m) = muted_frames(&pcm48, &r.audio, 48_000, &c.spans);
        let (_, cm) = muted_frames(&pcm48, &codec_only(&pcm48), 48_000, &c.spans);
        let st = r.stats;
        println!(
            "{}\t{a}\t{m}\t{cm}\t{}\t{}\t{}\t{}",
            c.name, st.masked, st.flagged, st.flagged_hit_only, st.flagged_agent_view
        );
        (active, muted, codec) = (active + a, muted + m, codec + cm);
        total.masked += st.masked;
        total.forwarded += st.forwarded;
        total.flagged += st.flagged;
        total.flagged_hit_only += st.flagged_hit_only;
        total.flagged_agent_view += st.flagged_agent_view;
    }
    let pct = |n: usize| 100.0 * n as f64 / active.max(1) as f64;
    println!(
        "pure speech: {active} active frames, muted {muted} ({:.2} %), codec alone {codec} ({:.2} %); \
         packets masked {} of {}, flagged {} (hit only {}, agent view {})",
        pct(muted),
        pct(codec),
        total.masked,
        total.forwarded,
        total.flagged,
        total.flagged_hit_only,
        total.flagged_agent_view
    );
}

/// `pcm48` through the same Opus encoder settings as [`mask_pcm`] and a decoder, no masker.
fn codec_only(pcm48: &[i16]) -> Vec<i16> {
    use hushpay_media::opus_codec::{Decoder, Encoder};
    let mut enc = Encoder::new(48_000, 32_000).unwrap();
    enc.set_max_playback_rate(16_000).unwrap();
    let mut dec = Decoder::new(48_000).unwrap();
    let mut out = Vec::with_capacity(pcm48.len() + 960);
    let mut padded = pcm48.to_vec();
    padded.resize(pcm48.len().div_ceil(960) * 960, 0);
    for f in padded.chunks(960) {
        dec.decode_into(&enc.encode(f).unwrap(), &mut out).unwrap();
    }
    out.truncate(pcm48.len());
    out
}
