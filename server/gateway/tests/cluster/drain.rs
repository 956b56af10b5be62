//! SIGTERM drains a node: `/readyz` goes unready at once, the call it holds goes on to its
//! end, joins for new rooms reaching it are sent to the other node, and it exits once its
//! call ended.

use std::time::Duration;

use crate::harness::{drained, rms, speech};
use crate::nodes::{Cluster, bot, join};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_node_keeps_its_call_and_sends_new_rooms_elsewhere() {
    let mut cluster = Cluster::start("clusterdrain", 2).await;
    let room = "visit-1";
    let patient = join(&cluster, 1, "patient-1", room, "patient").await;
    let agent = join(&cluster, 1, "agent-7", room, "agent").await;

    cluster.terminate(1);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let r = cluster
            .client
            .get(cluster.url(1, "/readyz"))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            let v: serde_json::Value = r.json().await.unwrap();
            assert_eq!(v["error"]["code"], "draining", "{v}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node-1 still ready after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The call goes on.
    let before = agent.recording().len();
    patient
        .play(&speech("I am still here."), &[])
        .await
        .unwrap();
    drained(&agent).await;
    assert!(
        rms(&agent.recording()[before..]) > 300.0,
        "the agent still hears the patient: {}",
        cluster.stderr(1)
    );

    // A new room's join at node-1 goes to node-2.
    let other = bot(
        &cluster,
        1,
        cluster.token(1, "patient-2", "visit-2", "patient").await,
    )
    .await;
    let (_, view) = cluster.get(2, "/v1/rooms/visit-2").await;
    assert_eq!(view["node"], "node-2", "{view}");
    other.leave().await;
    assert!(cluster.node(1).child.id() > 0);

    // The call ends; node-1 exits on its own.
    agent.leave().await;
    patient.leave().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    let node = cluster.nodes[0].as_mut().unwrap();
    let status = loop {
        if let Some(s) = node.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node-1 did not exit after its call ended"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "node-1 exited with {status}");
}
