//! The cluster's directory, in three NATS JetStream key-value buckets named after the
//! cluster (`<name>_nodes`, `<name>_rooms`, `<name>_payments`):
//!
//! * **nodes**: one entry per live node (its public URL, whether it drains), written every
//!   third of the node lease; the bucket's `max_age` is the lease, so a node that stops
//!   renewing (killed, cut off) disappears from it one lease later. A node's liveness is the
//!   presence of its entry: nothing else needs renewing;
//! * **rooms**: room → owner node. A room is placed by the first join (or payment) that finds
//!   no live owner: `create` when there is no entry, `update` at the read revision when the
//!   owner is dead, so two nodes racing for a room cannot both win. The owner deletes the entry
//!   when the room closes;
//! * **payments**: open payment → its room and node, written by the room's owner when a payment
//!   is prepared there and deleted when it ends; survivors fail the entries of a dead node
//!   (`node_lost`, [`super::reaper`]).

use std::time::Duration;

use async_nats::jetstream::{self, kv};
use base64::Engine;
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};

use super::ClusterError;
use crate::sfu::room::RoomKey;

/// A live node as the directory shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeEntry {
    pub node_id: String,
    /// Where browsers reach its signalling.
    pub public_url: String,
    /// It takes no new rooms.
    #[serde(default)]
    pub draining: bool,
    /// Its open rooms per tenant (as of its last renewal): the cluster-wide room limit sums
    /// them.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub rooms: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RoomEntry {
    node: String,
}

/// An open payment held on a node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentEntry {
    pub payment: String,
    pub tenant: String,
    pub room: String,
    pub node: String,
}

/// Where a room is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// On this node (placed here now or before).
    Here,
    /// On another live node.
    Elsewhere(NodeEntry),
}

/// The three buckets (and the streams behind the two that are listed).
#[derive(Debug, Clone)]
pub struct Directory {
    nodes: kv::Store,
    rooms: kv::Store,
    payments: kv::Store,
    nodes_stream: jetstream::stream::Stream,
    payments_stream: jetstream::stream::Stream,
    me: String,
}

/// How long a listing may take before it counts as failed.
const LIST_TIMEOUT: Duration = Duration::from_secs(3);

/// The keys present in a bucket's stream (delete markers included: read each to know),
/// from the stream's subject counts. (The key-value `keys()` listing follows an ordered
/// consumer that can wait forever when an entry expires while it reads, which is exactly
/// when the node list is needed.)
async fn list_keys(
    stream: &jetstream::stream::Stream,
    bucket: &str,
) -> Result<Vec<String>, ClusterError> {
    let prefix = format!("$KV.{bucket}.");
    let listing = async {
        let mut info = stream
            .info_with_subjects(format!("{prefix}>"))
            .await
            .map_err(|e| ClusterError::Directory(format!("list {bucket}: {e}")))?;
        let mut keys = Vec::new();
        while let Some((subject, _count)) = info
            .try_next()
            .await
            .map_err(|e| ClusterError::Directory(format!("list {bucket}: {e}")))?
        {
            if let Some(key) = subject.strip_prefix(&prefix) {
                keys.push(key.to_owned());
            }
        }
        Ok(keys)
    };
    tokio::time::timeout(LIST_TIMEOUT, listing)
        .await
        .map_err(|_| ClusterError::Directory(format!("list {bucket}: timed out")))?
}

/// The bucket name of `what` in cluster `name`.
fn bucket(name: &str, what: &str) -> String {
    format!("{name}_{what}")
}

/// A key-value key for a room: the tenant and the name, each base64url (room names may hold
/// characters keys may not).
pub fn room_key(key: &RoomKey) -> String {
    let b = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("{}.{}", b.encode(&key.tenant), b.encode(&key.name))
}

fn kv_err(what: &str, e: impl std::fmt::Display) -> ClusterError {
    ClusterError::Directory(format!("{what}: {e}"))
}

