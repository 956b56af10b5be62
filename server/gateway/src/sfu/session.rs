//! One signalling session: a WebSocket from a participant, from authentication to release.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::broadcast;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use hushpay_auth::{Claims, Expectation, Role};
use tokio::sync::mpsc;

use super::Sfu;
use super::forward::Downlink;
use super::limits::RateLimiter;
use super::media::DATA_QUEUE;
use super::participant::{Participant, PeerHandle, Source};
use super::relay;
use super::room::{JoinError, Room, RoomKey};
use super::signal::{self, ClientMessage, PROTOCOL_VERSION, ServerMessage, codes};
use super::streams::{AgentPath, MediaPath, PatientPath, StreamContext};
use crate::app::AppState;
use crate::sfu::credential::Credential;
use crate::token_auth::{self, TokenRefusal};

mod credential_checks;

/// Close code when the credential fails: a bad first-frame token, and a session whose token
/// expired or whose API key was revoked (application range).
pub const CLOSE_AUTH: u16 = 4401;
/// Close code after a `redirect` (cluster): join again at the URL it names.
pub const CLOSE_REDIRECT: u16 = 4302;

/// Validates a participant token and its API key ([`token_auth::participant`]); the error is
/// the refusal, with its code and HTTP status.
pub async fn authenticate(state: &AppState, token: &str) -> Result<Claims, TokenRefusal> {
    token_auth::participant(state, token, Expectation::any_tenant()).await
}

/// Runs a session to its end. `claims` is `None` when the token must come as the first frame.
pub async fn run(mut ws: WebSocket, state: AppState, claims: Option<Claims>) {
    let sfu = Arc::clone(&state.sfu);
    let _guard = sfu.task_guard();
    let claims = match claims {
        Some(c) => c,
        None => match first_frame_auth(&mut ws, &state).await {
            Some(c) => c,
            None => return,
        },
    };
    let (tx, rx) = mpsc::channel(256);
    let participant = Arc::new(Participant::new(
        claims.sub.as_str().to_owned(),
        claims.role,
        claims.grants,
        tx,
    ));
    let mut session = Session {
        key: RoomKey {
            tenant: claims.tenant.as_str().to_owned(),
            name: claims.room.as_str().to_owned(),
        },
        sfu,
        participant,
        room: None,
        limiter: RateLimiter::new(state.sfu.config.messages_per_sec),
        credential: Credential::new(claims, state.tokens.validator.config().leeway_secs),
        revocations: state.tokens.revocations(),
        state,
    };
    session.serve(ws, rx).await;
    session.cleanup().await;
}

async fn send(ws: &mut WebSocket, msg: &ServerMessage) -> bool {
    match serde_json::to_string(msg) {
        Ok(json) => ws.send(Message::Text(json.into())).await.is_ok(),
        Err(_) => false,
    }
}

async fn close(ws: &mut WebSocket, code: u16, reason: &'static str) {
    let _ = ws
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })))
        .await;
}

