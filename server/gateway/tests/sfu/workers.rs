//! Issue 13, "rooms placed on workers": with `rtc.workers = 2` the gateway runs two media
//! threads on two UDP ports, places rooms on them in turn, and a call works on each: the
//! agent hears the patient (masked) and the patient hears the agent, whichever worker the
//! room landed on.

use std::collections::HashSet;

use hushpay::sfu::room::RoomKey;

use crate::common::TestGateway;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rooms_on_two_workers_each_carry_a_call() {
    let gw = TestGateway::start(&[
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
        ("HUSHPAY__RTC__WORKERS", "2"),
    ])
    .await;
    let engines = gw.state.sfu.media.engines();
    assert_eq!(engines.len(), 2, "two media workers");
    assert_ne!(
        engines[0].udp_addr(),
        engines[1].udp_addr(),
        "each worker has its own UDP port"
    );
    let (tenant, key) = gw.tenant("clinic").await;
    let words = speech("your appointment is confirmed for tuesday morning");
    let mut workers = HashSet::new();
    for room in ["call-a", "call-b"] {
        let agent = bot(&gw, token(&gw, &key, "agent-1", room, "agent").await).await;
        let patient = bot(&gw, token(&gw, &key, "patient-1", room, "patient").await).await;
        let placed = gw
            .state
            .sfu
            .rooms
            .get(&RoomKey {
                tenant: tenant.id.to_string(),
                name: room.to_owned(),
            })
            .expect("the room is open")
            .worker;
        workers.insert(placed);
        let agent_up = agent.uplink();
        let (p, a) = tokio::join!(patient.play(&words, &[]), agent_up.play(&words, &[]));
        p.unwrap();
        a.unwrap();
        drained(&agent).await;
        drained(&patient).await;
        for (who, heard) in [
            ("agent", agent.recording()),
            ("patient", patient.recording()),
        ] {
            let got = heard.len() as f64 / words.len() as f64;
            assert!(
                got > 0.9,
                "room {room} on worker {placed}: the {who} got {:.0}% of the audio",
                got * 100.0
            );
            assert!(
                rms(&heard) > 0.25 * rms(&words),
                "{room}: the {who} hears speech"
            );
        }
    }
    assert_eq!(
        workers.len(),
        2,
        "the two rooms were placed on different workers"
    );
}