impl Directory {
    /// Opens (creating when missing) the buckets of cluster `name` for node `me`.
    pub async fn open(
        js: &jetstream::Context,
        name: &str,
        me: &str,
        lease: Duration,
    ) -> Result<Self, ClusterError> {
        // The bucket's stream is made here rather than by `create_key_value`, which first
        // reads account fields that NATS servers before 2.10 do not send (Debian 12 has 2.9);
        // the configuration is the one `create_key_value` makes for a history of 1.
        let open = |what: &'static str, max_age: Duration| async move {
            let bucket = bucket(name, what);
            let config = jetstream::stream::Config {
                name: format!("KV_{bucket}"),
                subjects: vec![format!("$KV.{bucket}.>")],
                max_messages_per_subject: 1,
                max_age,
                storage: jetstream::stream::StorageType::File,
                allow_rollup: true,
                deny_delete: true,
                allow_direct: true,
                discard: jetstream::stream::DiscardPolicy::New,
                num_replicas: 1,
                ..jetstream::stream::Config::default()
            };
            let stream = js
                .get_or_create_stream(config)
                .await
                .map_err(|e| ClusterError::Directory(format!("bucket {bucket}: {e}")))?;
            let store = js
                .get_key_value(bucket.clone())
                .await
                .map_err(|e| ClusterError::Directory(format!("bucket {bucket}: {e}")))?;
            Ok::<_, ClusterError>((stream, store))
        };
        let (nodes_stream, nodes) = open("nodes", lease).await?;
        let (_, rooms) = open("rooms", Duration::ZERO).await?;
        let (payments_stream, payments) = open("payments", Duration::ZERO).await?;
        Ok(Self {
            nodes,
            rooms,
            payments,
            nodes_stream,
            payments_stream,
            me: me.to_owned(),
        })
    }

    /// This node's id.
    pub fn me(&self) -> &str {
        &self.me
    }

    /// Writes this node's entry (the lease renewal).
    pub async fn heartbeat(&self, entry: &NodeEntry) -> Result<(), ClusterError> {
        let value =
            serde_json::to_vec(entry).map_err(|e| ClusterError::Directory(e.to_string()))?;
        self.nodes
            .put(&entry.node_id, value.into())
            .await
            .map(|_| ())
            .map_err(|e| kv_err("heartbeat", e))
    }

    /// Removes this node's entry (a clean exit: its rooms are placeable at once).
    pub async fn leave(&self) -> Result<(), ClusterError> {
        self.nodes
            .delete(&self.me)
            .await
            .map_err(|e| kv_err("leave", e))
    }

    /// The node `id` if it is live.
    pub async fn node(&self, id: &str) -> Result<Option<NodeEntry>, ClusterError> {
        let entry = self.nodes.get(id).await.map_err(|e| kv_err("node", e))?;
        Ok(entry.and_then(|v| serde_json::from_slice(&v).ok()))
    }

    /// Every live node.
    pub async fn live_nodes(&self) -> Result<Vec<NodeEntry>, ClusterError> {
        let keys = list_keys(&self.nodes_stream, self.nodes.name.as_str()).await?;
        let mut nodes = Vec::with_capacity(keys.len());
        for k in keys {
            if let Some(n) = self.node(&k).await? {
                nodes.push(n);
            }
        }
        nodes.sort_by(|a, b| a.node_id.cmp(&b.node_id));
        Ok(nodes)
    }

    /// The live owner of `key`, if any (this node included).
    pub async fn owner(&self, key: &RoomKey) -> Result<Option<NodeEntry>, ClusterError> {
        let Some(entry) = self.room_entry(key).await? else {
            return Ok(None);
        };
        let owner: Option<RoomEntry> = serde_json::from_slice(&entry.value).ok();
        match owner {
            Some(o) => self.node(&o.node).await,
            None => Ok(None),
        }
    }

    async fn room_entry(&self, key: &RoomKey) -> Result<Option<kv::Entry>, ClusterError> {
        let entry = self
            .rooms
            .entry(room_key(key))
            .await
            .map_err(|e| kv_err("room", e))?;
        Ok(entry.filter(|e| e.operation == kv::Operation::Put))
    }

    /// Places `key`: where it is when its owner lives, else here, unless this node drains,
    /// when another live node that does not drain is named (it places the room on the join
    /// it is sent). A draining node with no other node to send to keeps the room.
    pub async fn place(&self, key: &RoomKey, draining: bool) -> Result<Placement, ClusterError> {
        let k = room_key(key);
        let mine = serde_json::to_vec(&RoomEntry {
            node: self.me.clone(),
        })
        .map_err(|e| ClusterError::Directory(e.to_string()))?;
        for _ in 0..5 {
            let current = self
                .rooms
                .entry(k.clone())
                .await
                .map_err(|e| kv_err("room", e))?;
            let live = match &current {
                Some(e) if e.operation == kv::Operation::Put => {
                    match serde_json::from_slice::<RoomEntry>(&e.value) {
                        Ok(o) if o.node == self.me => return Ok(Placement::Here),
                        Ok(o) => self.node(&o.node).await?,
                        Err(_) => None,
                    }
                }
                _ => None,
            };
            if let Some(owner) = live {
                return Ok(Placement::Elsewhere(owner));
            }
            if draining && let Some(other) = self.pick_other().await? {
                return Ok(Placement::Elsewhere(other));
            }
            let won = match &current {
                Some(e) => self
                    .rooms
                    .update(&k, mine.clone().into(), e.revision)
                    .await
                    .is_ok(),
                None => self.rooms.create(&k, mine.clone().into()).await.is_ok(),
            };
            if won {
                return Ok(Placement::Here);
            }
        }
        Err(ClusterError::Directory(
            "the room's placement kept changing".into(),
        ))
    }

    /// A live node other than this one that takes new rooms.
    async fn pick_other(&self) -> Result<Option<NodeEntry>, ClusterError> {
        let nodes = self.live_nodes().await?;
        let open: Vec<_> = nodes
            .into_iter()
            .filter(|n| n.node_id != self.me && !n.draining)
            .collect();
        if open.is_empty() {
            return Ok(None);
        }
        let i = rand::Rng::gen_range(&mut rand::thread_rng(), 0..open.len());
        Ok(open.into_iter().nth(i))
    }

    /// Forgets `key`'s placement if it is still this node's.
    pub async fn release(&self, key: &RoomKey) -> Result<(), ClusterError> {
        let Some(entry) = self.room_entry(key).await? else {
            return Ok(());
        };
        match serde_json::from_slice::<RoomEntry>(&entry.value) {
            Ok(o) if o.node == self.me => self
                .rooms
                .delete_expect_revision(room_key(key), Some(entry.revision))
                .await
                .map_err(|e| kv_err("release", e)),
            _ => Ok(()),
        }
    }

    /// Records an open payment held on this node.
    pub async fn hold_payment(&self, entry: &PaymentEntry) -> Result<(), ClusterError> {
        let value =
            serde_json::to_vec(entry).map_err(|e| ClusterError::Directory(e.to_string()))?;
        self.payments
            .put(&entry.payment, value.into())
            .await
            .map(|_| ())
            .map_err(|e| kv_err("payment", e))
    }

    /// Forgets an open payment (it ended, or was failed for its dead node).
    pub async fn drop_payment(&self, id: &str) -> Result<(), ClusterError> {
        self.payments
            .delete(id)
            .await
            .map_err(|e| kv_err("payment", e))
    }

    /// Every open payment entry.
    pub async fn open_payments(&self) -> Result<Vec<PaymentEntry>, ClusterError> {
        let keys = list_keys(&self.payments_stream, self.payments.name.as_str()).await?;
        let mut out = Vec::with_capacity(keys.len());
        for k in keys {
            let value = self
                .payments
                .get(&k)
                .await
                .map_err(|e| kv_err("payment", e))?;
            if let Some(entry) = value.and_then(|v| serde_json::from_slice(&v).ok()) {
                out.push(entry);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn room_keys_are_valid_key_value_keys_for_any_room_name() {
        let key = RoomKey {
            tenant: "ten_abc".into(),
            name: "a:b@c.d-e_f".into(),
        };
        let k = room_key(&key);
        assert!(
            k.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
            "{k}"
        );
        let other = RoomKey {
            tenant: "ten_ab".into(),
            name: "ca:b@c.d-e_f".into(),
        };
        assert_ne!(k, room_key(&other));
    }
}