async fn first_frame_auth(ws: &mut WebSocket, state: &AppState) -> Option<Claims> {
    let limit = state.sfu.config.max_message_bytes;
    let frame = tokio::time::timeout(state.sfu.config.auth_timeout, ws.recv()).await;
    let text = match frame {
        Ok(Some(Ok(Message::Text(t)))) if t.len() <= limit => t,
        Ok(Some(Ok(_))) | Err(_) => {
            send(
                ws,
                &ServerMessage::error(
                    codes::MISSING_TOKEN,
                    "send the access token as `?access_token=`, an Authorization header, or a first {\"type\":\"auth\"} frame",
                ),
            )
            .await;
            close(ws, CLOSE_AUTH, "unauthenticated").await;
            return None;
        }
        Ok(_) => return None,
    };
    let result = match signal::parse(&text) {
        Ok(ClientMessage::Auth { token }) => authenticate(state, &token)
            .await
            .map_err(|e| (e.code(), e.to_string())),
        _ => Err((
            codes::MISSING_TOKEN,
            "the first frame must be {\"type\":\"auth\",\"token\":\"...\"}".to_owned(),
        )),
    };
    match result {
        Ok(c) => Some(c),
        Err((code, message)) => {
            send(ws, &ServerMessage::error(code, message)).await;
            close(ws, CLOSE_AUTH, "unauthenticated").await;
            None
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
    /// Stop because the credential is refused (close code [`CLOSE_AUTH`]).
    Refused,
    /// Stop because the room is on another node (`redirect` sent; close code
    /// [`CLOSE_REDIRECT`]).
    Redirected,
}

/// Sleeps until `at`, or forever when there is nothing to wait for.
async fn sleep_until_some(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

struct Session {
    sfu: Arc<Sfu>,
    participant: Arc<Participant>,
    key: RoomKey,
    room: Option<Arc<Room>>,
    limiter: RateLimiter,
    /// The token the session runs on (the latest accepted `refresh`) and its deadlines.
    credential: Credential,
    /// API keys revoked on this node.
    revocations: broadcast::Receiver<String>,
    state: AppState,
}

impl Session {
    async fn serve(&mut self, mut ws: WebSocket, mut rx: mpsc::Receiver<ServerMessage>) {
        let idle = self.sfu.config.idle_timeout;
        let mut deadline = Instant::now() + idle;
        let mut closed: Option<tokio::sync::watch::Receiver<bool>> = None;
        let mut recheck = tokio::time::interval(self.sfu.config.credential_recheck);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        recheck.reset();
        let mut end = (1000, "bye");
        // The sender lives in `AppState` as long as this session; `false` only if it closed.
        let mut announced = true;
        loop {
            let room_closed = async {
                match closed.as_mut() {
                    Some(c) => {
                        let _ = c.wait_for(|v| *v).await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            let warn_at = self.credential.warn_at();
            tokio::select! {
                frame = ws.recv() => {
                    deadline = Instant::now() + idle;
                    let flow = match frame {
                        Some(Ok(Message::Text(t))) => self.on_text(&mut ws, &t).await,
                        Some(Ok(Message::Binary(_))) => {
                            send(&mut ws, &ServerMessage::error(codes::BAD_MESSAGE, "binary frames are not part of the protocol")).await;
                            Flow::Continue
                        }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => Flow::Stop,
                        Some(Ok(_)) => Flow::Continue,
                    };
                    match flow {
                        Flow::Continue => {}
                        Flow::Stop => break,
                        Flow::Refused => {
                            end = (CLOSE_AUTH, "credential refused");
                            break;
                        }
                        Flow::Redirected => {
                            end = (CLOSE_REDIRECT, "redirect");
                            break;
                        }
                    }
                    if closed.is_none() {
                        closed = self.room.as_ref().map(|r| r.closed());
                    }
                }
                Some(msg) = rx.recv() => {
                    let stop = matches!(msg, ServerMessage::RoomClosed { .. });
                    if !send(&mut ws, &msg).await || stop {
                        break;
                    }
                }
                () = room_closed => {
                    send(&mut ws, &ServerMessage::RoomClosed { reason: "ended".into() }).await;
                    break;
                }
                () = tokio::time::sleep_until(deadline.into()) => {
                    send(&mut ws, &ServerMessage::error("idle_timeout", "no message within the idle timeout")).await;
                    break;
                }
                () = tokio::time::sleep_until(self.credential.expires_at().into()) => {
                    send(&mut ws, &ServerMessage::TokenExpired { exp: self.credential.claims().exp }).await;
                    end = (CLOSE_AUTH, "token expired");
                    break;
                }
                () = sleep_until_some(warn_at) => {
                    send(&mut ws, &self.credential.warning()).await;
                    self.credential.warned();
                }
                revoked = self.revocations.recv(), if announced => {
                    let hit = match revoked {
                        Ok(key) => self.credential.claims().akid.as_deref() == Some(key.as_str()),
                        // Missed announcements: ask the store.
                        Err(broadcast::error::RecvError::Lagged(_)) => self.key_refused().await.is_some(),
                        Err(broadcast::error::RecvError::Closed) => {
                            announced = false;
                            false
                        }
                    };
                    if hit {
                        self.end_revoked(&mut ws).await;
                        end = (CLOSE_AUTH, "token revoked");
                        break;
                    }
                }
                _ = recheck.tick() => {
                    if self.key_refused().await.is_some() {
                        self.end_revoked(&mut ws).await;
                        end = (CLOSE_AUTH, "token revoked");
                        break;
                    }
                }
            }
        }
        close(&mut ws, end.0, end.1).await;
    }

    async fn on_text(&mut self, ws: &mut WebSocket, text: &str) -> Flow {
        if text.len() > self.sfu.config.max_message_bytes {
            send(
                ws,
                &ServerMessage::error(codes::MESSAGE_TOO_LARGE, "frame is over the size limit"),
            )
            .await;
            return Flow::Continue;
        }
        if !self.limiter.allow(Instant::now()) {
            send(
                ws,
                &ServerMessage::error(codes::RATE_LIMITED, "too many messages"),
            )
            .await;
            return Flow::Continue;
        }
        let msg = match signal::parse(text) {
            Ok(m) => m,
            Err((code, message)) => {
                send(ws, &ServerMessage::error(code, message)).await;
                return Flow::Continue;
            }
        };
        let reply = match msg {
            ClientMessage::Auth { .. } => Err((codes::BAD_MESSAGE, "already authenticated".into())),
            ClientMessage::Join { v } => return self.join(ws, v).await,
            ClientMessage::Offer { sdp } => self.offer(&sdp).await.map(Some),
            ClientMessage::Candidate {
                candidate,
                sdp_mid,
                sdp_mline_index,
            } => self
                .candidate(candidate, sdp_mid, sdp_mline_index)
                .await
                .map(|()| None),
            ClientMessage::Mute { muted } => self.mute(muted),
            ClientMessage::Ping { nonce } => Ok(Some(ServerMessage::Pong { nonce })),
            ClientMessage::Leave => return Flow::Stop,
            ClientMessage::Recording { action } => self.recording(action).await,
            ClientMessage::Refresh { token } => self.refresh(&token).await.map(Some),
        };
        match reply {
            Ok(Some(m)) => {
                send(ws, &m).await;
            }
            Ok(None) => {}
            Err((code, message)) => {
                send(ws, &ServerMessage::error(code, message)).await;
            }
        }
        Flow::Continue
    }

    async fn join(&mut self, ws: &mut WebSocket, v: Option<u32>) -> Flow {
        if v.is_some_and(|v| v != PROTOCOL_VERSION) {
            send(
                ws,
                &ServerMessage::error(codes::UNSUPPORTED_VERSION, "this server speaks v1"),
            )
            .await;
            return Flow::Stop;
        }
        if self.room.is_some() {
            send(
                ws,
                &ServerMessage::error(codes::ALREADY_JOINED, "already in the room"),
            )
            .await;
            return Flow::Continue;
        }
        if let Some(refusal) = self.key_refused().await {
            self.state.metrics.auth_failure(refusal.code());
            send(
                ws,
                &ServerMessage::error(refusal.code(), refusal.to_string()),
            )
            .await;
            return Flow::Refused;
        }
        let joined = self
            .sfu
            .join(
                &self.key,
                // A room ended after this token was issued refuses the join.
                self.credential.claims().iat,
                Arc::clone(&self.participant),
            )
            .await;
        let room = match joined {
            Ok(r) => r,
            Err(e) => {
                let (code, message) = match e {
                    JoinError::Elsewhere(node) => {
                        send(
                            ws,
                            &ServerMessage::Redirect {
                                url: node.public_url,
                                node: node.node_id,
                            },
                        )
                        .await;
                        return Flow::Redirected;
                    }
                    JoinError::ClusterUnavailable => (
                        codes::CLUSTER_UNAVAILABLE,
                        "this gateway cannot place the room now; try again",
                    ),
                    JoinError::Draining => (
                        codes::NODE_DRAINING,
                        "this gateway is shutting down and takes no new room; try again",
                    ),
                    JoinError::RoomFull => (codes::ROOM_FULL, "the room is full"),
                    JoinError::TooManyRooms => {
                        (codes::TOO_MANY_ROOMS, "the tenant has too many rooms")
                    }
                    JoinError::RoleTaken => (codes::ROLE_TAKEN, "the room already has a patient"),
                    JoinError::Closed => (codes::ROOM_CLOSED, "the room has ended"),
                    JoinError::Ended => (
                        codes::ROOM_ENDED,
                        "the room was ended after this token was issued; ask for a new token",
                    ),
                    JoinError::StoreUnavailable => (
                        codes::STORAGE_UNAVAILABLE,
                        "the room's settings cannot be read; try again",
                    ),
                    JoinError::UnknownTenant => (codes::FORBIDDEN, "the token's tenant is unknown"),
                };
                send(ws, &ServerMessage::error(code, message)).await;
                return Flow::Stop;
            }
        };
        let me = self.participant.info();
        let others = room
            .participants()
            .iter()
            .filter(|p| p.id != self.participant.id)
            .map(|p| p.info())
            .collect();
        room.broadcast(
            &ServerMessage::ParticipantJoined {
                participant: me.clone(),
            },
            &self.participant.id,
        );
        let recording = match self.participant.role {
            Role::Agent | Role::Supervisor => self.sfu.recorder.state(&room),
            _ => None,
        };
        self.room = Some(room);
        self.sfu.update_gauges();
        send(
            ws,
            &ServerMessage::Joined {
                v: PROTOCOL_VERSION,
                room: self.key.name.clone(),
                participant: me,
                participants: others,
                ice_servers: self.ice_servers(),
            },
        )
        .await;
        if let Some(recording) = recording {
            send(ws, &ServerMessage::Recording { recording }).await;
        }
        Flow::Continue
    }

    /// This participant's TURN servers and credentials, minted now.
    fn ice_servers(&self) -> Vec<crate::ice::turn::IceServer> {
        self.sfu
            .config
            .turn
            .ice_servers(&self.participant.id, hushpay_auth::unix_now())
    }

    fn joined(&self) -> Result<Arc<Room>, (&'static str, String)> {
        self.room
            .clone()
            .ok_or((codes::NOT_JOINED, "send `join` first".to_owned()))
    }

    async fn offer(&mut self, sdp: &str) -> Result<ServerMessage, (&'static str, String)> {
        let room = self.joined()?;
        if self.participant.peer().is_some() {
            return Err((
                "renegotiation_unsupported",
                "this server accepts one offer per session".to_owned(),
            ));
        }
        let neg = hushpay_rtc::sdp::negotiated_audio(sdp).ok_or((
            codes::INVALID_SDP,
            "the offer has no audio section with Opus".to_owned(),
        ))?;
        let p = Arc::clone(&self.participant);
        // One downlink per audio section the offer has, in the order the role hears them (a
        // supervisor offering one section hears the patient; offering two, both).
        let heard: &[Source] = if p.grants.can_subscribe {
            let all = Source::heard_by(p.role);
            &all[..all.len().min(audio_sections(sdp))]
        } else {
            &[]
        };
        let (data_tx, data) = mpsc::channel(DATA_QUEUE);
        let engine = self.sfu.media.get(room.worker).clone();
        let (id, answer) = engine.accept(sdp.to_owned(), data_tx).await.map_err(|e| {
            tracing::debug!(error = %e, "offer refused");
            (
                codes::INVALID_SDP,
                "the offer could not be applied".to_owned(),
            )
        })?;
        let peer = PeerHandle { engine, id };
        p.set_peer(peer.clone());
        let downlinks: Vec<Arc<Downlink>> = heard
            .iter()
            .enumerate()
            .map(|(section, &source)| {
                Arc::new(Downlink::new(source, peer.engine.clone(), id, section))
            })
            .collect();
        for d in &downlinks {
            p.add_downlink(Arc::clone(d));
        }
        let path = self.media_path(&room, &neg);
        if matches!(path, MediaPath::Patient(_)) {
            p.own(tokio::spawn(poke_on_secure_change(
                Arc::clone(&room),
                peer.clone(),
            )));
        }
        peer.engine.attach(id, Arc::clone(&room), path, downlinks);
        let chat = relay::chat_loop(Arc::clone(&self.sfu), room, Arc::clone(&p), peer, data);
        p.own(tokio::spawn(chat));
        // Behind a 1:1 NAT the candidates carry the public address (rtc.public_ip).
        let sdp = match self.sfu.config.advertise() {
            Some(adv) => adv.sdp(&answer),
            None => answer,
        };
        Ok(ServerMessage::Answer { sdp })
    }

    /// What the engine does with this participant's audio.
    fn media_path(&self, room: &Arc<Room>, neg: &hushpay_rtc::sdp::NegotiatedAudio) -> MediaPath {
        let p = &self.participant;
        let ctx = || StreamContext {
            room: Arc::clone(room),
            participant_id: p.id.clone(),
            metrics: Arc::clone(&self.sfu.metrics),
            recorder: Arc::clone(&self.sfu.recorder),
        };
        match p.role {
            _ if !p.grants.can_publish => MediaPath::Drain,
            Role::Patient => match PatientPath::new(Instant::now(), ctx(), neg) {
                Ok(path) => MediaPath::Patient(Box::new(path)),
                Err(e) => {
                    tracing::error!(error = %e, "cannot create the masker; patient audio is not forwarded");
                    MediaPath::Drain
                }
            },
            Role::Agent => MediaPath::Agent(AgentPath::new(ctx(), neg)),
            _ => MediaPath::Drain,
        }
    }

    async fn candidate(
        &mut self,
        candidate: Option<String>,
        _sdp_mid: Option<String>,
        _sdp_mline_index: Option<u16>,
    ) -> Result<(), (&'static str, String)> {
        self.joined()?;
        let peer = self.participant.peer().ok_or((
            codes::NOT_JOINED,
            "send `offer` before candidates".to_owned(),
        ))?;
        let Some(candidate) = candidate.filter(|c| !c.trim().is_empty()) else {
            return Ok(()); // end of candidates
        };
        peer.engine.candidate(peer.id, &candidate).map_err(|_| {
            (
                codes::INVALID_CANDIDATE,
                "the ICE candidate was refused".to_owned(),
            )
        })
    }

    fn mute(&mut self, muted: bool) -> Result<Option<ServerMessage>, (&'static str, String)> {
        let room = self.joined()?;
        self.participant.set_muted(muted);
        room.broadcast(
            &ServerMessage::Mute {
                participant_id: self.participant.id.clone(),
                muted,
            },
            "",
        );
        Ok(None)
    }

    /// A manual pause or resume of the room's recording.
    async fn recording(
        &mut self,
        action: signal::RecordingAction,
    ) -> Result<Option<ServerMessage>, (&'static str, String)> {
        let room = self.joined()?;
        let p = &self.participant;
        let allowed = match p.role {
            Role::Agent => p.grants.can_request_payment,
            Role::Supervisor => p.grants.can_view_recordings,
            _ => false,
        };
        if !allowed {
            return Err((
                codes::FORBIDDEN,
                "pausing the recording needs an agent with canRequestPayment or a supervisor with canViewRecordings".to_owned(),
            ));
        }
        let by = format!("{}:{}", p.role.as_str(), p.identity);
        let pause = action == signal::RecordingAction::Pause;
        match self.sfu.recorder.manual(&room, &by, pause).await {
            // The state goes to every agent and supervisor of the room (this one included).
            Some(Ok(_)) => Ok(None),
            // Audit or deny: a resume that cannot be audited leaves the room paused; a pause
            // holds even so, and the agent is told it was not audited.
            Some(Err(_)) => Err((
                codes::AUDIT_UNAVAILABLE,
                if pause {
                    "the recording is paused, but the pause could not be audited".to_owned()
                } else {
                    "the recording stays paused: the resume could not be audited".to_owned()
                },
            )),
            None => Err((
                codes::RECORDING_OFF,
                "this gateway does not record calls".to_owned(),
            )),
        }
    }

    async fn cleanup(&mut self) {
        self.participant.release().await;
        if let Some(room) = self.room.take() {
            let empty = self.sfu.rooms.leave(&room, &self.participant.id);
            room.broadcast(
                &ServerMessage::ParticipantLeft {
                    participant_id: self.participant.id.clone(),
                },
                &self.participant.id,
            );
            if empty && !room.is_closed() {
                self.sfu.schedule_empty_close(room.key.clone());
            }
        }
        self.sfu.update_gauges();
    }
}

/// How many audio sections an offer has.
fn audio_sections(sdp: &str) -> usize {
    sdp.lines().filter(|l| l.starts_with("m=audio ")).count()
}

/// Tells the engine when the room's secure state changes, so that the patient's masker
/// enters or leaves secure mode at once rather than at its next packet.
async fn poke_on_secure_change(room: Arc<Room>, peer: PeerHandle) {
    let mut follower = room.secure.follower();
    loop {
        follower.changed().await;
        peer.engine.poke(peer.id);
    }
}
