//! The payment service's [`ChangeRoute`] on a node of a cluster: a change of a payment bound
//! to a room goes to the room's node over the bus; a payment for a room no live node holds
//! places the room here (so whichever node the participants join later, the pause is where
//! the room is).

use std::sync::Arc;

use super::bus::{Reply, Request, WireChange};
use super::directory::{PaymentEntry, Placement};
use super::{Cluster, ClusterError};
use crate::payments::PaymentChange;
use crate::payments::route::{Applied, ChangeRoute, Unreachable};
use crate::sfu::room::RoomKey;

/// Routes changes over the bus.
#[derive(Debug)]
pub struct BusRoute {
    cluster: Arc<Cluster>,
}

impl BusRoute {
    pub fn new(cluster: Arc<Cluster>) -> Self {
        Self { cluster }
    }

    async fn ask(&self, node: &str, req: Request) -> Result<(), Unreachable> {
        match self.cluster.request(node, &req).await {
            Ok(Reply::Ok { .. }) => Ok(()),
            Ok(Reply::Refused { code, message, .. }) => Err(Unreachable(format!(
                "node {node} refused: {code}: {message}"
            ))),
            Err(e) => Err(Unreachable(e.to_string())),
        }
    }
}

fn room_of(change: &PaymentChange) -> Option<RoomKey> {
    change.payment.room.as_ref().map(|name| RoomKey {
        tenant: change.tenant.clone(),
        name: name.clone(),
    })
}

fn unreachable(e: ClusterError) -> Unreachable {
    Unreachable(e.to_string())
}

#[async_trait::async_trait]
impl ChangeRoute for BusRoute {
    async fn prepare(&self, change: &PaymentChange) -> Result<Applied, Unreachable> {
        let Some(key) = room_of(change) else {
            return Ok(Applied::Here);
        };
        // A payment is a reason to hold the room, not a new call: a draining node keeps it.
        match self.cluster.place(&key, false).await.map_err(unreachable)? {
            Placement::Here => {
                let entry = PaymentEntry {
                    payment: change.payment.id.clone(),
                    tenant: key.tenant.clone(),
                    room: key.name.clone(),
                    node: self.cluster.node_id().to_owned(),
                };
                self.cluster
                    .directory
                    .hold_payment(&entry)
                    .await
                    .map_err(unreachable)?;
                Ok(Applied::Here)
            }
            Placement::Elsewhere(node) => {
                let req = Request::Prepare {
                    change: WireChange::from(change),
                };
                self.ask(&node.node_id, req).await?;
                Ok(Applied::Remote)
            }
        }
    }

    async fn deliver(&self, change: &PaymentChange) -> Result<Applied, Unreachable> {
        let Some(key) = room_of(change) else {
            return Ok(Applied::Here);
        };
        let owner = self
            .cluster
            .directory
            .owner(&key)
            .await
            .map_err(unreachable)?;
        match owner {
            Some(node) if node.node_id != self.cluster.node_id() => {
                let req = Request::Change {
                    change: WireChange::from(change),
                };
                self.ask(&node.node_id, req).await?;
                Ok(Applied::Remote)
            }
            // Here, or nowhere (its node died): what hooks there are run here.
            _ => {
                if change.payment.state.is_terminal()
                    && let Err(e) = self
                        .cluster
                        .directory
                        .drop_payment(&change.payment.id)
                        .await
                {
                    tracing::warn!(error = %e, "open payment entry not removed");
                }
                Ok(Applied::Here)
            }
        }
    }

    async fn abandon(&self, change: &PaymentChange) {
        let Some(key) = room_of(change) else {
            return;
        };
        let owner = self.cluster.directory.owner(&key).await;
        if let Ok(Some(node)) = &owner
            && node.node_id == self.cluster.node_id()
        {
            // Prepared here: nothing ran yet but the entry.
            let _ = self
                .cluster
                .directory
                .drop_payment(&change.payment.id)
                .await;
        } else if let Ok(Some(node)) = owner {
            let req = Request::Abandon {
                change: WireChange::from(change),
            };
            if let Err(e) = self.ask(&node.node_id, req).await {
                tracing::warn!(error = %e, "abandoned payment not reported to the room's node");
            }
        }
    }
}
