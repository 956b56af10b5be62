//! IVR audio on the room's downlinks over real WebRTC: while the IVR's audio runs the patient
//! hears the queued prompt (and silence), never the agent; the agent hears the hold prompt
//! looped, never the patient; afterwards both hear each other again. Each downlink is one
//! continuous RTP stream throughout: sequence numbers +1 per packet, timestamps with real time.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay::ivr::config::IvrConfig;
use hushpay::sfu::ivr_audio::{IvrAudio, StartError};
use hushpay::sfu::room::{Room, RoomKey};
use hushpay_bots::Bot;
use hushpay_media::opus_codec::SILENCE_20MS;
use hushpay_prompts::language::Language;

use crate::harness::*;

/// A steady tone at 48 kHz.
fn tone_pcm(freq: f32, ms: f32) -> Vec<i16> {
    let mut pcm = Vec::new();
    hushpay_media::signal::append_tone(freq, -12.0, ms, 48_000, &mut pcm);
    pcm
}

pub fn room_of(gw: &crate::common::TestGateway, tenant: &str, name: &str) -> Arc<Room> {
    gw.state
        .sfu
        .rooms
        .get(&RoomKey {
            tenant: tenant.to_owned(),
            name: name.to_owned(),
        })
        .expect("the room is open")
}

/// Received packets as (extended seq, timestamp, arrival, payload).
pub type Packets = Vec<(u64, u32, Instant, Vec<u8>)>;

pub fn packets(bot: &Bot) -> Packets {
    let r = bot.received.lock().unwrap();
    r.packets
        .iter()
        .map(|(s, t, a, p)| (*s, *t, *a, p.clone().unwrap()))
        .collect()
}

