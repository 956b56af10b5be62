//! An IVR payment for a phone caller (issue 15): the agent of the caller's room asks for an
//! `ivr` payment; the caller (the test as the trunk, its own RTP socket) hears the prompts as
//! G.711 and keys the card by SIP INFO, the agent hears only the hold audio, neither hears the
//! other while the IVR runs, and both hear each other again once it hands the caller back.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hushpay::ivr::config::IvrConfig;
use hushpay_media::g711::Law;
use hushpay_media::opus_codec::SILENCE_20MS;
use hushpay_media::resample::resample;
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_prompts::language::Language;
use hushpay_prompts::prompt::PromptSet;
use hushpay_prompts::speech as spoken;
use serde_json::json;
use tokio::net::UdpSocket;

use crate::common::TestGateway;
use crate::harness::*;
use crate::ivr_audio::packets;
use crate::phone_caller::sip_listener;
use crate::phone_caller_hang_up::{Caller, participants};
use crate::phone_caller_info_keys::info;

/// A 20 ms frame at or above this RMS is speech (as `ivr_phone::Ears`).
const SPEECH_RMS: f64 = 200.0;
/// Silence that ends a prompt.
const QUIET_FRAMES: usize = 30;
/// Prompts are measured from the first to the last loud frame (see `ivr_payment`), and the
/// caller hears them through one more codec (Opus to G.711): a few frames either way.
const SLACK_FRAMES: usize = 10;

/// What the caller hears: the RMS and arrival of each 20 ms G.711 packet, and where from.
#[derive(Default)]
struct CallerEar {
    frames: Vec<(f64, Instant)>,
    from: Option<SocketAddr>,
}

/// Reads the caller's RTP socket for the life of the test.
fn listen(rtp: Arc<UdpSocket>) -> Arc<Mutex<CallerEar>> {
    let ear = Arc::new(Mutex::new(CallerEar::default()));
    let out = Arc::clone(&ear);
    tokio::spawn(async move {
        let mut buf = vec![0u8; 2048];
        while let Ok((n, from)) = rtp.recv_from(&mut buf).await {
            let Ok(pkt) = RtpPacket::parse(&buf[..n]) else {
                continue;
            };
            let mut pcm = Vec::new();
            Law::Mu.decode(pkt.payload, &mut pcm);
            let mut e = out.lock().unwrap();
            e.from = Some(from);
            e.frames.push((rms(&pcm), Instant::now()));
        }
    });
    ear
}

/// The next prompt the caller hears after frame `at` (first to last loud frame, ended by
/// 600 ms of quiet): its length in frames, and the frame after it.
async fn next_prompt(ear: &Mutex<CallerEar>, at: usize) -> (usize, usize) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        {
            let e = ear.lock().unwrap();
            let f = &e.frames;
            if let Some(first) = (at..f.len()).find(|&i| f[i].0 >= SPEECH_RMS) {
                let mut last = first;
                let mut i = first;
                while i < f.len() && i - last <= QUIET_FRAMES {
                    if f[i].0 >= SPEECH_RMS {
                        last = i;
                    }
                    i += 1;
                }
                if i - last > QUIET_FRAMES {
                    return (last + 1 - first, i);
                }
            }
        }
        assert!(Instant::now() < deadline, "the caller heard no prompt");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits for the next prompt and checks it lasts as long as `names` played back to back.
async fn hears(ear: &Mutex<CallerEar>, at: &mut usize, prompts: &PromptSet, names: &[&str]) {
    let want: usize = names
        .iter()
        .map(|n| prompts.clip(n).unwrap().frames())
        .sum();
    let (heard, next) = next_prompt(ear, *at).await;
    assert!(
        heard <= want + SLACK_FRAMES && heard + SLACK_FRAMES >= want,
        "{names:?}: the caller heard {heard} frames, the prompts have {want}"
    );
    *at = next;
}

