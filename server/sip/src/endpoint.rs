//! The UAS state machine: datagrams and TCP frames in, responses and call events out.
//!
//! Order of checks for every request, cheapest and most defensive first: size and header
//! limits; a source no trunk admits gets `403` and nothing is kept; a malformed request `400`;
//! then per method. A new INVITE is authorised (allowlist, else digest), checked for
//! Max-Forwards, routed (dispatch rules of the trunk's tenant), its offer negotiated and the call
//! limits applied before any call state exists; only then `100 Trying` and
//! [`Event::IncomingCall`]. The application binds an RTP socket and calls [`Endpoint::answer`].

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use ezk_sip_types::header::typed::AuthResponse;
use ezk_sip_types::{Headers, Method};
use sha2::{Digest, Sha256};

use crate::call::{ACK_WAIT, ANSWER_WAIT, ByeTx, Call, CallState, InviteTx, ReferTx, Retransmit};
use crate::config::SipConfig;
use crate::digest::{self, Nonces, Verdict};
use crate::dispatch::{self, CallFacts, RoomTarget};
use crate::dtmf_info;
use crate::message::{self, Parsed, Request, ResponseHead};
use crate::request::{self, ByeParams};
use crate::response::Response;
use crate::sdp::{self, Codec, Negotiated};
use crate::{SipError, trunk::DigestAlgorithm};

mod transfer;

pub use transfer::TransferOutcome;

const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, NOTIFY";
/// How long a final response to a non-INVITE request (and a refusal) answers retransmissions.
const RESPONSE_CACHE_TTL: Duration = Duration::from_secs(32);

/// The transport a message came on (responses go back the same way).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
    /// TCP inside TLS (the gateway terminates it; framing as TCP).
    Tls,
}

impl Transport {
    /// A stream transport: no retransmissions of our own.
    pub fn is_reliable(self) -> bool {
        self != Transport::Udp
    }

    /// The name in a Via header.
    pub fn via_name(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// The `transport` URI parameter of a Contact reached over this transport.
    pub fn uri_param(self) -> &'static str {
        match self {
            Transport::Udp => "",
            Transport::Tcp => ";transport=tcp",
            Transport::Tls => ";transport=tls",
        }
    }
}

/// The other end of a message: transport and address (the TCP connection's peer address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

/// One message received.
#[derive(Debug, Clone, Copy)]
pub struct Input<'a> {
    pub peer: Peer,
    /// Our address as the peer should see it (Contact of our 200 OK).
    pub local: SocketAddr,
    pub bytes: &'a [u8],
}

/// A call, as the application names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CallId(pub u64);

/// A call offered to the application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomingCall {
    pub call: CallId,
    pub trunk: String,
    pub tenant: String,
    pub room: RoomTarget,
    /// The Request-URI's user part (the called number), if any.
    pub called: Option<String>,
    pub remote_rtp: SocketAddr,
    pub codec: Codec,
    pub telephone_event: Option<u8>,
    pub peer: Peer,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EndReason {
    /// The caller sent BYE.
    RemoteBye,
    /// The caller cancelled before the answer.
    Cancelled,
    /// Our 200 OK was never acknowledged.
    AckTimeout,
    /// The application never answered.
    NotAnswered,
    /// The application rejected it.
    Rejected,
    /// The application hung up ([`Endpoint::hang_up`]).
    HungUp,
}

/// Why a request was refused (for metrics; carries no peer bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Refusal {
    /// Too large, too many headers, unparseable: dropped or `400`.
    Malformed,
    /// No trunk admits the source address: `403`.
    UnknownSource,
    /// A digest trunk's challenge (`401`), not yet a failure.
    Challenged,
    /// Wrong digest credentials: `403`.
    AuthFailed,
    /// No dispatch rule: `404`.
    NoRoute,
    /// Max-Forwards exhausted: `483`.
    TooManyHops,
    /// A trunk's or the endpoint's call limit: `503`.
    CallLimit,
    /// No usable offer: `488`.
    NotAcceptable,
    /// A method Hushpay does not serve: `405`.
    MethodNotAllowed,
    /// An in-dialog request for no known call: `481`.
    NoSuchCall,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Malformed => "malformed",
            Refusal::UnknownSource => "unknown_source",
            Refusal::Challenged => "challenged",
            Refusal::AuthFailed => "auth_failed",
            Refusal::NoRoute => "no_route",
            Refusal::TooManyHops => "too_many_hops",
            Refusal::CallLimit => "call_limit",
            Refusal::NotAcceptable => "not_acceptable",
            Refusal::MethodNotAllowed => "method_not_allowed",
            Refusal::NoSuchCall => "no_such_call",
        }
    }
}

