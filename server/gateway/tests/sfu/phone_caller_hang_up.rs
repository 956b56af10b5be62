//! Hushpay hangs up a phone caller (issue 15), with the test as the trunk (plain UDP): when the
//! caller's room is ended the caller gets a BYE inside its dialog (our Contact's target, our tag,
//! its tag, retransmitted until answered, not after the 200), and the caller leaves the room; a
//! call whose room cannot be joined (ended already) is hung up as soon as it is up.

use std::sync::atomic::Ordering;
use std::time::Duration;

use hushpay::sfu::room::RoomKey;
use hushpay_store::TenantId;
use tokio::net::UdpSocket;

use crate::common::TestGateway;
use crate::harness::*;
use crate::phone_caller::sip_listener;

/// The test's side of one call: its SIP socket (its RTP goes nowhere).
pub(crate) struct Caller {
    pub(crate) sip: UdpSocket,
    call_id: &'static str,
    pub(crate) target: std::net::SocketAddr,
    /// Our tag from the 200 OK, once answered.
    their_tag: String,
}

impl Caller {
    pub(crate) async fn new(call_id: &'static str, target: std::net::SocketAddr) -> Self {
        Caller {
            sip: UdpSocket::bind("127.0.0.1:0").await.unwrap(),
            call_id,
            target,
            their_tag: String::new(),
        }
    }

    fn port(&self) -> u16 {
        self.sip.local_addr().unwrap().port()
    }

    pub(crate) fn request(&self, method: &str, cseq: u32, sdp: Option<&str>) -> Vec<u8> {
        let (ctype, body) = match sdp {
            Some(b) => ("Content-Type: application/sdp\r\n", b),
            None => ("", ""),
        };
        let to_tag = if self.their_tag.is_empty() {
            String::new()
        } else {
            format!(";tag={}", self.their_tag)
        };
        format!(
            "{method} sip:payline@{t} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{p};branch=z9hG4bK-hu-{cseq}-{method}\r\nFrom: <sip:caller@127.0.0.1>;tag=hu-caller\r\nTo: <sip:payline@{t}>{to_tag}\r\nCall-ID: {c}\r\nCSeq: {cseq} {method}\r\nContact: <sip:caller@127.0.0.1:{p}>\r\nMax-Forwards: 70\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            body.len(),
            t = self.target,
            p = self.port(),
            c = self.call_id,
        )
        .into_bytes()
    }

    /// INVITE, the 200, ACK: the call is up (its RTP goes nowhere).
    pub(crate) async fn call(&mut self) {
        self.call_with_rtp(40_000).await;
    }

    /// INVITE offering RTP on `rtp_port`, the 200, ACK: the call is up.
    pub(crate) async fn call_with_rtp(&mut self, rtp_port: u16) {
        let sdp = format!(
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\na=sendrecv\r\n"
        );
        let invite = self.request("INVITE", 1, Some(&sdp));
        self.sip.send_to(&invite, self.target).await.unwrap();
        let ok = loop {
            let m = self.recv().await;
            if m.starts_with("SIP/2.0 200 ") {
                break m;
            }
            assert!(m.starts_with("SIP/2.0 1"), "unexpected: {m}");
        };
        self.their_tag = header(&ok, "To")
            .and_then(|to| to.split(";tag=").nth(1))
            .unwrap()
            .to_owned();
        let ack = self.request("ACK", 1, None);
        self.sip.send_to(&ack, self.target).await.unwrap();
    }

    pub(crate) async fn recv(&self) -> String {
        self.recv_within(Duration::from_secs(5))
            .await
            .expect("a message within 5 s")
    }

