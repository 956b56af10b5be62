//! A gateway node in a cluster (`[cluster]`): many nodes on one PostgreSQL store and one NATS
//! server. Absent, the gateway is a single node and nothing here runs.
//!
//! What it promises (docs/cluster.md):
//!
//! * **one place per room**: a room lives on exactly one live node ([`directory`]); a join that
//!   reaches another node is answered `redirect` to the owner's public URL, and the SDK and the
//!   bots join there. A node that dies stops renewing its entry and its rooms are placed again
//!   by the next join, one node lease later;
//! * **changes reach the room** ([`bus`], [`route`]): every change of a payment bound to a room
//!   is applied on the room's node, whichever node made it (request/reply on NATS, with a
//!   deadline); a payment is created only after the room's node has closed its recording
//!   window for it, else it is refused `503 room_unreachable` with nothing created. Room ends,
//!   consents and room views travel the same way;
//! * **fail closed** ([`health`]): a node that loses the bus or the store stops recording its
//!   rooms (an audited pause) and takes no payment for them until both are back;
//! * **nothing lost with a node** ([`reaper`]): the open payments of a dead node's rooms fail
//!   `node_lost` (the digits keyed there died with it);
//! * **limits**: a room's participant limit holds where the room is; the rooms a tenant may
//!   have open count every node's rooms (each node's entry carries its count per tenant);
//! * **drain**: a draining node sends new rooms to other nodes and keeps its calls.

pub mod bus;
pub mod config;
pub mod directory;
pub mod health;
pub mod reaper;
pub mod route;
pub mod serve;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_nats::connection::State as ConnectionState;
use tokio::task::JoinHandle;

use crate::app::AppState;
use crate::sfu::room::RoomKey;
pub use config::ClusterConfig;
pub use directory::{Directory, NodeEntry, Placement};

/// Cluster errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    #[error("cannot connect to NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("cluster directory: {0}")]
    Directory(String),
    #[error("cluster bus: {0}")]
    Bus(String),
    /// This node lost the bus or the store: it vouches for no placement.
    #[error("this node has lost the cluster (bus or store)")]
    Unavailable,
}

/// This node's view of the cluster.
#[derive(Debug)]
pub struct Cluster {
    pub config: ClusterConfig,
    client: async_nats::Client,
    pub directory: Directory,
    /// The store answered the last health check ([`health`]).
    store_ok: AtomicBool,
}

