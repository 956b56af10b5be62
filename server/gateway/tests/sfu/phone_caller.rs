//! A phone caller is the patient of a room, against real protocol peers: SIPp (Debian
//! `sip-tester`) calls the gateway's SIP listener and plays RTP from a pcap the test writes
//! (PCMU speech, then a card number keyed half in-band, half as RFC 4733 events); an agent bot
//! (webrtc-rs) is in the recorded room and asks for a keypad payment while the caller speaks.
//! The card number is captured into the payment, the agent's leg carries speech and not one
//! digit (multimon-ng and the sensitive detector), the agent's audio reaches the caller as
//! G.711, and the caller's BYE with the payment still open ends it `caller-hung-up`. The
//! recording holds the caller's speech from before the payment and pauses for it: its window
//! covers the whole keying, not one packet of it was written, and multimon-ng finds no digit.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use hushpay::sip::config::RawSip;
use hushpay_media::Digit;
use hushpay_media::g711::Law;
use hushpay_media::resample::resample;
use hushpay_media::rfc4733::TelephoneEvent;
use hushpay_media::rtp::RtpBuilder;
use hushpay_media::signal::TonePair;
use hushpay_vault::payment::{PayResult, State};

use hushpay::recording::export;

use crate::common::TestGateway;
use crate::common::cards::tracer_pan;
use crate::common::sipp::{Sipp, scenario};
use crate::harness::*;
use crate::recording::{finished_recordings, recording_gateway};

/// One key every 400 ms (beyond the masker's 300 ms merge window), 100 ms long.
const SLOT_MS: usize = 400;
/// The caller's speech before the first key (the payment opens meanwhile).
const SPEECH_MS: usize = 5_000;
const EVENT_PT: u8 = 101;

/// The caller's stream: 20 ms PCMU packets and telephone events, with send times (µs).
struct CallerStream {
    packets: Vec<(u64, Vec<u8>)>,
    /// What the caller's audio was (8 kHz), event slots silent.
    pcm: Vec<i16>,
    seq: u16,
    ts: u32,
    at_us: u64,
}

impl CallerStream {
    /// The RTP timestamp of the stream's first packet.
    const FIRST_TS: u32 = 80_000;

    fn new() -> Self {
        Self {
            packets: Vec::new(),
            pcm: Vec::new(),
            seq: 4_000,
            ts: Self::FIRST_TS,
            at_us: 0,
        }
    }

    fn push(&mut self, pt: u8, marker: bool, ts: u32, payload: &[u8]) {
        let rtp = RtpBuilder {
            marker,
            payload_type: pt,
            sequence: self.seq,
            timestamp: ts,
            ssrc: 0x0CA1_1E55,
        }
        .build(payload);
        self.packets.push((self.at_us, rtp));
        self.seq = self.seq.wrapping_add(1);
    }

    /// 8 kHz audio, in 20 ms packets.
    fn audio(&mut self, pcm8: &[i16]) {
        let mut padded = pcm8.to_vec();
        padded.resize(pcm8.len().div_ceil(160) * 160, 0);
        for f in padded.chunks(160) {
            let mut g = Vec::new();
            Law::Mu.encode(f, &mut g);
            let ts = self.ts;
            self.push(0, false, ts, &g);
            self.pcm.extend_from_slice(f);
            self.ts = self.ts.wrapping_add(160);
            self.at_us += 20_000;
        }
    }

    /// A key as RFC 4733 events (one per 20 ms, the end three times), silence meanwhile.
    fn event_key(&mut self, d: Digit, ms: usize) {
        let start = self.ts;
        for i in 0..ms / 20 {
            let ev = TelephoneEvent {
                code: d.event_code(),
                end: false,
                volume: 10,
                duration: (160 * (i + 1)) as u16,
            };
            self.push(EVENT_PT, i == 0, start, &ev.build());
            self.audio(&[0; 160]);
        }
        let end = TelephoneEvent {
            code: d.event_code(),
            end: true,
            volume: 10,
            duration: (160 * (ms / 20)) as u16,
        };
        for _ in 0..3 {
            self.push(EVENT_PT, false, start, &end.build());
        }
    }
}

