//! A phone caller as the patient of a room (issue 15): each call answered by the SIP listener
//! ([`crate::sip`]) joins the room its dispatch rule names (or a new room) as the patient, and
//! one task per call carries its media.
//!
//! * The caller's RTP (PCMU or PCMA, and RFC 4733 telephone-event) goes through the same
//!   [`Masker`] as a browser patient's, on its G.711 input path: in-band and RFC 4733 keys are
//!   masked (the law's silence code) and captured, the room's secure state (keypad payments,
//!   the IVR) is followed exactly as [`super::streams::PatientPath`] follows it.
//! * What the masker releases is transcoded to Opus ([`G711ToOpus`]: a masked packet is the
//!   constant Opus silence frame) and goes to the recorder tap and, through the room's media
//!   engine ([`MediaEngine::phone_audio`]), to every downlink that hears the patient.
//! * The agents' Opus reaches this task through a [`PhoneSink`] and goes to the caller as
//!   G.711 ([`OpusToG711`]) with our own sequence numbers, timestamps and SSRC; not while the
//!   caller holds the call.
//! * The call ending (BYE, CANCEL, a lost ACK) is final: the room's secure session hears
//!   [`super::secure::SecureEventKind::CallerHungUp`] (a keypad payment then ends
//!   `caller-hung-up`), the caller leaves the room. The room closing hangs the call up (a BYE
//!   to the caller) and ends the task; so does a call that cannot join its room.
//!
//! Malformed RTP is refused by the masker and counted (`packets_refused`); RTP from any address
//! but the caller's SDP address never gets here (dropped and counted by [`crate::sip::leg`]).
//!
//! Keys the caller's phone signals by SIP INFO reach the masker as out-of-band keys
//! ([`Masker::handle_signalled_key`]), like RFC 4733 ones.
//!
//! An IVR in the caller's room speaks to the caller: its prompts come down the same channel as
//! the agents' audio ([`PhoneEar`]), which stops reaching the caller while the IVR runs; the
//! agents hear the hold audio, never the caller, until the IVR hands the caller back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hushpay_auth::{Grants, Role};
use hushpay_media::g711::Law;
use hushpay_media::masker::{G711Audio, Masker, MaskerConfig, Output};
use hushpay_media::rtp::{RtpBuilder, RtpPacket};
use hushpay_media::transcode::{G711ToOpus, OpusToG711};
use hushpay_sip::dispatch::RoomTarget;
use hushpay_sip::sdp::Codec;
use tokio::sync::{mpsc, oneshot};

use super::Sfu;
use super::ivr_audio::PhoneEar;
use super::media::MediaEngine;
use super::participant::Participant;
use super::room::{Room, RoomKey};
use super::secure::SecureFollower;
use super::signal::ServerMessage;
use super::streams::PhoneSink;
use crate::app::AppState;
use crate::sip::leg::{LegEvent, PhoneCall, PhoneLeg};

/// The Opus payload type of a phone caller's packets toward the engine and the recorder (the
/// engine sends each downlink with the type its peer negotiated).
const OPUS_PT: u8 = 111;
/// Agent packets queued toward one caller before they are dropped (≈ 1 s).
const AGENT_QUEUE: usize = 50;

/// What a phone caller may do: publish its audio and hear the agents; no chat, no payments.
const PHONE_GRANTS: Grants = Grants {
    can_publish: true,
    can_subscribe: true,
    can_chat: false,
    can_request_payment: false,
    can_view_recordings: false,
};

static NEXT_PHONE: AtomicU64 = AtomicU64::new(1);

/// Takes answered calls for the life of the listener; each joins its room on its own task (a
/// call to a hand-off payment is checked and answered first, [`super::hand_off`]).
pub async fn serve_calls(state: AppState, mut calls: mpsc::Receiver<PhoneCall>) {
    while let Some(call) = calls.recv().await {
        let guard = state.sfu.task_guard();
        let state = state.clone();
        tokio::spawn(async move {
            let _guard = guard;
            if call.room == RoomTarget::Payment {
                super::hand_off::run(state, call).await;
            } else {
                run_call(Arc::clone(&state.sfu), call).await;
            }
        });
    }
}

/// The room a call goes to.
fn room_name(target: &RoomTarget) -> String {
    match target {
        RoomTarget::Room(name) => name.clone(),
        _ => format!("rm_{}", uuid::Uuid::new_v4().simple()),
    }
}

fn law(codec: Codec) -> Option<Law> {
    match codec {
        Codec::Pcmu => Some(Law::Mu),
        Codec::Pcma => Some(Law::A),
        _ => None,
    }
}

