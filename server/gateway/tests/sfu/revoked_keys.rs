//! Issue 12, finding 3: a token carries the id of the API key that minted it (`akid`), and a
//! revoked key's tokens are refused at every use — HTTP, signalling connect and join,
//! refresh — and their connected sessions are closed.

use std::time::Duration;

use serde_json::json;

use crate::common::TestGateway;
use crate::harness::{assert_released, eventually};
use crate::signal_ws::*;

async fn revoke(gw: &TestGateway, with_key: &str, id: &str) -> u16 {
    gw.client
        .delete(gw.url(&format!("/v1/api-keys/{id}")))
        .bearer_auth(with_key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Proves `DELETE /v1/api-keys/{id}` revokes the key's tokens everywhere: a joined session of
/// the key gets `error` `token_revoked` and close 4401 at once, the key's tokens are refused
/// for HTTP (401 `token_revoked`), for the signalling connect (401) and the first-frame auth
/// (4401), and as a `refresh`; the tenant's other key and its tokens keep working. On main
/// the route did not exist and the tokens stayed valid until they expired.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_keys_tokens_are_refused_everywhere_and_its_sessions_closed() {
    let gw = TestGateway::start(&[("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150")]).await;
    let (tenant, keeper) = gw.tenant("clinic").await;
    let store = gw.state.store.as_ref();
    let doomed = hushpay::tenants::create_api_key(store, &tenant.id, "doomed", 1_700_000_000)
        .await
        .unwrap();
    let doomed_id = doomed.record.id.to_string();

    let (session_token, _) = mint(&gw, &doomed.key, "p-1", "r-1", "patient", 600).await;
    let (http_token, _) = mint(&gw, &doomed.key, "a-1", "r-2", "agent", 600).await;
    let (keeper_token, _) = mint(&gw, &keeper, "a-2", "r-3", "agent", 600).await;
    let (refresh_token, _) = mint(&gw, &doomed.key, "a-2", "r-3", "agent", 600).await;
    let claims = gw
        .state
        .tokens
        .validator
        .validate_now(&http_token, hushpay_auth::Expectation::any_tenant())
        .unwrap();
    assert_eq!(
        claims.akid.as_deref(),
        Some(doomed_id.as_str()),
        "the token names its key"
    );

    let tenant_url = gw.url(&format!("/v1/tenants/{}", tenant.id));
    let get = |t: String| {
        let req = gw.client.get(&tenant_url).bearer_auth(t);
        async move { req.send().await.unwrap() }
    };
    assert_eq!(get(http_token.clone()).await.status(), 200);
    let mut doomed_ws = joined(&gw, &session_token).await;
    let mut keeper_ws = joined(&gw, &keeper_token).await;

    assert_eq!(revoke(&gw, &keeper, &doomed_id).await, 204);

    // The connected session of the revoked key ends at once.
    let v = next_within(&mut doomed_ws, Duration::from_secs(2)).await;
    assert_eq!(
        (v["type"].as_str(), v["code"].as_str()),
        (Some("error"), Some("token_revoked")),
        "{v}"
    );
    assert_eq!(
        next(&mut doomed_ws).await,
        json!({"type": "closed", "code": 4401})
    );
    // HTTP.
    crate::common::assert_error(get(http_token.clone()).await, 401, "token_revoked").await;
    // Signalling connect (token in the URL) and first-frame auth.
    assert_eq!(open(&gw, &http_token).await.err(), Some(401));
    let mut bare = open_bare(&gw).await;
    send(&mut bare, json!({"type": "auth", "token": http_token})).await;
    assert_eq!(next(&mut bare).await["code"], "token_revoked");
    assert_eq!(
        next(&mut bare).await,
        json!({"type": "closed", "code": 4401})
    );
    // Refresh of a live session (the other key's) with a revoked key's token.
    let v = refresh(&mut keeper_ws, &refresh_token).await;
    assert_eq!(v["code"], "token_revoked", "{v}");
    alive(&mut keeper_ws, 1).await;
    assert_eq!(get(keeper_token.clone()).await.status(), 200);
    // Revoking again, or a key of nobody: 404; the revoked key cannot revoke.
    assert_eq!(revoke(&gw, &keeper, &doomed_id).await, 404);
    assert_eq!(revoke(&gw, &keeper, "key_nope").await, 404);
    assert_eq!(revoke(&gw, &doomed.key, &doomed_id).await, 401);
    let audited = store.audit_entries(0, 1000).await.unwrap();
    assert!(
        audited
            .iter()
            .any(|e| e.action == "apikey.revoke" && e.resource == doomed_id),
        "the revocation is audited"
    );
    drop(keeper_ws);
    assert_released(&gw).await;
}

/// Proves a revocation made elsewhere (another node, `hushpay apikey revoke`: straight in the
/// store, no announcement to this node) reaches this node's sessions: a session that has not
/// joined yet is refused at `join`, and a joined one is closed by its periodic re-check
/// (`rtc.credential_recheck_secs`, 1 s here). On main both carried on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revocation_in_the_store_reaches_join_and_connected_sessions() {
    let gw = TestGateway::start(&[
        ("HUSHPAY__RTC__EMPTY_ROOM_GRACE_MS", "150"),
        ("HUSHPAY__RTC__CREDENTIAL_RECHECK_SECS", "1"),
    ])
    .await;
    let (tenant, key) = gw.tenant("clinic").await;
    let store = gw.state.store.as_ref();
    let key_id = store.api_keys(&tenant.id).await.unwrap()[0].id.clone();
    let (joined_token, _) = mint(&gw, &key, "p-1", "r-1", "patient", 600).await;
    let (late_token, _) = mint(&gw, &key, "a-1", "r-1", "agent", 600).await;
    let mut joined_ws = joined(&gw, &joined_token).await;
    let mut late_ws = open(&gw, &late_token).await.unwrap();

    assert!(
        store
            .revoke_api_key(&tenant.id, &key_id, 1_700_000_100)
            .await
            .unwrap()
    );

    send(&mut late_ws, json!({"type": "join", "v": 1})).await;
    assert_eq!(next(&mut late_ws).await["code"], "token_revoked");
    assert_eq!(
        next(&mut late_ws).await,
        json!({"type": "closed", "code": 4401})
    );
    let v = next_within(&mut joined_ws, Duration::from_secs(3)).await;
    assert_eq!(v["code"], "token_revoked", "{v}");
    assert_eq!(
        next(&mut joined_ws).await,
        json!({"type": "closed", "code": 4401})
    );
    let sfu = &gw.state.sfu;
    assert!(eventually(Duration::from_secs(5), || sfu.participant_count() == 0).await);
    assert_released(&gw).await;
}