/// What happened, for the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    IncomingCall(IncomingCall),
    /// The caller acknowledged our answer: the call is up.
    Confirmed(CallId),
    /// A re-INVITE changed the caller's media (hold when `hold`).
    MediaChanged {
        call: CallId,
        remote_rtp: SocketAddr,
        hold: bool,
    },
    Ended(CallId, EndReason),
    Refused(Peer, Refusal),
    /// A key the caller's phone signalled in a SIP INFO (`application/dtmf-relay` or
    /// `application/dtmf`, RFC 6086), not in its audio: `0`-`9`, `*`, `#`, `A`-`D`.
    Key {
        call: CallId,
        key: char,
        /// How long the key was held, when the phone said (ms).
        duration_ms: Option<u32>,
    },
    /// How our REFER of `call` ([`Endpoint::transfer`]) went: refused, failed, or the
    /// caller reached the target. The call stays up until the application hangs up.
    Transfer {
        call: CallId,
        outcome: TransferOutcome,
    },
}

/// What the caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Transmit {
        peer: Peer,
        bytes: Vec<u8>,
    },
    Event(Event),
    /// Nothing more now: call [`Endpoint::handle_timeout`] at this instant.
    Timeout(Instant),
}

/// The SIP ingress state machine.
#[derive(Debug)]
pub struct Endpoint {
    config: SipConfig,
    secret: [u8; 32],
    counter: u64,
    nonces: Nonces,
    calls: HashMap<CallId, Call>,
    by_call_id: HashMap<String, CallId>,
    cache: HashMap<TxKey, Cached>,
    /// Our BYEs awaiting a final response, by Via branch.
    byes: HashMap<String, ByeTx>,
    /// Our REFERs awaiting a final response, by Via branch.
    refers: HashMap<String, ReferTx>,
    out: VecDeque<Output>,
    last_now: Instant,
}

impl Endpoint {
    /// `secret` seeds To tags and digest nonces: give it 32 random bytes. `now` is the time of
    /// creation (the crate reads no clock).
    pub fn new(config: SipConfig, secret: [u8; 32], now: Instant) -> Self {
        let nonces = Nonces::new(secret, config.limits.max_nonces);
        Endpoint {
            config,
            secret,
            counter: 0,
            nonces,
            calls: HashMap::new(),
            by_call_id: HashMap::new(),
            cache: HashMap::new(),
            byes: HashMap::new(),
            refers: HashMap::new(),
            out: VecDeque::new(),
            last_now: now,
        }
    }

    /// Calls alive (offered, answered or up).
    pub fn call_count(&self) -> usize {
        self.calls.len()
    }

    /// The next output; [`Output::Timeout`] when there is nothing else.
    pub fn poll_output(&mut self) -> Output {
        if let Some(o) = self.out.pop_front() {
            return o;
        }
        let housekeeping = self.last_now + Duration::from_secs(1);
        let next = self
            .calls
            .values()
            .filter_map(|c| c.invite.retransmit.map(|r| r.deadline()))
            .chain(self.byes.values().map(|b| b.retransmit.deadline()))
            .chain(self.refers.values().map(|r| r.retransmit.deadline()))
            .min()
            .map_or(housekeeping, |d| d.min(housekeeping));
        Output::Timeout(next)
    }