async fn run_call(sfu: Arc<Sfu>, mut call: PhoneCall) {
    let key = RoomKey {
        tenant: call.tenant.clone(),
        name: room_name(&call.room),
    };
    let Some((room, p, mut path)) = enter(&sfu, &mut call, key).await else {
        return;
    };
    path.run(&mut call.leg, None).await;
    leave(&sfu, &room, &p).await;
}

/// The caller joins room `key` as its patient, its media path ready; `None` when it cannot
/// (the call is hung up then).
pub(super) async fn enter(
    sfu: &Arc<Sfu>,
    call: &mut PhoneCall,
    key: RoomKey,
) -> Option<(Arc<Room>, Arc<Participant>, PhonePatient)> {
    let Some(law) = law(call.codec) else {
        tracing::warn!(
            call = call.call.0,
            "phone call with a codec the masker cannot read"
        );
        hang_up(&mut call.leg).await;
        return None;
    };
    // The caller has no signalling session: frames addressed to it are dropped.
    let (out, _) = mpsc::channel(1);
    let identity = format!("phone:{}", call.call.0);
    let p = Arc::new(Participant::new(identity, Role::Patient, PHONE_GRANTS, out));
    let room = match sfu
        .join(&key, hushpay_auth::unix_now(), Arc::clone(&p))
        .await
    {
        Ok(room) => room,
        Err(e) => {
            tracing::warn!(call = call.call.0, tenant = %key.tenant, error = ?e, "phone caller cannot join its room");
            hang_up(&mut call.leg).await;
            return None;
        }
    };
    tracing::info!(call = call.call.0, tenant = %key.tenant, room = %key.name, "phone caller joined as the patient");
    room.broadcast(
        &ServerMessage::ParticipantJoined {
            participant: p.info(),
        },
        &p.id,
    );
    sfu.update_gauges();
    match PhonePatient::new(sfu, &room, &p, law, call.telephone_event) {
        Ok(path) => Some((room, p, path)),
        Err(e) => {
            tracing::error!(error = %e, "cannot create the phone caller's masker; its audio is not forwarded");
            room.secure.follower().caller_hung_up();
            hang_up(&mut call.leg).await;
            leave(sfu, &room, &p).await;
            None
        }
    }
}

/// Hangs a call up and reads its leg until it has ended (audio dropped).
pub(super) async fn hang_up(leg: &mut PhoneLeg) {
    leg.hang_up();
    while let Some(ev) = leg.recv().await {
        if matches!(ev, LegEvent::Ended(_)) {
            break;
        }
    }
}

pub(super) async fn leave(sfu: &Arc<Sfu>, room: &Arc<Room>, p: &Participant) {
    p.release().await;
    let empty = sfu.rooms.leave(room, &p.id);
    room.broadcast(
        &ServerMessage::ParticipantLeft {
            participant_id: p.id.clone(),
        },
        &p.id,
    );
    if empty && !room.is_closed() {
        sfu.schedule_empty_close(room.key.clone());
    }
    sfu.update_gauges();
}

/// Where a hand-off payment's caller goes when the payment ends ([`super::hand_off`]).
#[derive(Debug)]
pub struct SendBack {
    /// Transfer (REFER) to this URI, else hang up (BYE).
    pub target: Option<String>,
    /// The result, on the REFER and on the BYE.
    pub headers: Vec<(String, String)>,
}

/// A caller being sent back: the result headers for the BYE, and while a transfer runs, when
/// to give up on it.
struct SendingBack {
    headers: Vec<(String, String)>,
    transfer_until: Option<Instant>,
}

/// How long a transfer may take before the call is hung up anyway.
const TRANSFER_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// One caller's media, on its own task.
pub(super) struct PhonePatient {
    room: Arc<Room>,
    participant_id: String,
    sfu_metrics: Arc<crate::metrics::Metrics>,
    recorder: Arc<dyn super::forward::RecorderTap>,
    engine: MediaEngine,
    sink_id: u64,
    agents: mpsc::Receiver<Arc<[u8]>>,
    masker: Masker,
    secure: SecureFollower,
    to_opus: G711ToOpus,
    to_caller: OpusToG711,
    timeout: Option<Instant>,
    /// The caller put us on hold (its re-INVITE was `sendonly` or `inactive`): nothing is sent
    /// to it until it resumes.
    held: bool,
    /// Our stream toward the caller: payload type, sequence number, timestamp, SSRC.
    out_pt: u8,
    out_seq: u16,
    out_ts: u32,
    out_ssrc: u32,
    /// Being sent back ([`SendBack`]).
    sending_back: Option<SendingBack>,
}

