#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The prompt player splices the committed English prompts into a forwarded agent stream: the
//! receiver decodes one continuous stream (sequence numbers +1 per packet, timestamps in step
//! with the send times, no holes) and hears the prompts exactly where they were played.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay_media::opus_codec::{Decoder, Encoder};
use hushpay_media::signal::append_tone;
use hushpay_media::wav::Wav;
use hushpay_prompts::player::{FRAME, OutPacket, Output, Player};
use hushpay_prompts::prompt::{Clip, PROMPT_NAMES, PromptSet};
use hushpay_prompts::speech;

fn prompts_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../prompts/en")
}

fn committed_wavs() -> Vec<(&'static str, Vec<u8>)> {
    PROMPT_NAMES
        .iter()
        .map(|n| {
            let path = prompts_dir().join(format!("{n}.wav"));
            (*n, std::fs::read(&path).unwrap())
        })
        .collect()
}

fn committed_set() -> PromptSet {
    let wavs = committed_wavs();
    PromptSet::encode(wavs.iter().map(|(n, b)| (*n, b.as_slice()))).unwrap()
}

#[test]
fn the_committed_prompt_set_is_complete_small_and_narrowband() {
    let wavs = committed_wavs();
    let total: usize = wavs.iter().map(|(_, b)| b.len()).sum();
    assert!(total < 1_000_000, "{total} bytes");
    for (name, bytes) in &wavs {
        let w = Wav::parse(bytes).unwrap();
        assert_eq!(w.rate, 8000, "{name}");
        assert!(w.samples.len() > 800, "{name} is shorter than 100 ms");
    }
    let on_disk = std::fs::read_dir(prompts_dir()).unwrap().count();
    assert_eq!(on_disk, PROMPT_NAMES.len(), "no stray files in prompts/en");
    committed_set();
}

#[test]
fn the_committed_spanish_set_is_complete_small_and_narrowband() {
    use hushpay_prompts::language::Language;
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../prompts/es");
    let names = Language::Spanish.prompt_names();
    let wavs: Vec<(&str, Vec<u8>)> = names
        .iter()
        .map(|n| (*n, std::fs::read(dir.join(format!("{n}.wav"))).unwrap()))
        .collect();
    let total: usize = wavs.iter().map(|(_, b)| b.len()).sum();
    assert!(total < 1_600_000, "{total} bytes");
    for (name, bytes) in &wavs {
        let w = Wav::parse(bytes).unwrap();
        assert_eq!(w.rate, 8000, "{name}");
        assert!(w.samples.len() > 800, "{name} is shorter than 100 ms");
    }
    let on_disk = std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(on_disk, names.len(), "no stray files in prompts/es");
    let set = PromptSet::encode_for(
        Language::Spanish,
        wavs.iter().map(|(n, b)| (*n, b.as_slice())),
    )
    .unwrap();
    // The Spanish words are longer than the English ones they stand for.
    assert!(set.clip("dolares").unwrap().frames() > 10);
}

/// A timed packet as the receiver gets it.
#[derive(Debug)]
struct Sent {
    at: Instant,
    pkt: OutPacket,
    prompt: bool,
}

/// The agent's stream: a quiet 440 Hz tone, 20 ms packets, `arrival(k)` for packet k.
fn agent_packets(n: usize) -> Vec<Vec<u8>> {
    let mut pcm = Vec::new();
    append_tone(440.0, -30.0, 20.0 * n as f32, 16_000, &mut pcm);
    let mut enc = Encoder::new(16_000, 24_000).unwrap();
    pcm.chunks_exact(320)
        .map(|f| enc.encode(f).unwrap())
        .collect()
}