    /// Handles one datagram or TCP frame that arrived at `now`.
    pub fn handle_input(&mut self, now: Instant, input: Input<'_>) {
        self.last_now = self.last_now.max(now);
        let peer = input.peer;
        let admitted: Vec<usize> = (0..self.config.trunks.len())
            .filter(|&i| self.config.trunks[i].admits_source(peer.addr.ip()))
            .collect();
        let head = match message::parse(input.bytes, &self.config.limits) {
            Ok(Parsed::Request(head)) => head,
            Ok(Parsed::KeepAlive) => return,
            Ok(Parsed::Response(r)) => {
                self.on_response(peer, &r);
                return;
            }
            Err(_) => {
                let r = if admitted.is_empty() {
                    Refusal::UnknownSource
                } else {
                    Refusal::Malformed
                };
                self.event(Event::Refused(peer, r));
                return;
            }
        };
        if head.method == Method::ACK && admitted.is_empty() {
            return;
        }
        let req = match Request::from_head(head) {
            Ok(r) => r,
            Err(bad) => {
                let (_, head) = *bad;
                let (r, code, reason) = if admitted.is_empty() {
                    (Refusal::UnknownSource, 403, "Forbidden")
                } else {
                    (Refusal::Malformed, 400, "Bad Request")
                };
                if head.method != Method::ACK && has_response_headers(&head.headers) {
                    let bytes =
                        Response::new(code, reason).render(&head.headers, &self.config.server_name);
                    self.send(peer, bytes);
                }
                self.event(Event::Refused(peer, r));
                return;
            }
        };
        if admitted.is_empty() {
            self.refuse(
                now,
                peer,
                &req,
                Refusal::UnknownSource,
                Response::new(403, "Forbidden"),
            );
            return;
        }
        if req.head.method == Method::ACK {
            self.on_ack(now, &req);
            return;
        }
        if let Some((_, _, bytes)) = self
            .cache
            .get(&cache_key(&req))
            .filter(|(t, p, _)| *t > now && *p == peer)
        {
            let bytes = bytes.clone();
            self.send(peer, bytes);
            return;
        }
        let m = req.head.method.clone();
        if m == Method::OPTIONS {
            let r = Response::new(200, "OK")
                .header("Allow", ALLOW)
                .header("Accept", "application/sdp");
            self.reply_cached(now, peer, &req, r);
        } else if m == Method::INVITE && req.to_tag.is_none() {
            self.on_invite(now, input, &req, &admitted);
        } else if m == Method::INVITE {
            self.on_reinvite(now, peer, &req, &admitted);
        } else if m == Method::BYE {
            self.on_bye(now, peer, &req, &admitted);
        } else if m == Method::CANCEL {
            self.on_cancel(now, peer, &req);
        } else if m == Method::INFO {
            self.on_info(now, peer, &req, &admitted);
        } else if m == Method::NOTIFY {
            self.on_notify(now, peer, &req, &admitted);
        } else {
            let r = Response::new(405, "Method Not Allowed").header("Allow", ALLOW);
            self.refuse(now, peer, &req, Refusal::MethodNotAllowed, r);
        }
    }