impl PhonePatient {
    fn new(
        sfu: &Sfu,
        room: &Arc<Room>,
        p: &Participant,
        law: Law,
        telephone_event: Option<u8>,
    ) -> Result<Self, hushpay_media::MediaError> {
        let pt = if law == Law::Mu { 0 } else { 8 };
        let mut masker = Masker::new(MaskerConfig {
            g711: Some(G711Audio { pt, law }),
            event_pts: telephone_event.map(|pt| (pt, 8_000)).into_iter().collect(),
            ..MaskerConfig::default()
        })?;
        let mut secure = room.secure.follower();
        secure.apply(Instant::now(), &mut masker);
        let (to_opus, to_caller) = (G711ToOpus::new(law)?, OpusToG711::new(law)?);
        // attached last: nothing after it can fail (run's end detaches it)
        let (tx, agents) = mpsc::channel(AGENT_QUEUE);
        let sink_id = NEXT_PHONE.fetch_add(1, Ordering::Relaxed);
        let engine = sfu.media.get(room.worker).clone();
        p.set_phone_ear(Arc::new(PhoneEar::new(tx.clone())));
        engine.attach_phone(Arc::clone(room), PhoneSink { id: sink_id, tx });
        Ok(Self {
            room: Arc::clone(room),
            participant_id: p.id.clone(),
            sfu_metrics: Arc::clone(&sfu.metrics),
            recorder: Arc::clone(&sfu.recorder),
            engine,
            sink_id,
            agents,
            masker,
            secure,
            to_opus,
            to_caller,
            timeout: None,
            held: false,
            out_pt: pt,
            out_seq: rand::random(),
            out_ts: rand::random(),
            out_ssrc: rand::random(),
            sending_back: None,
        })
    }

    /// Carries the call's media until it ends; `send_back`, when it fires, sends the caller
    /// back (a transfer, then a BYE; or a BYE).
    pub(super) async fn run(
        &mut self,
        leg: &mut PhoneLeg,
        mut send_back: Option<oneshot::Receiver<SendBack>>,
    ) {
        let closed = room_closed(self.room.closed());
        tokio::pin!(closed);
        loop {
            let deadline = self.timeout.map(tokio::time::Instant::from_std);
            let give_up = self
                .sending_back
                .as_ref()
                .and_then(|b| b.transfer_until.map(tokio::time::Instant::from_std));
            tokio::select! {
                ev = leg.recv() => match ev {
                    Some(LegEvent::Rtp(bytes)) => self.caller_rtp(bytes),
                    Some(LegEvent::Hold(held)) => self.held = held,
                    Some(LegEvent::Key(key, held)) => self.signalled_key(key, held),
                    Some(LegEvent::Transferred(outcome)) => {
                        tracing::info!(?outcome, "phone caller transferred back");
                        self.hang_up_after_transfer(leg);
                    }
                    Some(LegEvent::Ended(reason)) => {
                        tracing::info!(?reason, "phone caller hung up");
                        break;
                    }
                    // the listener is gone: the call is too
                    None => break,
                },
                Some(opus) = self.agents.recv() => {
                    if !self.held {
                        self.agent_audio(leg, &opus).await;
                    }
                }
                () = self.secure.changed() => {
                    self.secure.apply(Instant::now(), &mut self.masker);
                    self.drain();
                }
                () = sleep_until(deadline) => {
                    self.masker.handle_timeout(Instant::now());
                    self.drain();
                }
                Some(back) = recv_once(&mut send_back) => self.send_back(leg, back),
                () = sleep_until(give_up) => {
                    tracing::warn!("the transfer back took too long; hanging up");
                    self.hang_up_after_transfer(leg);
                }
                () = &mut closed => {
                    leg.hang_up();
                    break;
                }
            }
        }
        self.finish();
    }

    fn send_back(&mut self, leg: &PhoneLeg, back: SendBack) {
        match back.target {
            Some(target) => {
                let uri = crate::sip::hand_off::with_uri_headers(&target, &back.headers);
                leg.transfer(uri, back.headers.clone());
                self.sending_back = Some(SendingBack {
                    headers: back.headers,
                    transfer_until: Some(Instant::now() + TRANSFER_WAIT),
                });
            }
            None => {
                leg.hang_up_with(back.headers.clone());
                self.sending_back = Some(SendingBack {
                    headers: back.headers,
                    transfer_until: None,
                });
            }
        }
    }

    /// The transfer went one way or the other (or took too long): the BYE, with the result.
    fn hang_up_after_transfer(&mut self, leg: &PhoneLeg) {
        if let Some(b) = &mut self.sending_back
            && b.transfer_until.take().is_some()
        {
            leg.hang_up_with(b.headers.clone());
        }
    }

