//! A third-party IVR hands its caller over for a payment (issue 15, "on-demand media").
//!
//! The tenant's backend creates an `ivr` payment with `channel: "sip"` (and, optionally, the
//! `return_uri` to send the caller back to); the IVR transfers its caller to the payment's
//! `sip_uri` (`sip:<payment id>@...`, routed by a `payments = true` dispatch rule). Here:
//!
//! * the call is answered only if it names such a payment of the trunk's tenant, still
//!   `requested` and unexpired, with nobody in its room yet; anything else is refused `404`
//!   before any media flows (the same answer for every reason: nothing to probe);
//! * the caller joins the payment's own room (`sip-<id>`) as its patient and Hushpay's IVR
//!   runs the payment there — the same prompts, masker and collector as for a room's patient;
//! * when the payment ends the caller is sent back: a REFER to `return_uri` (the result in
//!   `X-Hushpay-*` headers on it and inside its `Refer-To`), then a BYE once the transfer has
//!   gone one way or the other; without a `return_uri`, a BYE carrying the result. The
//!   `payment.*` webhook reports it as for any payment.
//!
//! No card data reaches the IVR's side: only what a webhook carries (masked).

use hushpay_vault::payment::{Method, Payment, State};
use tokio::sync::oneshot;

use super::ivr_call;
use super::phone::{self, SendBack};
use super::room::RoomKey;
use crate::app::AppState;
use crate::sip::hand_off::result_headers;
use crate::sip::leg::{LegEvent, PhoneCall};

/// Checks, answers and carries one call to a hand-off payment.
pub async fn run(state: AppState, mut call: PhoneCall) {
    let Some(payment) = open_payment(&state, &call).await else {
        tracing::info!(
            call = call.call.0,
            "hand-off call refused: no open payment of the trunk's tenant by that name"
        );
        call.leg.answer(false);
        while let Some(ev) = call.leg.recv().await {
            if matches!(ev, LegEvent::Ended(_)) {
                break;
            }
        }
        return;
    };
    call.leg.answer(true);
    let key = RoomKey {
        tenant: payment.tenant.clone(),
        name: payment.room.clone().unwrap_or_default(),
    };
    let Some((room, p, mut path)) = phone::enter(&state.sfu, &mut call, key).await else {
        return;
    };
    let (tx, rx) = oneshot::channel();
    let id = payment.id.clone();
    match ivr_call::start(&state, &payment).await {
        Ok(flow) => {
            let state = state.clone();
            let guard = state.sfu.task_guard();
            tokio::spawn(async move {
                let _guard = guard;
                let _ = flow.await;
                if let Some(back) = send_back(&state, &id).await {
                    let _ = tx.send(back);
                }
            });
        }
        Err(e) => {
            tracing::warn!(payment = %id, error = %e, "the hand-off IVR did not start");
            let ended = ivr_call::abandon(&state, &payment, e).await;
            let p = ended.unwrap_or(payment);
            let _ = tx.send(SendBack {
                target: p.hand_off.as_ref().and_then(|h| h.return_uri.clone()),
                headers: result_headers(&p),
            });
        }
    }
    path.run(&mut call.leg, Some(rx)).await;
    phone::leave(&state.sfu, &room, &p).await;
}

/// The payment the call names, if the caller may pay it now.
async fn open_payment(state: &AppState, call: &PhoneCall) -> Option<Payment> {
    let id = call.called.as_deref()?;
    let payment = state.payments.load(id).await.ok()?.payment;
    let now = i64::try_from(hushpay_auth::unix_now()).unwrap_or(i64::MAX);
    let open = payment.tenant == call.tenant
        && payment.method == Method::Ivr
        && payment.hand_off.is_some()
        && payment.state == State::Requested
        && payment.expires_at > now;
    let room = payment.room.as_deref()?;
    let empty = state
        .sfu
        .rooms
        .get(&RoomKey {
            tenant: payment.tenant.clone(),
            name: room.to_owned(),
        })
        .is_none_or(|r| r.participant_count() == 0);
    (open && empty).then_some(payment)
}

/// Where the caller goes now that the payment's IVR has ended, with its result.
async fn send_back(state: &AppState, id: &str) -> Option<SendBack> {
    let p = match state.payments.load(id).await {
        Ok(l) => l.payment,
        Err(e) => {
            tracing::warn!(payment = %id, error = %e, "cannot read the hand-off payment's result");
            return None;
        }
    };
    Some(SendBack {
        target: p.hand_off.as_ref().and_then(|h| h.return_uri.clone()),
        headers: result_headers(&p),
    })
}