/// Keys `keys` by SIP INFO, one every 120 ms; the next CSeq.
async fn key(caller: &Caller, mut cseq: u32, keys: &str) -> u32 {
    for k in keys.chars() {
        let status = info(caller, cseq, &format!("Signal={k}\r\nDuration=100\r\n")).await;
        assert!(status.starts_with("SIP/2.0 200"), "{status}");
        cseq += 1;
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
    cseq
}

/// Sends `pcm48` to the gateway as the caller's PCMU, paced in real time.
async fn send_speech(rtp: &UdpSocket, to: SocketAddr, pcm48: &[i16], seq: &mut u16, ts: &mut u32) {
    let pcm8 = resample(pcm48, 48_000, 8_000);
    for f in pcm8.chunks(160) {
        let mut g = Vec::new();
        Law::Mu.encode(f, &mut g);
        let pkt = RtpBuilder {
            marker: false,
            payload_type: 0,
            sequence: *seq,
            timestamp: *ts,
            ssrc: 0x1F0_CA11,
        }
        .build(&g);
        rtp.send_to(&pkt, to).await.unwrap();
        *seq = seq.wrapping_add(1);
        *ts = ts.wrapping_add(160);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Loud frames the caller heard between `from` and `to`.
fn loud_between(ear: &Mutex<CallerEar>, from: Instant, to: Instant) -> usize {
    ear.lock()
        .unwrap()
        .frames
        .iter()
        .filter(|(r, at)| *at > from && *at < to && *r >= SPEECH_RMS)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_caller_pays_by_ivr_while_the_agent_holds_then_is_handed_back() {
    let gw = TestGateway::start(&[("HUSHPAY__IVR__ENTRY_TIMEOUT_SECS", "10")]).await;
    let (t, key_) = gw.tenant("clinic").await;
    let server = sip_listener(&gw, t.id.as_str()).await;
    let agent_token = token(&gw, &key_, "agent-7", "call-1", "agent").await;
    let agent = bot(&gw, agent_token.clone()).await;
    let rtp = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
    let ear = listen(Arc::clone(&rtp));
    let mut caller = Caller::new("ivr-phone-1", server.udp_addr).await;
    caller.call_with_rtp(rtp.local_addr().unwrap().port()).await;
    let room = participants(&gw, 2).await;
    let prompts = IvrConfig::default()
        .load_language(Language::English)
        .unwrap();

    let payment = create_payment(
        &gw,
        &agent_token,
        json!({"amount": 4250, "currency": "USD", "reference": "visit-9",
               "mode": "charge", "method": "ivr"}),
    )
    .await;
    let id = payment["id"].as_str().unwrap().to_owned();
    assert!(room.ivr.is_active(), "the IVR runs for the phone caller");
    let began = Instant::now();

    let mut at = 0;
    hears(&ear, &mut at, &prompts, &["ask-card-number"]).await;
    let mut cseq = key(&caller, 2, "4242424242424242#").await;
    hears(&ear, &mut at, &prompts, &["ask-expiration-date"]).await;
    cseq = key(&caller, cseq, "1230").await;
    hears(&ear, &mut at, &prompts, &["ask-security-code"]).await;
    cseq = key(&caller, cseq, "123#").await;
    let mut confirm = vec!["confirm-paying"];
    confirm.extend(spoken::amount(4250, "USD"));
    confirm.push("confirm-card-ending");
    confirm.extend(spoken::digits("4242"));
    confirm.push("confirm-press");
    hears(&ear, &mut at, &prompts, &confirm).await;

    // The IVR waits for the confirmation: each speaks, neither hears the other.
    let to_gateway = ear.lock().unwrap().from.expect("the gateway's RTP address");
    let (mut seq, mut ts) = (7_000u16, 160_000u32);
    let voice = speech("my date of birth is the fourth of july");
    let quiet_from = Instant::now();
    let agent_up = agent.uplink();
    let agent_voice = speech("can you hear me while you pay");
    tokio::join!(
        send_speech(&rtp, to_gateway, &voice, &mut seq, &mut ts),
        async { agent_up.play(&agent_voice, &[]).await.unwrap() },
    );
    let quiet_to = Instant::now();
    assert_eq!(
        loud_between(&ear, quiet_from, quiet_to),
        0,
        "the caller hears silence while the IVR waits, not the agent"
    );
    assert!(room.ivr.is_active());
    key(&caller, cseq, "1").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let done = loop {
        let p = gw.state.payments.load(&id).await.unwrap().payment;
        if p.state == hushpay_vault::payment::State::Succeeded && !room.ivr.is_active() {
            break p;
        }
        assert!(Instant::now() < deadline, "the payment succeeds: {p:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let handed_back = Instant::now();
    assert_eq!(done.card.as_ref().unwrap().last4, "4242");

    // Handed back: each hears the other again.
    let back_from = Instant::now();
    tokio::join!(
        send_speech(&rtp, to_gateway, &voice, &mut seq, &mut ts),
        async { agent_up.play(&agent_voice, &[]).await.unwrap() },
    );
    drained(&agent).await;
    assert!(
        loud_between(&ear, back_from, Instant::now()) > 25,
        "the caller hears the agent after the hand-back"
    );

    // The agent: the hold prompt or silence while the IVR ran, the caller after it.
    let hold = prompts.clip("hold").unwrap();
    let hold_set: HashSet<&[u8]> = hold.packets().iter().map(Vec::as_slice).collect();
    let to_agent = packets(&agent);
    let margin = Duration::from_millis(150);
    let during: Vec<&Vec<u8>> = to_agent
        .iter()
        .filter(|p| p.2 > began + margin && p.2 + margin < handed_back)
        .map(|p| &p.3)
        .collect();
    assert!(during.len() > 200, "{} packets while on hold", during.len());
    let other = during
        .iter()
        .filter(|p| !hold_set.contains(p.as_slice()) && p.as_slice() != SILENCE_20MS)
        .count();
    assert_eq!(
        other, 0,
        "the agent heard the hold prompt and nothing else: no prompt, no caller audio"
    );
    let after = to_agent
        .iter()
        .filter(|p| p.2 > back_from + margin)
        .filter(|p| !hold_set.contains(p.3.as_slice()) && p.3.as_slice() != SILENCE_20MS)
        .count();
    assert!(
        after > 25,
        "the agent hears the caller after the hand-back ({after} packets)"
    );
    drop(server);
}