/// Forwards the agent stream, plays `clips` from `start` until their mark, then forwards again.
fn run(clips: &[Arc<Clip>], jitter_ms: impl Fn(usize) -> u64) -> Vec<Sent> {
    let t0 = Instant::now();
    let agent = agent_packets(400);
    let (seq0, ts0) = (65_000u16, 4_000_000_000u32);
    let mut player = Player::new(7, 7);
    let mut sent = Vec::new();
    let start = t0 + Duration::from_millis(1_000);
    let mut started = false;
    let mut timeout: Option<Instant> = None;
    let mut k = 0;
    while k < agent.len() {
        let arrival = t0 + FRAME * k as u32 + Duration::from_millis(jitter_ms(k));
        let next_event = [Some(arrival), timeout, (!started).then_some(start)]
            .into_iter()
            .flatten()
            .min()
            .unwrap();
        if !started && next_event == start {
            started = true;
            player.start(start);
            for c in clips {
                player.enqueue(c);
            }
            player.mark(1);
        } else if timeout == Some(next_event) {
            player.handle_timeout(next_event);
        } else {
            let seq = seq0.wrapping_add(k as u16);
            let ts = ts0.wrapping_add(960 * k as u32);
            if let Some((s, t)) = player.forward(arrival, seq, ts) {
                sent.push(Sent {
                    at: arrival,
                    pkt: OutPacket {
                        sequence: s,
                        timestamp: t,
                        marker: false,
                        payload: agent[k].clone(),
                    },
                    prompt: false,
                });
            }
            k += 1;
        }
        timeout = None;
        while let Some(out) = player.poll_output() {
            match out {
                Output::Packet(pkt) => sent.push(Sent {
                    at: next_event,
                    pkt,
                    prompt: true,
                }),
                Output::Mark(1) => player.stop(),
                Output::Timeout(t) => {
                    timeout = Some(t);
                    break;
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }
    sent
}

fn check_continuity(sent: &[Sent], slack_ms: f64) {
    for w in sent.windows(2) {
        assert_eq!(
            w[1].pkt.sequence,
            w[0].pkt.sequence.wrapping_add(1),
            "sequence gap"
        );
        let dts = w[1].pkt.timestamp.wrapping_sub(w[0].pkt.timestamp);
        assert!(dts == 960 || dts == 1920, "timestamp step {dts}");
    }
    let (t0, ts0) = (sent[0].at, sent[0].pkt.timestamp);
    for s in sent {
        let media_ms = f64::from(s.pkt.timestamp.wrapping_sub(ts0)) / 48.0;
        let wall_ms = s.at.duration_since(t0).as_secs_f64() * 1000.0;
        assert!(
            (media_ms - wall_ms).abs() <= slack_ms,
            "timestamp {media_ms} ms sent at {wall_ms} ms"
        );
    }
}

/// Per-frame RMS of decoded 48 kHz audio.
fn envelope(pcm: &[i16]) -> Vec<f64> {
    pcm.chunks(960)
        .map(|c| (c.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / c.len() as f64).sqrt())
        .collect()
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len()) as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma).powi(2);
        sbb += (y - mb).powi(2);
    }
    sab / (saa * sbb).sqrt()
}

#[test]
fn prompts_splice_into_the_forwarded_stream_without_gaps_or_jumps() {
    let set = committed_set();
    let mut names = vec!["confirm-paying"];
    names.extend(speech::amount(1250, "USD"));
    let clips: Vec<_> = names.iter().map(|n| set.clip(n).unwrap().clone()).collect();
    let prompt_frames: usize = clips.iter().map(|c| c.frames()).sum();

    let sent = run(&clips, |_| 0);
    // A forwarded packet arriving in the same instant as the last prompt packet is one frame
    // ahead of the wall clock.
    check_continuity(&sent, 20.5);
    // No timestamp jumps at all when the agent's packets arrive on time.
    for w in sent.windows(2) {
        assert_eq!(w[1].pkt.timestamp.wrapping_sub(w[0].pkt.timestamp), 960);
    }
    let first_prompt = sent.iter().position(|s| s.prompt).unwrap();
    let prompts = sent.iter().filter(|s| s.prompt).count();
    assert_eq!(first_prompt, 50, "prompt starts at 1 s");
    assert_eq!(
        prompts, prompt_frames,
        "every prompt frame once, then forwarding"
    );
    assert!(sent[first_prompt].pkt.marker);
    assert!(!sent[first_prompt + prompts].prompt, "forwarding resumes");
    assert!(sent.len() >= 399, "agent audio before and after");

    // The receiver decodes one stream; the prompt sits where it was played.
    let mut dec = Decoder::new(48_000).unwrap();
    let mut pcm = Vec::new();
    for s in &sent {
        dec.decode_into(&s.pkt.payload, &mut pcm).unwrap();
    }
    assert_eq!(pcm.len(), sent.len() * 960, "no holes");
    let mut alone = Vec::new();
    let mut dec = Decoder::new(48_000).unwrap();
    for c in &clips {
        for p in c.packets() {
            dec.decode_into(p, &mut alone).unwrap();
        }
    }
    let env = envelope(&pcm);
    let window = &env[first_prompt..first_prompt + prompts];
    let r = correlation(window, &envelope(&alone));
    assert!(r > 0.95, "prompt envelope correlation {r}");
    // Shifted by 5 frames, the match is clearly worse: the test sees timing, not just energy.
    let shifted = &env[first_prompt + 5..first_prompt + 5 + prompts];
    assert!(correlation(shifted, &envelope(&alone)) < r - 0.1);
    let quiet = |w: &[f64]| w.iter().copied().fold(0.0, f64::max);
    let loud = window.iter().copied().fold(0.0, f64::max);
    assert!(
        quiet(&env[5..first_prompt]) < loud / 10.0,
        "agent tone is quiet"
    );
}

#[test]
fn jittery_agent_packets_keep_the_stream_continuous() {
    let set = committed_set();
    let clips = vec![set.clip("ask-card-number").unwrap().clone()];
    // 0-7 ms of jitter on the agent's packets.
    let sent = run(&clips, |k| (k as u64 * 7919) % 8);
    check_continuity(&sent, 30.5);
    assert_eq!(sent.iter().filter(|s| s.prompt).count(), clips[0].frames());
}
