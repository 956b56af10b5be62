//! The acceptance test: the patient bot sends speech with in-band DTMF and RFC 4733
//! keys through the gateway; the agent's recording has the speech and not one digit (strict
//! multimon-ng and the sensitive detector), and the digits the server captured are the keyed
//! ones.

use std::time::Duration;

use hushpay_bots::Key;
use hushpay_media::Digit;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_hears_speech_and_no_digit_server_captures_them() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let agent_token = token(&gw, &key, "agent-7", "call-1", "agent").await;
    let patient_token = token(&gw, &key, "patient-1", "call-1", "patient").await;
    let mut agent = bot(&gw, agent_token).await;
    let patient = bot(&gw, patient_token).await;

    // speech, in-band "47", speech, then RFC 4733 "123" (the bot sends no audio while a key
    // is down), then speech again.
    let words = speech("please confirm your date of birth and the first line of your address");
    let mut pcm = silence(200);
    pcm.extend(&words[..words.len().min(48_000 * 2)]);
    pcm.extend(silence(200));
    let mut tone_ms = Vec::new();
    for d in ['4', '7'] {
        tone_ms.push(pcm.len() / 48);
        pcm.extend(tone(d, 120.0));
        pcm.extend(silence(120));
    }
    pcm.extend(silence(200));
    let keys_at = (pcm.len() / 48) as u64 / 20 * 20;
    pcm.extend(silence(1000)); // replaced by the keys below
    let keys: Vec<Key> = "123"
        .chars()
        .enumerate()
        .map(|(i, c)| Key {
            digit: Digit::from_char(c).unwrap(),
            at_ms: keys_at + i as u64 * 300,
            ms: 120,
        })
        .collect();
    pcm.extend(&words[..words.len().min(48_000)]);
    pcm.extend(silence(300));

    // The agent talks back at the same time.
    let agent_words = speech("thank you, one moment please");
    let agent_up = agent.uplink();
    let (sent, agent_sent) =
        tokio::join!(patient.play(&pcm, &keys), agent_up.play(&agent_words, &[]));
    let sent = sent.unwrap();
    agent_sent.unwrap();
    drained(&agent).await;
    drained(&patient).await;

    let heard = agent.recording();
    let got = heard.len() as f64 / pcm.len() as f64;
    assert!(
        got > 0.9,
        "agent got {:.0}% of the patient's audio",
        got * 100.0
    );
    assert!(
        rms(&heard) > 0.25 * rms(&pcm),
        "speech energy reaches the agent: {} vs {}",
        rms(&heard),
        rms(&pcm)
    );
    // Positive control: the same detectors find the digits in what the patient sent.
    assert_eq!(
        multimon(&pcm),
        "47",
        "control: multimon-ng hears the in-band tones"
    );
    assert!(
        sensitive_hits(&pcm) > 0,
        "control: the sensitive detector flags the tones"
    );
    assert_eq!(
        multimon(&heard),
        "",
        "multimon-ng recovers no digit from the agent's leg"
    );
    // The sensitive detector: nothing where the tones were (the agent's recording is aligned
    // with the patient's audio up to the first key, which comes later), and no more hits over
    // the whole leg than the speech alone produces (its deliberate talk-off).
    let hits = hit_positions(&heard);
    for &t in &tone_ms {
        assert!(
            !hits.iter().any(|&h| h + 150 >= t && h <= t + 120 + 150),
            "the sensitive detector flags the agent's leg near the tone at {t} ms: {hits:?}"
        );
    }
    let mut speech_only = pcm.clone();
    for &t in &tone_ms {
        speech_only[t * 48..(t + 120) * 48].fill(0);
    }
    let control = sensitive_hits(&opus_roundtrip(&speech_only));
    assert!(
        hits.len() <= control,
        "the agent's leg has no more sensitive hits ({}) than the speech alone through Opus ({control})",
        hits.len()
    );

    let room = gw
        .state
        .sfu
        .rooms
        .all()
        .into_iter()
        .next()
        .expect("the room is open");
    assert_eq!(
        room.digits_keyed(),
        5,
        "the server heard each of the 5 keys once (counted, never kept)"
    );
    let metrics = gw
        .client
        .get(gw.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("hushpay_digits_captured_total 5"),
        "{metrics}"
    );
    assert!(metrics.contains("hushpay_rooms 1"));
    assert!(metrics.contains("hushpay_participants 2"));

    // The patient heard the agent.
    let back = patient.recording();
    assert!(
        rms(&back) > 0.25 * rms(&agent_words),
        "agent audio reaches the patient"
    );
    assert!(sent.len() > 100);

    // Chat both ways on the data channel.
    patient.chat("hello from the patient").await.unwrap();
    let mut seen = false;
    while let Some(m) = agent.next_chat(Duration::from_secs(3)).await {
        if let hushpay::sfu::chat::ChatOut::Chat(m) = m {
            assert_eq!(m.from.role, "patient");
            assert_eq!(m.text, "hello from the patient");
            assert!(m.id.starts_with("msg_") && m.ts > 0);
            seen = true;
            break;
        }
    }
    assert!(seen, "the agent received the patient's chat");

    agent.leave().await;
    patient.leave().await;
    assert_released(&gw).await;
}
