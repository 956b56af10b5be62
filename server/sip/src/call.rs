//! Per-call state of the UAS: the dialog identifiers, the INVITE server transaction whose final
//! response may need retransmitting, and the negotiated media.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ezk_sip_types::Headers;

use crate::endpoint::{CallId, Peer};
use crate::sdp::Negotiated;

/// RFC 3261 timer T1 (round-trip estimate).
pub const T1: Duration = Duration::from_millis(500);
/// RFC 3261 timer T2 (longest retransmission interval).
pub const T2: Duration = Duration::from_secs(4);
/// 64·T1: how long a final response to an INVITE waits for its ACK.
pub const ACK_WAIT: Duration = Duration::from_secs(32);
/// How long an offered call may wait for the application's answer before it is refused `480`.
pub const ANSWER_WAIT: Duration = Duration::from_secs(32);

/// Where the call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallState {
    /// `100 Trying` sent; waiting for [`crate::Endpoint::answer`].
    Offered,
    /// `200 OK` sent; waiting for the ACK.
    Answered,
    /// ACK received: media flows.
    Confirmed,
    /// A final error response (487 after CANCEL, a rejection) sent; waiting for its ACK.
    Ending,
}

/// When the last response of the INVITE transaction goes out again, and when we give up.
#[derive(Debug, Clone, Copy)]
pub struct Retransmit {
    /// `None` on TCP (reliable: no retransmission, only the give-up timer).
    pub next: Option<Instant>,
    pub interval: Duration,
    pub give_up: Instant,
}

impl Retransmit {
    pub fn start(now: Instant, reliable: bool, wait: Duration) -> Self {
        Retransmit {
            next: (!reliable).then_some(now + T1),
            interval: T1,
            give_up: now + wait,
        }
    }

    pub fn deadline(&self) -> Instant {
        self.next.map_or(self.give_up, |n| n.min(self.give_up))
    }

    /// After a retransmission at `now`: the interval doubles up to T2.
    pub fn backoff(&mut self, now: Instant) {
        self.interval = (self.interval * 2).min(T2);
        if self.next.is_some() {
            self.next = Some(now + self.interval);
        }
    }
}

/// The INVITE (or re-INVITE) server transaction.
#[derive(Debug, Clone)]
pub struct InviteTx {
    pub branch: Option<String>,
    pub cseq: u32,
    /// The request's headers, echoed in the responses.
    pub headers: Headers,
    /// The last response sent (what a retransmitted INVITE gets).
    pub last: Vec<u8>,
    pub retransmit: Option<Retransmit>,
}

/// One call.
#[derive(Debug)]
pub struct Call {
    pub id: CallId,
    pub peer: Peer,
    pub trunk: usize,
    pub call_id: String,
    pub remote_tag: Option<String>,
    pub local_tag: String,
    pub state: CallState,
    pub invite: InviteTx,
    pub media: Negotiated,
    pub local_rtp: Option<SocketAddr>,
    pub contact: String,
    /// The local address the INVITE arrived on (our Via sent-by in a BYE).
    pub local: SocketAddr,
    pub session_id: u64,
    pub sdp_version: u64,
    /// The application hung up before the caller acknowledged our answer: the BYE goes out
    /// when the ACK arrives (RFC 3261 §15: not before).
    pub bye_after_ack: bool,
    /// Extra headers of our BYE (the result of a hand-off), checked when given.
    pub bye_headers: Vec<(String, String)>,
    /// The CSeq number of our next request in the dialog.
    pub local_cseq: u32,
    /// Our REFER was accepted: the trunk's NOTIFYs report how the transfer goes.
    pub referred: bool,
}

/// Our BYE's client transaction (RFC 3261 §17.1.2: timer E doubling to T2 over UDP, given up
/// after timer F, 64·T1).
#[derive(Debug, Clone)]
pub struct ByeTx {
    pub peer: Peer,
    pub bytes: Vec<u8>,
    pub retransmit: Retransmit,
}

/// Our REFER's client transaction (as [`ByeTx`]), for the call it transfers.
#[derive(Debug, Clone)]
pub struct ReferTx {
    pub call: crate::CallId,
    pub peer: Peer,
    pub bytes: Vec<u8>,
    pub retransmit: Retransmit,
}

impl Call {
    /// Our next CSeq number in the dialog.
    pub fn next_cseq(&mut self) -> u32 {
        let n = self.local_cseq;
        self.local_cseq += 1;
        n
    }

    /// Keeps `bytes` as the INVITE's final response (what a retransmitted INVITE gets) and
    /// retransmits it until the ACK ([`ACK_WAIT`] at most; over TCP only the wait). Returns
    /// `bytes` for sending.
    pub fn final_response(&mut self, now: Instant, bytes: Vec<u8>) -> Vec<u8> {
        let reliable = self.peer.transport.is_reliable();
        self.invite.last = bytes.clone();
        self.invite.retransmit = Some(Retransmit::start(now, reliable, ACK_WAIT));
        bytes
    }
}