    /// Runs the timers due at `now`: retransmissions, ACK and answer timeouts, cache expiry.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.last_now = self.last_now.max(now);
        self.nonces.expire(now);
        self.cache.retain(|_, (t, _, _)| *t > now);
        let mut due: Vec<CallId> = self
            .calls
            .values()
            .filter(|c| c.invite.retransmit.is_some_and(|r| r.deadline() <= now))
            .map(|c| c.id)
            .collect();
        due.sort();
        for id in due {
            self.run_timer(now, id);
        }
        let mut resend = Vec::new();
        self.byes.retain(|_, b| {
            if now >= b.retransmit.give_up {
                return false; // timer F: the caller is gone; the call already ended for us
            }
            if b.retransmit.next.is_some_and(|n| n <= now) {
                b.retransmit.backoff(now);
                resend.push((b.peer, b.bytes.clone()));
            }
            true
        });
        self.refer_timers(now, &mut resend);
        for (peer, bytes) in resend {
            self.send(peer, bytes);
        }
    }

    /// Ends a call from our side (its room closed, it could not join one). An offered call is
    /// refused `480`; a confirmed one gets a BYE; an answered one whose ACK has not arrived
    /// gets its BYE when the ACK does (or nothing, if it never does). The call ends for the
    /// application at once: [`Event::Ended`] with [`EndReason::HungUp`] (or
    /// [`EndReason::Rejected`] for an offered call). Ending a call that is already ending does
    /// nothing.
    pub fn hang_up(&mut self, now: Instant, id: CallId) -> Result<(), SipError> {
        self.hang_up_with(now, id, Vec::new())
    }

    /// [`Self::hang_up`], the BYE carrying `headers` (e.g. a hand-off's result); a header
    /// that could not be sent as it is (see [`request::checked_header`]) is refused.
    pub fn hang_up_with(
        &mut self,
        now: Instant,
        id: CallId,
        headers: Vec<(String, String)>,
    ) -> Result<(), SipError> {
        self.last_now = self.last_now.max(now);
        if !headers.iter().all(|(n, v)| request::checked_header(n, v)) {
            return Err(SipError::BadHeader("extra header"));
        }
        let call = self.calls.get_mut(&id).ok_or(SipError::UnknownCall)?;
        call.bye_headers = headers;
        match call.state {
            CallState::Offered => self.reject(now, id, 480),
            CallState::Ending => Ok(()),
            CallState::Answered if call.bye_after_ack => Ok(()),
            CallState::Answered => {
                call.bye_after_ack = true;
                self.event(Event::Ended(id, EndReason::HungUp));
                Ok(())
            }
            CallState::Confirmed => {
                self.send_bye(now, id);
                self.event(Event::Ended(id, EndReason::HungUp));
                Ok(())
            }
        }
    }

    /// Sends the BYE of call `id`, starts its client transaction, forgets the call.
    fn send_bye(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let branch = format!("z9hG4bK{}", self.derive("bye", id.0));
        let transport = call.peer.transport;
        let bytes = request::bye(
            &call.invite.headers,
            &ByeParams {
                local: call.local,
                transport,
                branch: &branch,
                local_tag: &call.local_tag,
                cseq: call.local_cseq,
                agent: &self.config.server_name,
            },
            &call.bye_headers,
        );
        let peer = call.peer;
        self.byes.insert(
            branch,
            ByeTx {
                peer,
                bytes: bytes.clone(),
                retransmit: Retransmit::start(now, transport.is_reliable(), ACK_WAIT),
            },
        );
        self.remove(id);
        self.send(peer, bytes);
    }

    /// A response: the final answer to one of our BYEs ends its transaction; anything else
    /// (a stray or forged response) is dropped.
    fn on_response(&mut self, peer: Peer, r: &ResponseHead) {
        if self.on_refer_response(peer, r) {
            return;
        }
        let ours = r
            .branch
            .as_ref()
            .and_then(|b| self.byes.get(b).map(|tx| (b.clone(), tx.peer)));
        if let Some((branch, from)) = ours
            && from.addr == peer.addr
            && r.code >= 200
        {
            self.byes.remove(&branch);
        }
    }

    /// BYE transactions still waiting for their final response.
    pub fn pending_byes(&self) -> usize {
        self.byes.len()
    }

    fn run_timer(&mut self, now: Instant, id: CallId) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        let Some(mut r) = call.invite.retransmit else {
            return;
        };
        if now >= r.give_up {
            call.invite.retransmit = None;
            match call.state {
                // hung up already: the application was told then
                CallState::Answered if call.bye_after_ack => self.remove(id),
                CallState::Answered => self.end(id, EndReason::AckTimeout),
                CallState::Ending => self.remove(id),
                CallState::Offered => {
                    let bytes = Response::new(480, "Temporarily Unavailable")
                        .to_tag(&call.local_tag)
                        .render(&call.invite.headers, &self.config.server_name);
                    let bytes = call.final_response(now, bytes);
                    let peer = call.peer;
                    call.state = CallState::Ending;
                    self.send(peer, bytes);
                    self.event(Event::Ended(id, EndReason::NotAnswered));
                }
                CallState::Confirmed => {}
            }
            return;
        }
        if r.next.is_some_and(|n| n <= now) && call.state != CallState::Offered {
            let (peer, bytes) = (call.peer, call.invite.last.clone());
            r.backoff(now);
            call.invite.retransmit = Some(r);
            self.send(peer, bytes);
        } else if call.state == CallState::Offered {
            r.next = None;
            call.invite.retransmit = Some(r);
        }
    }

    /// Answers an offered call: `200 OK` with the SDP answer naming `local_rtp`, the RTP socket
    /// the application bound for the leg.
    pub fn answer(
        &mut self,
        now: Instant,
        id: CallId,
        local_rtp: SocketAddr,
    ) -> Result<(), SipError> {
        self.last_now = self.last_now.max(now);
        let server = self.config.server_name.clone();
        let call = self.calls.get_mut(&id).ok_or(SipError::UnknownCall)?;
        if call.state != CallState::Offered {
            return Err(SipError::NotOffered);
        }
        call.local_rtp = Some(local_rtp);
        let body = sdp::render_answer(&call.media, local_rtp, call.session_id, call.sdp_version);
        let bytes = Response::new(200, "OK")
            .to_tag(&call.local_tag)
            .header("Contact", call.contact.clone())
            .header("Allow", ALLOW)
            .body("application/sdp", body)
            .render(&call.invite.headers, &server);
        let bytes = call.final_response(now, bytes);
        call.state = CallState::Answered;
        let peer = call.peer;
        self.send(peer, bytes);
        Ok(())
    }

    /// Refuses an offered call (`code` 4xx–6xx, e.g. 480 when its room is gone).
    pub fn reject(&mut self, now: Instant, id: CallId, code: u16) -> Result<(), SipError> {
        self.last_now = self.last_now.max(now);
        let server = self.config.server_name.clone();
        let call = self.calls.get_mut(&id).ok_or(SipError::UnknownCall)?;
        if call.state != CallState::Offered {
            return Err(SipError::NotOffered);
        }
        let code = if (400..700).contains(&code) {
            code
        } else {
            480
        };
        let bytes = Response::new(code, "Rejected")
            .to_tag(&call.local_tag)
            .render(&call.invite.headers, &server);
        let bytes = call.final_response(now, bytes);
        call.state = CallState::Ending;
        let peer = call.peer;
        self.send(peer, bytes);
        self.event(Event::Ended(id, EndReason::Rejected));
        Ok(())
    }

    fn on_invite(&mut self, now: Instant, input: Input<'_>, req: &Request, admitted: &[usize]) {
        let peer = input.peer;
        if let Some(id) = self.by_call_id.get(&req.call_id).copied() {
            // a retransmission of the INVITE we are handling: the last response again
            if let Some(c) = self
                .calls
                .get(&id)
                .filter(|c| c.invite.branch == req.branch)
            {
                let (p, bytes) = (c.peer, c.invite.last.clone());
                self.send(p, bytes);
            } else {
                self.refuse(
                    now,
                    peer,
                    req,
                    Refusal::Malformed,
                    Response::new(482, "Loop Detected"),
                );
            }
            return;
        }
        let trunk = match self.authorise(now, req, admitted) {
            Ok(t) => t,
            Err((refusal, response)) => {
                self.refuse(now, peer, req, refusal, response);
                return;
            }
        };
        if req.max_forwards == Some(0) {
            self.refuse(
                now,
                peer,
                req,
                Refusal::TooManyHops,
                Response::new(483, "Too Many Hops"),
            );
            return;
        }
        let t = &self.config.trunks[trunk];
        let on_trunk = self.calls.values().filter(|c| c.trunk == trunk).count();
        if on_trunk >= t.max_calls || self.calls.len() >= self.config.limits.max_calls {
            self.refuse(
                now,
                peer,
                req,
                Refusal::CallLimit,
                Response::new(503, "Service Unavailable"),
            );
            return;
        }
        let header = |name: &str| req.header_value(name);
        let facts = CallFacts {
            tenant: &t.tenant,
            called: req.head.uri_user.as_deref(),
            header: &header,
        };
        let Some(rule) = dispatch::route(&self.config.rules, facts) else {
            self.refuse(
                now,
                peer,
                req,
                Refusal::NoRoute,
                Response::new(404, "Not Found"),
            );
            return;
        };
        let room = rule.room.clone();
        let (trunk_name, tenant) = (t.name.clone(), t.tenant.clone());
        let media = match offer_of(req) {
            Ok(n) => n,
            Err(_) => {
                let r = Response::new(488, "Not Acceptable Here");
                self.refuse(now, peer, req, Refusal::NotAcceptable, r);
                return;
            }
        };
        let id = CallId(self.next_counter());
        let local_tag = self.derive("tag", id.0);
        let session_id = u64::from_be_bytes(self.derive_bytes("session", id.0));
        let contact = format!(
            "<sip:hushpay@{}{}>",
            input.local,
            peer.transport.uri_param()
        );
        let trying =
            Response::new(100, "Trying").render(&req.head.headers, &self.config.server_name);
        let call = Call {
            id,
            peer,
            trunk,
            call_id: req.call_id.clone(),
            remote_tag: req.from_tag.clone(),
            local_tag,
            state: CallState::Offered,
            invite: InviteTx {
                branch: req.branch.clone(),
                cseq: req.cseq.cseq,
                headers: req.head.headers.clone(),
                last: trying.clone(),
                retransmit: Some(Retransmit {
                    next: None,
                    interval: crate::call::T1,
                    give_up: now + ANSWER_WAIT,
                }),
            },
            media: media.clone(),
            local_rtp: None,
            contact,
            local: input.local,
            session_id: session_id >> 1,
            sdp_version: 1,
            bye_after_ack: false,
            bye_headers: Vec::new(),
            local_cseq: 1,
            referred: false,
        };
        self.calls.insert(id, call);
        self.by_call_id.insert(req.call_id.clone(), id);
        self.send(peer, trying);
        self.event(Event::IncomingCall(IncomingCall {
            call: id,
            trunk: trunk_name,
            tenant,
            room,
            called: req.head.uri_user.clone(),
            remote_rtp: media.remote_rtp,
            codec: media.codec,
            telephone_event: media.telephone_event,
            peer,
        }));
    }

    fn authorise(
        &mut self,
        now: Instant,
        req: &Request,
        admitted: &[usize],
    ) -> Result<usize, (Refusal, Response)> {
        let trunks = &self.config.trunks;
        if let Some(&i) = admitted.iter().find(|&&i| trunks[i].digest.is_none()) {
            return Ok(i);
        }
        let forbidden = || (Refusal::AuthFailed, Response::new(403, "Forbidden"));
        let auth = match req.authorization() {
            None => return Err(self.challenge(now, admitted, false)),
            Some(Ok(AuthResponse::Digest(d))) => d,
            Some(_) => return Err(forbidden()),
        };
        let user: &str = match &auth.username {
            ezk_sip_types::header::typed::Username::Username(u) => u,
            ezk_sip_types::header::typed::Username::UsernameNonASCII(_) => return Err(forbidden()),
        };
        let Some(&i) = admitted.iter().find(|&&i| {
            trunks[i]
                .digest
                .as_ref()
                .is_some_and(|d| d.username == user)
        }) else {
            return Err(forbidden());
        };
        let Some(creds) = trunks[i].digest.clone() else {
            return Err(forbidden());
        };
        let method = req.head.method.to_string();
        match self.nonces.verify(
            now,
            &auth,
            &creds,
            &self.config.realm,
            &method,
            &req.head.uri_text,
        ) {
            Verdict::Accepted => Ok(i),
            Verdict::Stale => Err(self.challenge(now, &[i], true)),
            Verdict::Refused => Err(forbidden()),
        }
    }

    fn challenge(&mut self, now: Instant, trunks: &[usize], stale: bool) -> (Refusal, Response) {
        let mut algs: Vec<DigestAlgorithm> = Vec::new();
        for &i in trunks {
            for a in self.config.trunks[i]
                .digest
                .iter()
                .flat_map(|d| d.algorithms.iter())
            {
                if !algs.contains(a) {
                    algs.push(*a);
                }
            }
        }
        let mut r = Response::new(401, "Unauthorized");
        for a in algs {
            let nonce = self.nonces.issue(now, a);
            r = r.header(
                "WWW-Authenticate",
                digest::challenge(&self.config.realm, &nonce, a, stale),
            );
        }
        (Refusal::Challenged, r)
    }

    fn on_ack(&mut self, now: Instant, req: &Request) {
        let Some(id) = self.by_call_id.get(&req.call_id).copied() else {
            return;
        };
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if req.cseq.cseq != call.invite.cseq {
            return;
        }
        call.invite.retransmit = None;
        match call.state {
            CallState::Answered if call.bye_after_ack => {
                call.state = CallState::Confirmed;
                self.send_bye(now, id);
            }
            CallState::Answered => {
                call.state = CallState::Confirmed;
                self.event(Event::Confirmed(id));
            }
            CallState::Ending => self.remove(id),
            CallState::Offered | CallState::Confirmed => {}
        }
    }

    /// The call a request belongs to: same Call-ID, the caller's tag, our tag, an admitted trunk.
    fn dialog(&self, req: &Request, admitted: &[usize]) -> Option<CallId> {
        let id = *self.by_call_id.get(&req.call_id)?;
        let c = self.calls.get(&id)?;
        let ours = req.to_tag.as_deref() == Some(c.local_tag.as_str());
        (ours && c.remote_tag == req.from_tag && admitted.contains(&c.trunk)).then_some(id)
    }

    fn on_bye(&mut self, now: Instant, peer: Peer, req: &Request, admitted: &[usize]) {
        let established = self.dialog(req, admitted).filter(|id| {
            self.calls
                .get(id)
                .is_some_and(|c| matches!(c.state, CallState::Answered | CallState::Confirmed))
        });
        let Some(id) = established else {
            let r = Response::new(481, "Call/Transaction Does Not Exist");
            self.refuse(now, peer, req, Refusal::NoSuchCall, r);
            return;
        };
        self.reply_cached(now, peer, req, Response::new(200, "OK"));
        self.end(id, EndReason::RemoteBye);
    }

    /// A keypad key in an INFO of a call that is up: `200` and [`Event::Key`]; an INFO of
    /// another kind `415`, an unreadable key `400`. A retransmitted INFO gets the cached
    /// response and no second event (the cache is checked before this runs).
    fn on_info(&mut self, now: Instant, peer: Peer, req: &Request, admitted: &[usize]) {
        let up = self.dialog(req, admitted).filter(|id| {
            self.calls
                .get(id)
                .is_some_and(|c| c.state == CallState::Confirmed)
        });
        let Some(call) = up else {
            let r = Response::new(481, "Call/Transaction Does Not Exist");
            self.refuse(now, peer, req, Refusal::NoSuchCall, r);
            return;
        };
        match dtmf_info::parse(req.content_type(), &req.head.body) {
            Ok((key, duration_ms)) => {
                self.reply_cached(now, peer, req, Response::new(200, "OK"));
                self.event(Event::Key {
                    call,
                    key,
                    duration_ms,
                });
            }
            Err(dtmf_info::InfoError::NotDtmf) => {
                let r = Response::new(415, "Unsupported Media Type")
                    .header("Accept", "application/dtmf-relay, application/dtmf");
                self.refuse(now, peer, req, Refusal::NotAcceptable, r);
            }
            Err(dtmf_info::InfoError::BadKey) => {
                let r = Response::new(400, "Bad Request");
                self.refuse(now, peer, req, Refusal::Malformed, r);
            }
        }
    }

    fn on_cancel(&mut self, now: Instant, peer: Peer, req: &Request) {
        let found = self.by_call_id.get(&req.call_id).copied().filter(|id| {
            self.calls.get(id).is_some_and(|c| {
                c.invite.cseq == req.cseq.cseq && c.invite.branch == req.branch && c.peer == peer
            })
        });
        let Some(id) = found else {
            let r = Response::new(481, "Call/Transaction Does Not Exist");
            self.refuse(now, peer, req, Refusal::NoSuchCall, r);
            return;
        };
        self.reply_cached(now, peer, req, Response::new(200, "OK"));
        let server = self.config.server_name.clone();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.state != CallState::Offered {
            return;
        }
        let bytes = Response::new(487, "Request Terminated")
            .to_tag(&call.local_tag)
            .render(&call.invite.headers, &server);
        let bytes = call.final_response(now, bytes);
        call.state = CallState::Ending;
        self.send(peer, bytes);
        self.event(Event::Ended(id, EndReason::Cancelled));
    }

    fn on_reinvite(&mut self, now: Instant, peer: Peer, req: &Request, admitted: &[usize]) {
        let Some(id) = self.dialog(req, admitted) else {
            let r = Response::new(481, "Call/Transaction Does Not Exist");
            self.refuse(now, peer, req, Refusal::NoSuchCall, r);
            return;
        };
        let server = self.config.server_name.clone();
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if call.invite.branch == req.branch && call.invite.cseq == req.cseq.cseq {
            let bytes = call.invite.last.clone();
            self.send(peer, bytes);
            return;
        }
        if call.state != CallState::Confirmed || req.cseq.cseq <= call.invite.cseq {
            let bytes = Response::new(491, "Request Pending")
                .to_tag(&call.local_tag)
                .render(&req.head.headers, &server);
            self.send(peer, bytes);
            return;
        }
        let (Ok(media), Some(local)) = (offer_of(req), call.local_rtp) else {
            let bytes = Response::new(488, "Not Acceptable Here")
                .to_tag(&call.local_tag)
                .render(&req.head.headers, &server);
            self.send(peer, bytes);
            self.event(Event::Refused(peer, Refusal::NotAcceptable));
            return;
        };
        call.sdp_version += 1;
        let body = sdp::render_answer(&media, local, call.session_id, call.sdp_version);
        let bytes = Response::new(200, "OK")
            .to_tag(&call.local_tag)
            .header("Contact", call.contact.clone())
            .header("Allow", ALLOW)
            .body("application/sdp", body)
            .render(&req.head.headers, &server);
        let (remote_rtp, hold) = (media.remote_rtp, media.is_hold());
        call.media = media;
        call.invite = InviteTx {
            branch: req.branch.clone(),
            cseq: req.cseq.cseq,
            headers: req.head.headers.clone(),
            last: bytes.clone(),
            retransmit: Some(Retransmit::start(
                now,
                peer.transport.is_reliable(),
                ACK_WAIT,
            )),
        };
        // the call stays up while the re-INVITE's 200 waits for its ACK
        self.send(peer, bytes);
        self.event(Event::MediaChanged {
            call: id,
            remote_rtp,
            hold,
        });
    }

    fn refuse(
        &mut self,
        now: Instant,
        peer: Peer,
        req: &Request,
        refusal: Refusal,
        response: Response,
    ) {
        self.reply_cached(now, peer, req, response);
        self.event(Event::Refused(peer, refusal));
    }

    /// Sends a final response and remembers it for retransmissions of the request.
    fn reply_cached(&mut self, now: Instant, peer: Peer, req: &Request, response: Response) {
        let tag = self.derive("tag-stateless", 0);
        let bytes = response
            .to_tag(&tag)
            .render(&req.head.headers, &self.config.server_name);
        if self.cache.len() >= self.config.limits.max_nonces {
            self.cache.retain(|_, (t, _, _)| *t > now);
        }
        if self.cache.len() < self.config.limits.max_nonces {
            self.cache.insert(
                cache_key(req),
                (now + RESPONSE_CACHE_TTL, peer, bytes.clone()),
            );
        }
        self.send(peer, bytes);
    }

    fn end(&mut self, id: CallId, reason: EndReason) {
        self.remove(id);
        self.event(Event::Ended(id, reason));
    }

    fn remove(&mut self, id: CallId) {
        if let Some(c) = self.calls.remove(&id) {
            self.by_call_id.remove(&c.call_id);
        }
    }

    fn send(&mut self, peer: Peer, bytes: Vec<u8>) {
        self.out.push_back(Output::Transmit { peer, bytes });
    }

    fn event(&mut self, e: Event) {
        self.out.push_back(Output::Event(e));
    }

    fn next_counter(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn derive_bytes(&self, label: &str, n: u64) -> [u8; 8] {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(label.as_bytes());
        h.update(n.to_be_bytes());
        let d = h.finalize();
        let mut out = [0u8; 8];
        out.copy_from_slice(&d[..8]);
        out
    }

    fn derive(&self, label: &str, n: u64) -> String {
        hex::encode(self.derive_bytes(label, n))
    }
}

