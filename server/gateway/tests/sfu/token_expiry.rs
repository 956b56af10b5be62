//! Issue 12, finding 3: a signalling session ends when its token expires, unless the client
//! refreshes it first with a token for the same tenant, room, identity, role and grants.
//! The gateway runs with `auth.leeway_secs = 0`, so `exp` is the end.

use std::time::Duration;

use hushpay_auth::{MintRequest, Role};
use serde_json::json;

use crate::common::TestGateway;
use crate::harness::assert_released;
use crate::signal_ws::*;

async fn gateway() -> TestGateway {
    TestGateway::start(&[
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
        ("HUSHPAY__AUTH__LEEWAY_SECS", "0"),
    ])
    .await
}

/// Proves the signalling socket re-checks `exp`: a joined session is warned
/// (`token_expiring`), then gets `token_expired` at `exp` and close code 4401. On main the
/// session stayed open past `exp` (no frame arrived).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_gets_token_expired_and_is_closed_at_exp() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let (token, exp) = mint(&gw, &key, "p-1", "r-1", "patient", 3).await;
    let mut ws = joined(&gw, &token).await;

    let warning = next(&mut ws).await;
    assert_eq!(warning["type"], "token_expiring", "{warning}");
    assert_eq!(warning["exp"], exp);
    assert!(warning["expires_in"].as_u64().unwrap() <= 3, "{warning}");
    let expired = next(&mut ws).await;
    let at = unix_now_f64();
    assert_eq!(expired, json!({"type": "token_expired", "exp": exp}));
    assert!(
        at >= exp as f64 - 0.05 && at < exp as f64 + 1.0,
        "closed at exp ({exp}), not at {at}"
    );
    assert_eq!(next(&mut ws).await, json!({"type": "closed", "code": 4401}));
    assert_released(&gw).await;
}

/// Proves the documented refresh: a fresh token sent before `exp` moves the session's end to
/// the new `exp`, and the session is still alive after the old one. On main `refresh` was an
/// `unknown_type`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_before_exp_keeps_the_session_alive_past_the_old_exp() {
    let gw = gateway().await;
    let (_t, key) = gw.tenant("clinic").await;
    let (token, old_exp) = mint(&gw, &key, "p-1", "r-1", "patient", 2).await;
    let mut ws = joined(&gw, &token).await;
    let (fresh, new_exp) = mint(&gw, &key, "p-1", "r-1", "patient", 60).await;
    assert_eq!(
        refresh(&mut ws, &fresh).await,
        json!({"type": "token_refreshed", "exp": new_exp})
    );
    // Past the old exp (and any leeway), the session still answers and nothing ended it.
    let wait = (old_exp as f64 + 1.5 - unix_now_f64()).max(0.0);
    tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    alive(&mut ws, 1).await;
    drop(ws);
    assert_released(&gw).await;
}

/// Proves a refresh is validated like any other use and bound to the session: another room,
/// identity, role, grants or tenant, an expired token and a forged one are each refused with
/// a stable code, the session goes on, and it still ends at the old `exp`. On main every one
/// was an `unknown_type` and the session never ended.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_refreshes_keep_the_old_exp() {
    let gw = gateway().await;
    let (tenant, key) = gw.tenant("clinic").await;
    let (_other_tenant, other_key) = gw.tenant("other").await;
    let (token, exp) = mint(&gw, &key, "p-1", "r-1", "patient", 4).await;
    let mut ws = joined(&gw, &token).await;

    let other_room = mint(&gw, &key, "p-1", "r-2", "patient", 60).await.0;
    let other_identity = mint(&gw, &key, "p-2", "r-1", "patient", 60).await.0;
    let other_role = mint(&gw, &key, "p-1", "r-1", "agent", 60).await.0;
    let other_tenant = mint(&gw, &other_key, "p-1", "r-1", "patient", 60).await.0;
    let wider = gw
        .mint(
            &key,
            json!({"identity": "p-1", "room": "r-1", "role": "patient", "ttl_secs": 60,
                   "grants": {"canPublish": true, "canSubscribe": true, "canChat": true,
                              "canRequestPayment": true}}),
        )
        .await;
    let wider: serde_json::Value = wider.json().await.unwrap();
    let key_id = gw.state.store.api_keys(&tenant.id).await.unwrap()[0]
        .id
        .to_string();
    let expired = gw
        .state
        .tokens
        .signer
        .mint(
            MintRequest {
                tenant: tenant.id.to_string(),
                identity: "p-1".into(),
                room: "r-1".into(),
                role: Role::Patient,
                grants: None,
                ttl: Some(Duration::from_secs(60)),
                api_key_id: Some(key_id),
            },
            hushpay_auth::unix_now() - 120,
        )
        .unwrap()
        .token;
    let good = mint(&gw, &key, "p-1", "r-1", "patient", 60).await.0;
    let forged = format!("{}AAAA", &good[..good.len() - 4]);

    for (i, (candidate, code)) in [
        (other_room.as_str(), "wrong_room"),
        (other_identity.as_str(), "refresh_mismatch"),
        (other_role.as_str(), "refresh_mismatch"),
        (wider["token"].as_str().unwrap(), "refresh_mismatch"),
        (other_tenant.as_str(), "wrong_tenant"),
        (expired.as_str(), "token_expired"),
        (forged.as_str(), "signature_invalid"),
        ("not-a-jwt", "token_malformed"),
    ]
    .into_iter()
    .enumerate()
    {
        let v = refresh(&mut ws, candidate).await;
        assert_eq!(v["type"], "error", "{code}: {v}");
        assert_eq!(v["code"], code, "{v}");
        alive(&mut ws, i as u64).await;
    }
    // Still the old deadline: warned, then ended at the old exp.
    let v = next_unwarned(&mut ws).await;
    assert_eq!(v, json!({"type": "token_expired", "exp": exp}));
    assert_eq!(next(&mut ws).await, json!({"type": "closed", "code": 4401}));
    assert_released(&gw).await;
}