    async fn recv_within(&self, wait: Duration) -> Option<String> {
        let mut buf = vec![0u8; 4096];
        let (n, _) = tokio::time::timeout(wait, self.sip.recv_from(&mut buf))
            .await
            .ok()?
            .unwrap();
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// Waits for Hushpay's BYE, checks it belongs to this dialog, answers 200.
    async fn expect_bye_and_answer(&self) -> String {
        let bye = self.recv().await;
        let port = self.port();
        assert!(
            bye.starts_with(&format!("BYE sip:caller@127.0.0.1:{port} SIP/2.0\r\n")),
            "a BYE to our Contact: {bye}"
        );
        assert_eq!(header(&bye, "Call-ID"), Some(self.call_id));
        assert_eq!(
            header(&bye, "From").and_then(|f| f.split(";tag=").nth(1)),
            Some(self.their_tag.as_str()),
            "From carries Hushpay's tag"
        );
        assert_eq!(
            header(&bye, "To"),
            Some("<sip:caller@127.0.0.1>;tag=hu-caller")
        );
        assert!(header(&bye, "CSeq").unwrap().ends_with(" BYE"));
        let mut ok = String::from("SIP/2.0 200 OK\r\n");
        for name in ["Via", "From", "To", "Call-ID", "CSeq"] {
            ok.push_str(&format!("{name}: {}\r\n", header(&bye, name).unwrap()));
        }
        ok.push_str("Content-Length: 0\r\n\r\n");
        self.sip.send_to(ok.as_bytes(), self.target).await.unwrap();
        bye
    }
}

fn header<'s>(msg: &'s str, name: &str) -> Option<&'s str> {
    msg.split("\r\n").find_map(|l| {
        l.split_once(':')
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
    })
}

/// Ends room `call-1` as `DELETE /v1/rooms/{id}` does (stored, then closed), its end stamped
/// `ahead` seconds from now.
async fn end_room(gw: &TestGateway, tenant: &TenantId, ahead: i64) {
    let at = i64::try_from(hushpay_auth::unix_now()).unwrap() + ahead;
    assert!(gw.state.store.end_room(tenant, "call-1", at).await.unwrap());
    let key = RoomKey {
        tenant: tenant.to_string(),
        name: "call-1".into(),
    };
    assert!(gw.state.sfu.end_room(&key, "ended by the tenant", at).await);
}

pub(crate) async fn participants(
    gw: &TestGateway,
    n: usize,
) -> std::sync::Arc<hushpay::sfu::room::Room> {
    for _ in 0..250 {
        if let Some(r) = gw.state.sfu.rooms.all().into_iter().next()
            && r.participant_count() == n
        {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the room never had {n} participants");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_the_room_hangs_up_its_phone_caller_with_a_bye() {
    let gw = gateway().await;
    let (t, key) = gw.tenant("clinic").await;
    let server = sip_listener(&gw, t.id.as_str()).await;
    let _agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    let mut caller = Caller::new("hang-up-1", server.udp_addr).await;
    caller.call().await;
    let room = participants(&gw, 2).await;
    let calls_ended = || gw.state.metrics.sip.calls_ended.load(Ordering::Relaxed);
    let ended_before = calls_ended();

    end_room(&gw, &TenantId::new(t.id.as_str()), 0).await;
    caller.expect_bye_and_answer().await;
    // answered: no retransmission (the first would come 500 ms after the BYE)
    assert_eq!(caller.recv_within(Duration::from_millis(1_500)).await, None);
    assert!(room.is_closed());
    for _ in 0..100 {
        if room.participant_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(room.participant_count(), 0, "the caller left the room");
    assert_eq!(calls_ended(), ended_before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_whose_room_has_ended_is_hung_up_once_it_is_up() {
    let gw = gateway().await;
    let (t, key) = gw.tenant("clinic").await;
    let server = sip_listener(&gw, t.id.as_str()).await;
    // the dispatched room existed and was ended: it cannot be joined again
    let agent = bot(&gw, token(&gw, &key, "agent-7", "call-1", "agent").await).await;
    // stored as ended a minute from now, so that the caller's join (stamped now) is refused
    // even when the clock's second turns between the two
    end_room(&gw, &TenantId::new(t.id.as_str()), 60).await;
    drop(agent);
    let mut caller = Caller::new("hang-up-2", server.udp_addr).await;
    caller.call().await;
    caller.expect_bye_and_answer().await;
    assert_eq!(caller.recv_within(Duration::from_millis(1_500)).await, None);
}