/// Writes `packets` as a pcap (Ethernet, IPv4, UDP) for SIPp's `play_pcap_audio`.
fn write_pcap(path: &Path, packets: &[(u64, Vec<u8>)]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65_535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // Ethernet
    for (at_us, rtp) in packets {
        let udp_len = 8 + rtp.len();
        let ip_len = 20 + udp_len;
        let mut frame = vec![0u8; 12];
        frame.extend_from_slice(&[0x08, 0x00]);
        let mut ip = vec![
            0x45,
            0,
            (ip_len >> 8) as u8,
            ip_len as u8,
            0,
            0,
            0,
            0,
            64,
            17,
            0,
            0,
            127,
            0,
            0,
            1,
            127,
            0,
            0,
            1,
        ];
        let sum: u32 = ip
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
        ip[10..12].copy_from_slice(&sum.to_be_bytes());
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&6000u16.to_be_bytes());
        frame.extend_from_slice(&6002u16.to_be_bytes());
        frame.extend_from_slice(&(udp_len as u16).to_be_bytes());
        frame.extend_from_slice(&[0, 0]);
        frame.extend_from_slice(rtp);
        out.extend_from_slice(&((at_us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((at_us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    std::fs::write(path, out).unwrap();
}

/// Runs SIPp's `caller_keys.xml` in `dir` (where `caller.pcap` is) against `target`.
async fn sipp_call(dir: &Path, target: SocketAddr) -> (bool, String) {
    Sipp::new(scenario("caller_keys.xml"), "payline")
        .timeout(Duration::from_secs(30))
        .dir(dir)
        .call(target)
        .await
}

/// The gateway's SIP listener with one trunk (loopback) for `tenant`, calls to `payline` going
/// to room `call-1`, each call joining its room (`hushpay::sfu::phone`).
pub(crate) async fn sip_listener(
    gw: &TestGateway,
    tenant: &str,
) -> hushpay::sip::server::SipServer {
    sip_listener_with(gw, tenant, "called = 'payline'\nroom = 'call-1'").await
}

/// The gateway's SIP listener with one trunk (loopback) for `tenant` and one dispatch rule of
/// `tenant` with `rule` (TOML lines), its calls served by `hushpay::sfu::phone`.
pub(crate) async fn sip_listener_with(
    gw: &TestGateway,
    tenant: &str,
    rule: &str,
) -> hushpay::sip::server::SipServer {
    let text = format!(
        "listen = '127.0.0.1:0'\n[[trunks]]\nname = 'carrier'\ntenant = '{tenant}'\nsources = ['127.0.0.1/32']\n[[dispatch]]\ntenant = '{tenant}'\n{rule}\n"
    );
    let raw: RawSip = toml::from_str(&text).unwrap();
    let mut server = hushpay::sip::server::start(
        raw.validate().unwrap().unwrap(),
        Arc::clone(&gw.state.metrics.sip),
    )
    .await
    .unwrap();
    tokio::spawn(hushpay::sfu::phone::serve_calls(
        gw.state.clone(),
        server.take_calls(),
    ));
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_phone_caller_keys_a_card_the_agent_hears_no_digit_and_bye_ends_the_payment() {
    let gw = recording_gateway().await;
    let (t, key) = gw.tenant("clinic").await;
    let sip = sip_listener(&gw, t.id.as_str()).await;
    let agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;

    // The caller: speech (the payment opens meanwhile), then the card number and `#`, even
    // positions in-band.
    let pan = tracer_pan();
    let mut caller = CallerStream::new();
    let mut words = resample(
        &speech("hello, I would like to pay my bill, my card is ready"),
        48_000,
        8_000,
    );
    words.resize(SPEECH_MS * 8, 0);
    caller.audio(&words);
    let keys_from_ms = caller.at_us / 1_000;
    for (i, c) in format!("{pan}#").chars().enumerate() {
        let d = Digit::from_char(c).unwrap();
        if i % 2 == 0 && c.is_ascii_digit() {
            let mut tone = Vec::new();
            TonePair::new(d, -10.0, 100.0).append(8_000, &mut tone);
            tone.resize(SLOT_MS * 8, 0);
            caller.audio(&tone);
        } else {
            caller.event_key(d, 100);
            let rest = vec![0i16; (SLOT_MS - 100) * 8];
            caller.audio(&rest);
        }
    }
    let keys_to_ms = caller.at_us / 1_000;
    caller.audio(&[0; 1600]);
    assert!(
        caller.at_us < 12_500_000,
        "the scenario waits 13 s for the pcap"
    );
    let dir = tempfile::tempdir().unwrap();
    write_pcap(&dir.path().join("caller.pcap"), &caller.packets);

    // The agent asks for the card once the caller's speech reaches the room (the recording
    // runs until then), and talks while the caller keys.
    let agent_words = speech("thank you, please key your card number now");
    let agent_up = agent.uplink();
    let call = sipp_call(dir.path(), sip.udp_addr);
    let keyed = async {
        let sip = &gw.state.metrics.sip;
        let answered = eventually(Duration::from_secs(10), || {
            sip.calls_offered.load(Ordering::Relaxed) >= 1
        })
        .await;
        assert!(answered, "the call is answered");
        // SIPp plays the pcap 300 ms after its ACK: a second of the caller's speech first
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        let id = keypad_payment_capturing_the_card(&gw, &key, "call-1", 2500).await;
        let p = card_number_captured(&gw, &id, Duration::from_secs(20)).await;
        (id, p.state, p.card.map(|c| c.last4))
    };
    let talk = async {
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        agent_up.play(&agent_words, &[]).await.unwrap();
    };
    let ((ok, out), (id, state, last4), ()) = tokio::join!(call, keyed, talk);
    assert!(ok, "SIPp: {out}");
    assert_eq!(state, State::Collecting, "captured while the call was up");
    if let Some(last4) = last4 {
        assert_eq!(last4, pan[12..]);
    }

    // BYE with the expiry date still to key: the payment ends `caller-hung-up`.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    let ended = loop {
        let p = gw.state.payments.load(&id).await.unwrap().payment;
        if p.state.is_terminal() || tokio::time::Instant::now() > deadline {
            break p;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ended.state, State::Failed, "{:?}", ended.error);
    assert_eq!(ended.result, Some(PayResult::CallerHungUp));
    assert_eq!(gw.state.payments.keypad_held(), 0, "no digit kept");

    // The agent heard the caller's speech and no digit.
    drained(&agent).await;
    let heard = agent.recording();
    let sent48 = resample(&caller.pcm, 8_000, 48_000);
    assert!(
        heard.len() > sent48.len() / 2,
        "the agent got the caller's stream ({} of {} samples)",
        heard.len(),
        sent48.len()
    );
    assert!(
        rms(&heard) > 0.1 * rms(&sent48),
        "speech reaches the agent: {} vs {}",
        rms(&heard),
        rms(&sent48)
    );
    let inband: String = format!("{pan}#")
        .chars()
        .enumerate()
        .filter(|(i, c)| i % 2 == 0 && c.is_ascii_digit())
        .map(|(_, c)| c)
        .collect();
    assert_eq!(multimon(&sent48), inband, "control: the in-band half");
    assert!(sensitive_hits(&sent48) > 0, "control: the detector");
    assert_eq!(multimon(&heard), "", "no digit on the agent's leg");
    // Before the payment the masker flags with the normal thresholds (speech may hold windows
    // the secure ones flag); from half a second before the first key on (the payment open,
    // the secure thresholds), none. The agent's stream is one 20 ms frame per caller audio
    // packet in sequence order, so the caller's clock.
    let keying = &heard[((keys_from_ms as usize - 500) * 48).min(heard.len())..];
    assert!(keying.len() > 48 * 5_000, "the agent heard the keying");
    assert_eq!(
        sensitive_hits(keying),
        0,
        "no tone energy on the agent's leg during the keying"
    );

    // The caller's leg: every RTP datagram came from SIPp's SDP address, the agent's audio
    // went back to it.
    let m = &gw.state.metrics.sip;
    assert_eq!(m.rtp_foreign.load(Ordering::Relaxed), 0);
    assert!(
        m.rtp_sent.load(Ordering::Relaxed) > 50,
        "the agent's audio reached the caller: {} packets",
        m.rtp_sent.load(Ordering::Relaxed)
    );

    // The recording paused for the payment, over the whole keying.
    agent.leave().await;
    assert_released(&gw).await;
    recording_paused_over_the_keying(&gw, &key, &id, keys_from_ms, keys_to_ms).await;
}

/// The room's recording: the payment's pause window covers the caller's keying
/// (`keys_from_ms..keys_to_ms` of the caller's stream, mapped to the recording's clock by the
/// caller's speech packets recorded before it), the patient track holds the caller's speech
/// from before the payment and not one packet of the keying (read by RTP timestamp, which the
/// masker keeps), and multimon-ng finds no digit in what was written.
async fn recording_paused_over_the_keying(
    gw: &TestGateway,
    key: &str,
    id: &str,
    keys_from_ms: u64,
    keys_to_ms: u64,
) {
    let recs = finished_recordings(gw, key, "call-1").await;
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["signature_valid"], true);
    let rec_id = recs[0]["id"].as_str().unwrap();
    let tenant = gw
        .state
        .store
        .tenant_by_name("clinic")
        .await
        .unwrap()
        .unwrap();
    let rec = export::decrypt(&gw.state.recorder, tenant.id.as_str(), rec_id)
        .await
        .unwrap();
    let end_ms = export::duration_ms(&rec);
    let windows: Vec<(u64, u64)> = rec
        .metadata
        .pauses
        .iter()
        .filter(|w| w.reason == format!("payment:{id}"))
        .map(|w| (u64::from(w.from_ms), u64::from(w.to_ms.unwrap_or(end_ms))))
        .collect();
    assert_eq!(windows.len(), 1, "{:?}", rec.metadata.pauses);
    let (from, to) = windows[0];

    let (_, patient) = rec
        .tracks
        .iter()
        .find(|(info, _)| info.role == "patient")
        .expect("the caller's track");
    // The caller's stream position of a recorded packet: its timestamp (48 kHz, six times
    // the caller's 8 kHz clock) from the stream's first.
    let caller_ms = |rtp_ts: u32| u64::from((rtp_ts / 6).wrapping_sub(CallerStream::FIRST_TS)) / 8;
    let offsets: Vec<i64> = patient
        .packets
        .iter()
        .map(|p| i64::from(p.at_ms) - caller_ms(p.rtp_timestamp) as i64)
        .collect();
    assert!(
        offsets.len() >= 20,
        "the caller's speech before the payment is recorded: {} packets",
        offsets.len()
    );
    let in_keying = patient
        .packets
        .iter()
        .filter(|p| (keys_from_ms..keys_to_ms).contains(&caller_ms(p.rtp_timestamp)))
        .count();
    assert_eq!(in_keying, 0, "recorded packets of the caller's keying");
    let (early, late) = (
        *offsets.iter().min().unwrap(),
        *offsets.iter().max().unwrap(),
    );
    let keying = (keys_from_ms as i64 + early, keys_to_ms as i64 + late);
    assert!(
        from as i64 <= keying.0 && keying.1 <= to as i64,
        "the pause window {from}..{to} ms covers the keying, {}..{} ms of the recording",
        keying.0,
        keying.1
    );
    for (info, t) in &rec.tracks {
        let inside = t
            .packets
            .iter()
            .filter(|p| (from..to).contains(&u64::from(p.at_ms)))
            .count();
        assert_eq!(inside, 0, "{}: packets inside the pause window", info.track);
    }

    // What was written, decoded packet by packet (not the export, which silences the
    // windows).
    let mut decoder = hushpay_media::opus_codec::Decoder::new(48_000).unwrap();
    let mut pcm48 = Vec::new();
    for p in &patient.packets {
        decoder.decode_into(&p.payload, &mut pcm48).unwrap();
    }
    assert!(
        rms(&pcm48) > 300.0,
        "the caller's speech is in the recording: {}",
        rms(&pcm48)
    );
    assert_eq!(multimon(&pcm48), "", "no digit in the recording");
}
