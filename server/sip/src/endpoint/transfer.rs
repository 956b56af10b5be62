//! Sending a caller on (RFC 3515): a REFER in the call's dialog names the target, the trunk
//! answers `202` and reports the transfer in NOTIFYs (`Event: refer`, a `message/sipfrag`
//! body with the target's status line); the application hears how it went as one
//! [`Event::Transfer`] and then hangs up.
//!
//! The REFER goes where every request of ours goes, the trunk's address; only the trunk acts
//! on the `Refer-To` target, so Hushpay still never places a call itself. NOTIFYs are
//! accepted only inside a dialog whose REFER was accepted, from an admitted trunk.

use std::time::Instant;

use super::{Endpoint, Event, Peer};
use crate::SipError;
use crate::call::{ACK_WAIT, CallState, ReferTx, Retransmit};
use crate::endpoint::Refusal;
use crate::message::{Request, ResponseHead};
use crate::request::{self, ByeParams};
use crate::response::Response;

/// How a transfer went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransferOutcome {
    /// The trunk refused the REFER with this final status (`408`: it never answered).
    Refused(u16),
    /// The trunk tried; the target's final status was this (not 2xx).
    Failed(u16),
    /// The target answered 2xx: the caller is there.
    Done,
}

impl Endpoint {
    /// Sends the caller of call `id` (up) to `target` (a `sip:` or `sips:` URI) by a REFER
    /// carrying `headers`. [`Event::Transfer`] follows once it has gone one way or the other;
    /// the call stays up until [`Endpoint::hang_up`].
    pub fn transfer(
        &mut self,
        now: Instant,
        id: super::CallId,
        target: &str,
        headers: Vec<(String, String)>,
    ) -> Result<(), SipError> {
        self.last_now = self.last_now.max(now);
        let target = request::checked_uri(target).ok_or(SipError::BadTarget)?;
        if !headers.iter().all(|(n, v)| request::checked_header(n, v)) {
            return Err(SipError::BadHeader("extra header"));
        }
        let under_way = self.refers.values().any(|r| r.call == id);
        let call = self.calls.get_mut(&id).ok_or(SipError::UnknownCall)?;
        if call.state != CallState::Confirmed || call.bye_after_ack {
            return Err(SipError::NotUp);
        }
        if under_way || call.referred {
            return Err(SipError::TransferUnderWay);
        }
        let cseq = call.next_cseq();
        let call = &self.calls[&id];
        let branch = format!(
            "z9hG4bK{}",
            self.derive("refer", id.0 ^ (u64::from(cseq) << 48))
        );
        let transport = call.peer.transport;
        let bytes = request::refer(
            &call.invite.headers,
            &ByeParams {
                local: call.local,
                transport,
                branch: &branch,
                local_tag: &call.local_tag,
                cseq,
                agent: &self.config.server_name,
            },
            target,
            &headers,
        );
        let peer = call.peer;
        self.refers.insert(
            branch,
            ReferTx {
                call: id,
                peer,
                bytes: bytes.clone(),
                retransmit: Retransmit::start(now, transport.is_reliable(), ACK_WAIT),
            },
        );
        self.send(peer, bytes);
        Ok(())
    }

    /// REFER transactions still waiting for their final response.
    pub fn pending_refers(&self) -> usize {
        self.refers.len()
    }

    /// A response to one of our REFERs (true), else false. `2xx`: the NOTIFYs will tell;
    /// anything else final: the transfer is refused.
    pub(super) fn on_refer_response(&mut self, peer: Peer, r: &ResponseHead) -> bool {
        let Some(branch) = r.branch.clone().filter(|b| {
            self.refers
                .get(b)
                .is_some_and(|tx| tx.peer.addr == peer.addr)
        }) else {
            return false;
        };
        if r.code < 200 {
            return true;
        }
        let Some(tx) = self.refers.remove(&branch) else {
            return true;
        };
        if (200..300).contains(&r.code) {
            if let Some(c) = self.calls.get_mut(&tx.call) {
                c.referred = true;
            }
        } else if self.calls.contains_key(&tx.call) {
            self.event(Event::Transfer {
                call: tx.call,
                outcome: TransferOutcome::Refused(r.code),
            });
        }
        true
    }