impl Cluster {
    /// Connects to NATS and opens the directory.
    pub async fn connect(config: ClusterConfig) -> Result<Self, ClusterError> {
        let connect_err = |e: &dyn std::fmt::Display| ClusterError::Connect {
            url: config.nats_url.clone(),
            reason: e.to_string(),
        };
        let beat = config.node_lease / 3;
        let client = async_nats::ConnectOptions::new()
            .name(format!("hushpay-{}", config.node_id))
            .ping_interval(beat.max(Duration::from_millis(500)))
            .connection_timeout(Duration::from_secs(5))
            .request_timeout(Some(config.request_timeout))
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis((attempts as u64 * 200).min(2000))
            })
            .connect(config.nats_url.as_str())
            .await
            .map_err(|e| connect_err(&e))?;
        let js = async_nats::jetstream::new(client.clone());
        let directory =
            Directory::open(&js, &config.name, &config.node_id, config.node_lease).await?;
        Ok(Self {
            config,
            client,
            directory,
            store_ok: AtomicBool::new(true),
        })
    }

    pub fn node_id(&self) -> &str {
        &self.config.node_id
    }

    /// This node is connected to the bus.
    pub fn bus_up(&self) -> bool {
        self.client.connection_state() == ConnectionState::Connected
    }

    /// Bus and store both answer: this node may vouch for its rooms.
    pub fn healthy(&self) -> bool {
        self.bus_up() && self.store_ok.load(Ordering::Acquire)
    }

    pub(crate) fn set_store_ok(&self, ok: bool) {
        self.store_ok.store(ok, Ordering::Release);
    }

    /// The bus subject of node `id`.
    pub fn subject(&self, id: &str) -> String {
        format!("{}.node.{id}", self.config.name)
    }

    /// Where `key` is (placing it here when no live node holds it; see
    /// [`Directory::place`]). Refused while this node has lost the cluster.
    pub async fn place(&self, key: &RoomKey, draining: bool) -> Result<Placement, ClusterError> {
        if !self.healthy() {
            return Err(ClusterError::Unavailable);
        }
        self.directory.place(key, draining).await
    }

    /// Asks node `id` and waits for its answer (at most `request_timeout`).
    pub async fn request(&self, id: &str, req: &bus::Request) -> Result<bus::Reply, ClusterError> {
        let body = serde_json::to_vec(req).map_err(|e| ClusterError::Bus(e.to_string()))?;
        let reply = tokio::time::timeout(
            self.config.request_timeout,
            self.client.request(self.subject(id), body.into()),
        )
        .await
        .map_err(|_| ClusterError::Bus(format!("node {id} did not answer in time")))?
        .map_err(|e| ClusterError::Bus(format!("node {id}: {e}")))?;
        serde_json::from_slice(&reply.payload)
            .map_err(|e| ClusterError::Bus(format!("node {id} answered garbage: {e}")))
    }

    /// The node holding `key` when that is another live node.
    pub async fn holder_elsewhere(&self, key: &RoomKey) -> Result<Option<String>, ClusterError> {
        let owner = self.directory.owner(key).await?;
        Ok(owner
            .map(|n| n.node_id)
            .filter(|n| n.as_str() != self.node_id()))
    }

    pub(crate) fn client(&self) -> &async_nats::Client {
        &self.client
    }

    /// Writes this node's directory entry now: whether it drains and its open rooms per
    /// tenant.
    pub async fn heartbeat(&self, sfu: &crate::sfu::Sfu) -> Result<(), ClusterError> {
        let mut rooms = std::collections::BTreeMap::new();
        for room in sfu.rooms.all() {
            *rooms.entry(room.key.tenant.clone()).or_insert(0) += 1;
        }
        self.directory
            .heartbeat(&NodeEntry {
                node_id: self.config.node_id.clone(),
                public_url: self.config.public_url.clone(),
                draining: sfu.draining(),
                rooms,
            })
            .await
    }

    /// Rooms `tenant` has open on the other live nodes (as of their last renewal, at most a
    /// third of a lease old).
    pub async fn rooms_elsewhere(&self, tenant: &str) -> Result<usize, ClusterError> {
        let nodes = self.directory.live_nodes().await?;
        Ok(nodes
            .iter()
            .filter(|n| n.node_id != self.config.node_id)
            .filter_map(|n| n.rooms.get(tenant))
            .sum())
    }
}

/// The cluster's background tasks on this node; stopped (and the node's entry removed) by
/// [`Running::stop`].
#[derive(Debug)]
pub struct Running {
    pub cluster: Arc<Cluster>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stops the tasks and leaves the directory (its rooms are placeable at once).
    pub async fn stop(self) {
        for t in &self.tasks {
            t.abort();
        }
        if let Err(e) = self.cluster.directory.leave().await {
            tracing::warn!(error = %e, "could not leave the cluster directory");
        }
    }
}

/// Joins the cluster configured in `state` (nothing when single node): connects, writes this
/// node's entry, routes payment changes, and starts the heartbeat, the bus server, the health
/// watch and the reaper.
pub async fn start(state: &AppState) -> Result<Option<Running>, ClusterError> {
    let Some(config) = state.config.cluster.clone() else {
        return Ok(None);
    };
    let cluster = Arc::new(Cluster::connect(config).await?);
    cluster.heartbeat(&state.sfu).await?;
    let server = serve::subscribe(&cluster).await?;
    state.sfu.set_cluster(Arc::clone(&cluster));
    state
        .payments
        .set_route(Arc::new(route::BusRoute::new(Arc::clone(&cluster))));
    tracing::info!(node = %cluster.node_id(), nats = %cluster.config.nats_url, "joined the cluster");
    let tasks = vec![
        tokio::spawn(heartbeats(Arc::clone(&cluster), state.clone())),
        tokio::spawn(serve::run(Arc::clone(&cluster), state.clone(), server)),
        tokio::spawn(health::run(Arc::clone(&cluster), state.clone())),
        tokio::spawn(reaper::run(Arc::clone(&cluster), state.clone())),
    ];
    Ok(Some(Running { cluster, tasks }))
}

/// Renews this node's entry every third of the lease.
async fn heartbeats(cluster: Arc<Cluster>, state: AppState) {
    let mut tick = tokio::time::interval(cluster.config.node_lease / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = cluster.heartbeat(&state.sfu).await {
            tracing::warn!(error = %e, "cluster heartbeat failed");
        }
    }
}