    fn caller_rtp(&mut self, bytes: Vec<u8>) {
        let now = Instant::now();
        if self.secure.has_changed() {
            self.secure.apply(now, &mut self.masker);
        }
        let m = &self.sfu_metrics.sfu;
        m.packets_in.fetch_add(1, Ordering::Relaxed);
        if self.masker.handle_rtp_owned(now, bytes).is_err() {
            m.packets_refused.fetch_add(1, Ordering::Relaxed);
        }
        self.drain();
    }

    /// A key from the caller's SIP INFO: to the masker like an RFC 4733 key (one digit with
    /// the same key in-band, to the collector in secure mode).
    fn signalled_key(&mut self, key: char, held: Option<std::time::Duration>) {
        let Some(digit) = hushpay_media::Digit::from_char(key) else {
            return;
        };
        let now = Instant::now();
        if self.secure.has_changed() {
            self.secure.apply(now, &mut self.masker);
        }
        self.masker.handle_signalled_key(now, digit, held);
        self.drain();
    }

    /// Hands on what the masker released; keeps its next deadline.
    fn drain(&mut self) {
        self.timeout = None;
        while let Some(out) = self.masker.poll_output() {
            match out {
                Output::Timeout(t) => {
                    self.timeout = Some(t);
                    break;
                }
                Output::Forward(f) => self.forward(&f.bytes, f.masked),
                Output::Digit(d) => {
                    self.sfu_metrics
                        .sfu
                        .digits_captured
                        .fetch_add(1, Ordering::Relaxed);
                    self.room.digit_keyed(d);
                }
                Output::Collector(ev) => self.secure.collector_event(&mut self.masker, ev),
                _ => {}
            }
        }
    }

    /// One masked G.711 packet: to Opus, to the recorder and the patient downlinks.
    fn forward(&mut self, g711_rtp: &[u8], masked: bool) {
        let m = &self.sfu_metrics.sfu;
        if masked {
            m.packets_masked.fetch_add(1, Ordering::Relaxed);
        }
        let Ok(pkt) = RtpPacket::parse(g711_rtp) else {
            return;
        };
        let payload = match self.to_opus.transcode(pkt.payload, masked) {
            Ok(p) => p,
            // not one Opus frame long (an odd ptime): nothing of it is forwarded
            Err(_) => {
                m.packets_refused.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        // 8 kHz to 48 kHz: a factor, so the clock stays continuous across the wrap
        let timestamp = pkt.timestamp.wrapping_mul(6);
        let header = (pkt.marker, pkt.sequence, timestamp);
        if self.recorder.records() {
            let rtp = RtpBuilder {
                marker: pkt.marker,
                payload_type: OPUS_PT,
                sequence: pkt.sequence,
                timestamp,
                ssrc: pkt.ssrc,
            }
            .build(&payload);
            self.recorder.packet(
                &self.room,
                &self.participant_id,
                Role::Patient,
                &rtp,
                masked,
            );
        }
        self.engine
            .phone_audio(Arc::clone(&self.room), header, Arc::from(payload));
    }

    /// One agent Opus packet to the caller as G.711.
    async fn agent_audio(&mut self, leg: &PhoneLeg, opus: &[u8]) {
        let Ok(g711) = self.to_caller.transcode(opus) else {
            return;
        };
        let rtp = RtpBuilder {
            marker: false,
            payload_type: self.out_pt,
            sequence: self.out_seq,
            timestamp: self.out_ts,
            ssrc: self.out_ssrc,
        }
        .build(&g711);
        self.out_seq = self.out_seq.wrapping_add(1);
        self.out_ts = self
            .out_ts
            .wrapping_add(u32::try_from(g711.len()).unwrap_or(160));
        let _ = leg.send_rtp(rtp).await;
    }

    /// The call is over: what is held goes out, the secure session hears the hang-up, the
    /// engine forgets the caller.
    fn finish(&mut self) {
        self.masker.flush(Instant::now());
        self.drain();
        drop(self.masker.exit_secure_mode());
        self.secure.caller_hung_up();
        self.engine
            .detach_phone(Arc::clone(&self.room), self.sink_id);
    }
}

/// The value of `rx` once (then never again); pending without one.
async fn recv_once<T>(rx: &mut Option<oneshot::Receiver<T>>) -> Option<T> {
    let Some(r) = rx.as_mut() else {
        return std::future::pending().await;
    };
    let v = r.await.ok();
    *rx = None;
    v
}

/// Resolves when the room closes.
async fn room_closed(mut closed: tokio::sync::watch::Receiver<bool>) {
    let _ = closed.wait_for(|c| *c).await;
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