    /// Retransmits REFERs that are due; one never answered is refused `408` (timer F).
    pub(super) fn refer_timers(&mut self, now: Instant, resend: &mut Vec<(Peer, Vec<u8>)>) {
        let mut gone = Vec::new();
        self.refers.retain(|_, r| {
            if now >= r.retransmit.give_up {
                gone.push(r.call);
                return false;
            }
            if r.retransmit.next.is_some_and(|n| n <= now) {
                r.retransmit.backoff(now);
                resend.push((r.peer, r.bytes.clone()));
            }
            true
        });
        for call in gone {
            if self.calls.contains_key(&call) {
                self.event(Event::Transfer {
                    call,
                    outcome: TransferOutcome::Refused(408),
                });
            }
        }
    }

    /// A NOTIFY about our accepted REFER: `200`, and at the target's final status
    /// [`Event::Transfer`]. Outside such a dialog `481`; another event package `489`; a body
    /// that is not a sipfrag status line `400`.
    pub(super) fn on_notify(
        &mut self,
        now: Instant,
        peer: Peer,
        req: &Request,
        admitted: &[usize],
    ) {
        let referred = self.dialog(req, admitted).filter(|id| {
            self.calls
                .get(id)
                .is_some_and(|c| c.state == CallState::Confirmed && c.referred)
        });
        let Some(call) = referred else {
            let r = Response::new(481, "Subscription Does Not Exist");
            self.refuse(now, peer, req, Refusal::NoSuchCall, r);
            return;
        };
        let package = req
            .header_value("Event")
            .and_then(|e| e.split(';').next())
            .map(str::trim);
        if !package.is_some_and(|p| p.eq_ignore_ascii_case("refer")) {
            let r = Response::new(489, "Bad Event").header("Allow-Events", "refer");
            self.refuse(now, peer, req, Refusal::NotAcceptable, r);
            return;
        }
        let Some(code) = sipfrag_status(req.content_type(), &req.head.body) else {
            let r = Response::new(400, "Bad Request");
            self.refuse(now, peer, req, Refusal::Malformed, r);
            return;
        };
        self.reply_cached(now, peer, req, Response::new(200, "OK"));
        if code >= 200 {
            if let Some(c) = self.calls.get_mut(&call) {
                c.referred = false;
            }
            let outcome = if (200..300).contains(&code) {
                TransferOutcome::Done
            } else {
                TransferOutcome::Failed(code)
            };
            self.event(Event::Transfer { call, outcome });
        }
    }
}

/// The status code of a `message/sipfrag` body's status line (`SIP/2.0 200 OK`).
fn sipfrag_status(content_type: Option<&str>, body: &[u8]) -> Option<u16> {
    let ct = content_type?.split(';').next()?.trim();
    if !ct.eq_ignore_ascii_case("message/sipfrag") {
        return None;
    }
    let line = body.split(|&b| b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end_matches('\r');
    let mut parts = line.splitn(3, ' ');
    if parts.next()? != "SIP/2.0" {
        return None;
    }
    let code = parts.next()?;
    if code.len() != 3 {
        return None;
    }
    let code: u16 = code.parse().ok()?;
    (100..700).contains(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::sipfrag_status;

    #[test]
    fn sipfrag_status_lines() {
        let ct = Some("message/sipfrag;version=2.0");
        assert_eq!(sipfrag_status(ct, b"SIP/2.0 200 OK\r\n"), Some(200));
        assert_eq!(sipfrag_status(ct, b"SIP/2.0 100 Trying"), Some(100));
        assert_eq!(
            sipfrag_status(ct, b"SIP/2.0 486 Busy Here\r\nX: y\r\n"),
            Some(486)
        );
        assert_eq!(sipfrag_status(Some("text/plain"), b"SIP/2.0 200 OK"), None);
        assert_eq!(sipfrag_status(None, b"SIP/2.0 200 OK"), None);
        for bad in [
            &b""[..],
            b"SIP/2.0",
            b"SIP/2.0 2000 OK",
            b"SIP/3.0 200 OK",
            b"\xff\xfe",
            b"SIP/2.0 099 x",
        ] {
            assert_eq!(sipfrag_status(ct, bad), None, "{bad:?}");
        }
    }
}