/// One continuous stream: every sequence number once, in order of arrival, and timestamps
/// that follow arrival time. Timestamp minus arrival is the same for every packet up to the
/// arrival jitter: 95% of packets within 250 ms of the median and none beyond 1 s (a loaded
/// 2-core debug run delays bursts of packets by a few hundred ms; a switch that did not step
/// timestamps with real time puts every later packet off by the length of the IVR, seconds).
pub fn assert_continuous(who: &str, pkts: &Packets) {
    assert!(pkts.len() > 100, "{who}: {} packets", pkts.len());
    for w in pkts.windows(2) {
        assert_eq!(w[1].0, w[0].0 + 1, "{who}: sequence numbers +1 per packet");
        let dt = w[1].1.wrapping_sub(w[0].1);
        assert!(
            // Whole frames forward; a pause in what is sent (the agent silent after the
            // hand-back) steps by the pause, which the check below holds to real time.
            dt % 960 == 0 && (960..=48_000 * 10).contains(&dt),
            "{who}: timestamp step {dt}"
        );
    }
    let (ts0, at0) = (pkts[0].1, pkts[0].2);
    let mut offsets: Vec<f64> = pkts
        .iter()
        .map(|(_, ts, at, _)| {
            let media = f64::from(ts.wrapping_sub(ts0)) / 48.0;
            let wall = at.duration_since(at0).as_secs_f64() * 1000.0;
            media - wall
        })
        .collect();
    offsets.sort_by(f64::total_cmp);
    let median = offsets[offsets.len() / 2];
    let off: Vec<f64> = offsets.iter().map(|o| (o - median).abs()).collect();
    let near = off.iter().filter(|o| **o <= 250.0).count();
    let worst = off.iter().copied().fold(0.0, f64::max);
    assert!(
        near * 100 >= pkts.len() * 95 && worst < 1000.0,
        "{who}: timestamps vs arrival: {near} of {} packets within 250 ms, worst {worst:.0} ms",
        pkts.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompts_to_the_patient_hold_to_the_agent_one_stream_each() {
    let gw = gateway().await;
    let (t, key) = gw.tenant("clinic").await;
    let agent = bot(&gw, token(&gw, &key, "agent-1", "call-ivr", "agent").await).await;
    let patient = bot(
        &gw,
        token(&gw, &key, "patient-1", "call-ivr", "patient").await,
    )
    .await;
    let room = room_of(&gw, t.id.as_str(), "call-ivr");
    let prompts = IvrConfig::default()
        .load_language(Language::English)
        .unwrap();
    let ask = Arc::clone(prompts.clip("ask-card-number").unwrap());
    let hold = Arc::clone(prompts.clip("hold").unwrap());

    // Both talk for the whole test: the patient at 440 Hz, the agent at 1 kHz.
    let secs = 9_000.0;
    let (p_up, a_up) = (patient.uplink(), agent.uplink());
    let p_pcm = tone_pcm(440.0, secs);
    let a_pcm = tone_pcm(1000.0, secs);
    let talk =
        tokio::spawn(async move { tokio::join!(p_up.play(&p_pcm, &[]), a_up.play(&a_pcm, &[])) });
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let patient_p = room
        .participants()
        .into_iter()
        .find(|p| p.role == hushpay_auth::Role::Patient)
        .unwrap();
    let started = Instant::now();
    let mut audio = IvrAudio::start(&gw.state.sfu, &room, &patient_p, Some(Arc::clone(&hold)))
        .expect("the IVR audio starts");
    assert!(room.ivr.is_active());
    assert_eq!(
        IvrAudio::start(&gw.state.sfu, &room, &patient_p, None).unwrap_err(),
        StartError::Busy,
        "one IVR per room"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mark = audio.play(&[Arc::clone(&ask)]);
    tokio::time::timeout(Duration::from_secs(10), audio.played(mark))
        .await
        .expect("the prompt was played");
    let prompt_done = Instant::now();
    let played_ms = prompt_done.duration_since(started).as_millis();
    assert!(
        played_ms as usize >= 400 + ask.frames() * 20 - 60,
        "the prompt took real time: {played_ms} ms for {} frames",
        ask.frames()
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    audio.stop().await;
    let stopped = Instant::now();
    assert!(!room.ivr.is_active());
    let _ = talk.await;
    drained(&agent).await;
    drained(&patient).await;

    let to_patient = packets(&patient);
    let to_agent = packets(&agent);
    assert_continuous("patient downlink", &to_patient);
    assert_continuous("agent downlink", &to_agent);

    let margin = Duration::from_millis(150);
    let during = |at: Instant| at > started + margin && at + margin < stopped;
    let before_or_after = |at: Instant| at + margin < started || at > stopped + margin;

    // The patient: the prompt, packet for packet, and silence around it; no agent audio.
    let ivr: Vec<&Vec<u8>> = to_patient
        .iter()
        .filter(|p| during(p.2))
        .map(|p| &p.3)
        .collect();
    let clip: Vec<&Vec<u8>> = ask.packets().iter().collect();
    let at = ivr
        .windows(clip.len())
        .position(|w| w == clip.as_slice())
        .expect("the patient got the whole prompt, in order");
    assert!(
        ivr[..at]
            .iter()
            .chain(&ivr[at + clip.len()..])
            .all(|p| p.as_slice() == SILENCE_20MS),
        "silence around the prompt, nothing of the agent"
    );
    let agent_heard_before = to_patient.iter().filter(|p| before_or_after(p.2)).count();
    assert!(
        agent_heard_before > 50,
        "the patient hears the agent outside the IVR"
    );

    // The agent: the hold prompt looped, nothing else; the patient before and after.
    let hold_set: HashSet<&[u8]> = hold.packets().iter().map(Vec::as_slice).collect();
    let held: Vec<&Vec<u8>> = to_agent
        .iter()
        .filter(|p| during(p.2))
        .map(|p| &p.3)
        .collect();
    assert!(held.len() > 40, "{} packets on hold", held.len());
    assert!(
        held.iter().all(|p| hold_set.contains(p.as_slice())),
        "the agent gets the hold prompt only while the IVR runs"
    );
    let around: Vec<&Vec<u8>> = to_agent
        .iter()
        .filter(|p| before_or_after(p.2))
        .map(|p| &p.3)
        .collect();
    assert!(
        around
            .iter()
            .filter(|p| !hold_set.contains(p.as_slice()))
            .count()
            > 100,
        "the agent hears the patient before and after the IVR"
    );
    let after = to_agent.iter().filter(|p| p.2 > stopped + margin).count();
    assert!(
        after > 50,
        "forwarding resumed after the IVR: {after} packets"
    );

    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_ivr_audio_without_the_patients_downlink() {
    let gw = gateway().await;
    let (t, key) = gw.tenant("clinic").await;
    let agent = bot(&gw, token(&gw, &key, "agent-1", "call-2", "agent").await).await;
    let room = room_of(&gw, t.id.as_str(), "call-2");
    // An agent receives no agents' audio: there is no downlink to play prompts on.
    let agent_p = room.participants().pop().unwrap();
    assert_eq!(
        IvrAudio::start(&gw.state.sfu, &room, &agent_p, None).unwrap_err(),
        StartError::NoPatientAudio
    );
    assert!(!room.ivr.is_active());
    agent.leave().await;
    assert_released(&gw).await;
}
