//! This node's side of the bus: answers what other nodes ask about the rooms it holds
//! ([`super::bus::Request`]). Each request is handled on a task of its own; a hostile or
//! malformed one gets a `refused` answer (and a log line), never a panic.

use std::sync::Arc;

use futures_util::StreamExt;
use serde_json::json;

use super::bus::{MAX_REQUEST_BYTES, Reply, Request, WireChange};
use super::directory::{PaymentEntry, Placement};
use super::{Cluster, ClusterError};
use crate::app::AppState;
use crate::payments::PaymentChange;
use crate::sfu::room::RoomKey;

/// Subscribes to this node's subject (before the node is announced, so no request is lost).
pub async fn subscribe(cluster: &Cluster) -> Result<async_nats::Subscriber, ClusterError> {
    cluster
        .client()
        .subscribe(cluster.subject(cluster.node_id()))
        .await
        .map_err(|e| ClusterError::Bus(format!("subscribe: {e}")))
}

/// Answers requests for the life of the node.
pub async fn run(cluster: Arc<Cluster>, state: AppState, mut requests: async_nats::Subscriber) {
    while let Some(msg) = requests.next().await {
        let Some(reply_to) = msg.reply.clone() else {
            continue;
        };
        let cluster = Arc::clone(&cluster);
        let state = state.clone();
        tokio::spawn(async move {
            let reply = if msg.payload.len() > MAX_REQUEST_BYTES {
                Reply::refused("bad_request", "request too large")
            } else {
                match serde_json::from_slice::<Request>(&msg.payload) {
                    Ok(req) => answer(&cluster, &state, req).await,
                    Err(e) => {
                        tracing::warn!(error = %e, "malformed cluster request refused");
                        Reply::refused("bad_request", "malformed request")
                    }
                }
            };
            let body = serde_json::to_vec(&reply).unwrap_or_default();
            if let Err(e) = cluster.client().publish(reply_to, body.into()).await {
                tracing::warn!(error = %e, "cluster reply not sent");
            }
        });
    }
}

fn change_of(wire: WireChange) -> Result<(PaymentChange, RoomKey), Reply> {
    let change = wire
        .into_change()
        .ok_or_else(|| Reply::refused("bad_request", "unknown event or tenant"))?;
    let room = change
        .payment
        .room
        .clone()
        .ok_or_else(|| Reply::refused("bad_request", "the payment has no room"))?;
    let key = RoomKey {
        tenant: change.tenant.clone(),
        name: room,
    };
    Ok((change, key))
}

/// True when this node holds `key` (and may vouch for it).
async fn holds(cluster: &Cluster, key: &RoomKey) -> Result<(), Reply> {
    if !cluster.healthy() {
        return Err(Reply::refused("unavailable", "this node lost the cluster"));
    }
    match cluster.directory.place(key, false).await {
        Ok(Placement::Here) => Ok(()),
        Ok(Placement::Elsewhere(n)) => Err(Reply::refused(
            "not_owner",
            format!("the room is on {}", n.node_id),
        )),
        Err(e) => Err(Reply::refused("unavailable", e.to_string())),
    }
}

/// A payment error as the HTTP API would answer it.
fn refused(e: crate::payments::PaymentError) -> Reply {
    let api = crate::error::ApiError::from(e);
    Reply::Refused {
        code: api.code.to_owned(),
        message: api.message,
        status: Some(api.status.as_u16()),
    }
}

async fn answer(cluster: &Cluster, state: &AppState, req: Request) -> Reply {
    match req {
        Request::Prepare { change } => {
            let (change, key) = match change_of(change) {
                Ok(c) => c,
                Err(r) => return r,
            };
            if let Err(r) = holds(cluster, &key).await {
                return r;
            }
            let entry = PaymentEntry {
                payment: change.payment.id.clone(),
                tenant: key.tenant.clone(),
                room: key.name.clone(),
                node: cluster.node_id().to_owned(),
            };
            if let Err(e) = cluster.directory.hold_payment(&entry).await {
                return Reply::refused("unavailable", e.to_string());
            }
            state.payments.prepare_remote_change(&change);
            Reply::ok()
        }
        Request::Change { change } => {
            let (change, _key) = match change_of(change) {
                Ok(c) => c,
                Err(r) => return r,
            };
            let id = change.payment.id.clone();
            let ended = change.payment.state.is_terminal();
            state.payments.apply_remote_change(change);
            if ended && let Err(e) = cluster.directory.drop_payment(&id).await {
                tracing::warn!(error = %e, payment = %id, "open payment entry not removed");
            }
            Reply::ok()
        }
        Request::Abandon { change } => {
            let (change, key) = match change_of(change) {
                Ok(c) => c,
                Err(r) => return r,
            };
            let reason = crate::recording::windows::payment_reason(&change.payment.id);
            if let Err(e) = state.recorder.resume(&key, &reason, "system").await {
                tracing::warn!(error = %e, "abandoned payment's recording pause stays (resume not audited)");
            }
            let _ = cluster.directory.drop_payment(&change.payment.id).await;
            Reply::ok()
        }
        Request::EndRoom {
            tenant,
            room,
            ended_at,
        } => {
            let key = RoomKey { tenant, name: room };
            state
                .sfu
                .end_room(&key, "ended by the tenant", ended_at)
                .await;
            Reply::ok()
        }
        Request::Consent { tenant, room, by } => {
            let key = RoomKey { tenant, name: room };
            if let Some(room) = state.sfu.rooms.get(&key) {
                room.consent.give();
            }
            match state.recorder.consent(&key, &by).await {
                Ok(rec) => Reply::Ok {
                    view: Some(json!(rec)),
                },
                Err(_) => Reply::refused("audit_unavailable", "the resume could not be audited"),
            }
        }
        Request::Complete {
            payment,
            actor,
            request_id,
        } => {
            let actor = hushpay_vault::Actor {
                who: actor,
                request_id,
            };
            let done = match state.payments.load(&payment).await {
                Ok(loaded) => state.payments.complete(&actor, &loaded).await,
                Err(e) => Err(e),
            };
            match done {
                Ok(done) => Reply::Ok {
                    view: Some(json!(done.payment)),
                },
                Err(e) => refused(e),
            }
        }
        Request::IvrStart { payment } => {
            let mut payment = match state.payments.load(&payment).await {
                Ok(l) => l.payment,
                Err(e) => return refused(e),
            };
            if let Err(e) = crate::sfu::ivr_call::start(state, &payment).await {
                tracing::warn!(payment = %payment.id, error = %e, "the IVR did not start");
                if let Some(ended) = crate::sfu::ivr_call::abandon(state, &payment, e).await {
                    payment = ended;
                }
            }
            Reply::Ok {
                view: Some(json!(payment)),
            }
        }
        Request::Offer {
            payment,
            client_secret,
        } => {
            let payment = match state.payments.load(&payment).await {
                Ok(l) => l.payment,
                Err(e) => return refused(e),
            };
            let offered = crate::sfu::payment_offer::offer(
                &state.sfu,
                &payment,
                client_secret.as_deref(),
                &state.config.public_url,
            )
            .await;
            Reply::Ok {
                view: Some(json!(offered)),
            }
        }
        Request::RoomView { tenant, room } => {
            let key = RoomKey { tenant, name: room };
            match state.sfu.rooms.get(&key) {
                Some(room) => Reply::Ok {
                    view: Some(json!(room.view(None))),
                },
                None => Reply::refused("not_owner", "the room is not open here"),
            }
        }
    }
}