/// A final response remembered for retransmissions: until when, to whom, the bytes.
type Cached = (Instant, Peer, Vec<u8>);
type TxKey = (String, String, String);

/// A request's server transaction: branch (or CSeq number before RFC 3261), method, Call-ID.
fn cache_key(req: &Request) -> TxKey {
    let branch = req
        .branch
        .clone()
        .unwrap_or_else(|| req.cseq.cseq.to_string());
    (branch, req.head.method.to_string(), req.call_id.clone())
}

fn has_response_headers(h: &Headers) -> bool {
    use ezk_sip_types::Name;
    [Name::VIA, Name::FROM, Name::TO, Name::CALL_ID, Name::CSEQ]
        .iter()
        .all(|n| h.get_raw(n).next().is_some())
}

fn offer_of(req: &Request) -> Result<Negotiated, SipError> {
    let is_sdp = req
        .content_type()
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"));
    if !is_sdp || req.head.body.is_empty() {
        // an offer-less INVITE (offer in our 200, answer in the ACK) is not supported
        return Err(SipError::Sdp(sdp::SdpError::NoAudio));
    }
    Ok(sdp::negotiate(&req.head.body)?)
}

/// Whether an address is one a trunk could use (helper for the gateway's RTP checks).
pub fn same_host(a: IpAddr, b: IpAddr) -> bool {
    let norm = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    norm(a) == norm(b)
}
