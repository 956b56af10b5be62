//! The vault over real stores: tokenize, tenant binding, SAD, rotation and limits, rewrap,
//! audit or deny.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use hushpay_card::{Cvc, Expiry, Pan};
use hushpay_store::{MemoryStore, SqliteStore, Store};
use hushpay_vault::connector::{
    AuthenticationOutcome, AuthenticationRequest, AuthorizationRequest, AuthorizationResult,
    Connector, DeclineReason, IssuerAnswer, IssuerError, SandboxConnector, StoredCredential,
    TEST_CARDS,
};
use hushpay_vault::sad::SadStore;
use hushpay_vault::{Kek, Keyring, Vault, VaultError};

use common::{actor, tenant};

fn card(pan: &str) -> (Pan, Expiry) {
    (Pan::parse(pan).unwrap(), Expiry::new(12, 2031).unwrap())
}

#[tokio::test]
async fn tokenize_look_up_and_open_once_for_a_connector() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let (a, b) = (tenant(&*store, "a").await, tenant(&*store, "b").await);
    let vault = Vault::new(Kek::generate(), Arc::clone(&store) as _);
    let (pan, exp) = card("4242424242424242");
    let meta = vault
        .tokenize(
            &actor(),
            &a,
            &pan,
            &exp,
            Some(Cvc::parse("123", pan.brand()).unwrap()),
            None,
        )
        .await
        .unwrap();
    assert!(meta.id.starts_with("tok_"));
    assert_eq!((meta.brand.as_str(), meta.last4.as_str()), ("visa", "4242"));
    assert_eq!((meta.exp_month, meta.exp_year), (12, 2031));
    let json = serde_json::to_string(&meta).unwrap();
    assert!(!json.contains("4242424242424242"), "{json}");

    assert_eq!(vault.token(&a, &meta.id).await.unwrap(), meta);
    assert!(matches!(
        vault.token(&b, &meta.id).await,
        Err(VaultError::TokenNotFound)
    ));
    assert!(matches!(
        vault.token(&a, "4242424242424242").await,
        Err(VaultError::TokenNotFound)
    ));
    assert!(matches!(
        vault
            .open_for_connector(&actor(), &b, &meta.id, "sandbox")
            .await,
        Err(VaultError::TokenNotFound)
    ));

    let opened = vault
        .open_for_connector(&actor(), &a, &meta.id, "sandbox")
        .await
        .unwrap();
    assert_eq!(opened.pan, pan);
    assert_eq!(opened.cvc.as_ref().unwrap().expose_digits(), "123");
    let again = vault
        .open_for_connector(&actor(), &a, &meta.id, "sandbox")
        .await
        .unwrap();
    assert!(again.cvc.is_none(), "the CVC is single use");

    // Same card, same tenant: same fingerprint; other tenant: different.
    let m2 = vault
        .tokenize(&actor(), &a, &pan, &exp, None, None)
        .await
        .unwrap();
    let m3 = vault
        .tokenize(&actor(), &b, &pan, &exp, None, None)
        .await
        .unwrap();
    assert_eq!(m2.fingerprint, meta.fingerprint);
    assert_ne!(m3.fingerprint, meta.fingerprint);
}

#[tokio::test]
async fn expired_tokens_do_not_open() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = tenant(&*store, "a").await;
    let vault = Vault::new(Kek::generate(), Arc::clone(&store) as _);
    let (pan, exp) = card("4242424242424242");
    let m = vault
        .tokenize(
            &actor(),
            &a,
            &pan,
            &exp,
            None,
            Some(hushpay_vault::unix_now() - 1),
        )
        .await
        .unwrap();
    assert!(matches!(
        vault
            .open_for_connector(&actor(), &a, &m.id, "sandbox")
            .await,
        Err(VaultError::TokenExpired)
    ));
}

#[tokio::test]
async fn a_cvc_expires_in_memory() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = tenant(&*store, "a").await;
    let kek = Kek::generate();
    let vault = Vault::with_parts(
        Keyring::new(kek, Arc::clone(&store) as _),
        SadStore::new(Duration::from_millis(30)),
        Arc::clone(&store) as _,
    );
    let (pan, exp) = card("4242424242424242");
    let cvc = Cvc::parse("321", pan.brand()).unwrap();
    let m = vault
        .tokenize(&actor(), &a, &pan, &exp, Some(cvc), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(60)).await;
    let opened = vault
        .open_for_connector(&actor(), &a, &m.id, "sandbox")
        .await
        .unwrap();
    assert!(opened.cvc.is_none());
}

#[tokio::test]
async fn key_versions_rotate_at_the_invocation_limit_and_old_versions_still_decrypt() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = tenant(&*store, "a").await;
    let kek = Kek::generate();
    let vault = Vault::with_parts(
        Keyring::with_limits(kek.clone(), Arc::clone(&store) as _, 5, 2),
        SadStore::default(),
        Arc::clone(&store) as _,
    );
    let (pan, exp) = card("4000000000000077");
    let mut ids = Vec::new();
    for _ in 0..12 {
        ids.push(
            vault
                .tokenize(&actor(), &a, &pan, &exp, None, None)
                .await
                .unwrap()
                .id,
        );
    }
    let keys = store.data_keys(&a).await.unwrap();
    assert_eq!(
        keys.len(),
        3,
        "12 encryptions at 5 per version need 3 versions"
    );
    for k in &keys {
        assert!(k.invocations <= 5, "{k:?}");
    }
    for (i, id) in ids.iter().enumerate() {
        let rec = store.token(&a, id).await.unwrap().unwrap();
        assert_eq!(rec.key_version, 1 + (i as u32) / 5, "token {i}");
        vault.verify_token_decrypts(&a, id).await.unwrap();
    }
    assert_eq!(
        keys.iter()
            .filter(|k| k.state == hushpay_store::DataKeyState::Active)
            .count(),
        1
    );

    // Rewrap moves every token to the active version; all still decrypt. (Twelve tokens do
    // not fit one version of 5, so rewrap with a ring allowing more.)
    let vault = Vault::with_parts(
        Keyring::with_limits(kek, Arc::clone(&store) as _, 100, 10),
        SadStore::default(),
        Arc::clone(&store) as _,
    );
    while vault.rewrap(&actor(), &a, 4).await.unwrap() > 0 {}
    let active = vault.keyring().active_version(&a).await.unwrap();
    for id in &ids {
        assert_eq!(
            store.token(&a, id).await.unwrap().unwrap().key_version,
            active
        );
        vault.verify_token_decrypts(&a, id).await.unwrap();
    }
}

#[tokio::test]
async fn the_invocation_count_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    let kek = Kek::generate();
    let (pan, exp) = card("4242424242424242");
    let a;
    {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
        a = tenant(&*store, "a").await;
        let keyring = Keyring::with_limits(kek.clone(), Arc::clone(&store) as _, 6, 4);
        let vault = Vault::with_parts(keyring, SadStore::default(), Arc::clone(&store) as _);
        vault
            .tokenize(&actor(), &a, &pan, &exp, None, None)
            .await
            .unwrap();
    }
    // 4 were reserved, 1 used: after a restart all 4 count as used, leaving 2 under v1.
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let keyring = Keyring::with_limits(kek, Arc::clone(&store) as _, 6, 4);
    let vault = Vault::with_parts(keyring, SadStore::default(), Arc::clone(&store) as _);
    let mut versions = Vec::new();
    for _ in 0..3 {
        let m = vault
            .tokenize(&actor(), &a, &pan, &exp, None, None)
            .await
            .unwrap();
        versions.push(store.token(&a, &m.id).await.unwrap().unwrap().key_version);
    }
    assert_eq!(versions, vec![1, 1, 2]);
}

#[tokio::test]
async fn a_wrong_kek_cannot_unwrap_the_data_keys() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = tenant(&*store, "a").await;
    let vault = Vault::new(Kek::generate(), Arc::clone(&store) as _);
    let (pan, exp) = card("4242424242424242");
    let m = vault
        .tokenize(&actor(), &a, &pan, &exp, None, None)
        .await
        .unwrap();
    let other = Vault::new(Kek::generate(), Arc::clone(&store) as _);
    assert!(matches!(
        other.verify_token_decrypts(&a, &m.id).await,
        Err(VaultError::Decrypt)
    ));
}

/// Makes the SQLite audit table refuse inserts, as a full disk or a revoked grant would.
fn break_audit(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER audit_down BEFORE INSERT ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit down'); END;",
    )
    .unwrap();
}

#[tokio::test]
async fn vault_operations_are_refused_when_the_audit_log_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hushpay.db");
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&path).unwrap());
    let a = tenant(&*store, "a").await;
    let vault = Vault::new(Kek::generate(), Arc::clone(&store) as _);
    let (pan, exp) = card("4242424242424242");
    let ok = vault
        .tokenize(&actor(), &a, &pan, &exp, None, None)
        .await
        .unwrap();
    break_audit(&path);
    let err = vault
        .tokenize(&actor(), &a, &pan, &exp, None, None)
        .await
        .unwrap_err();
    assert!(matches!(err, VaultError::AuditUnavailable(_)), "{err}");
    assert!(matches!(
        vault
            .open_for_connector(&actor(), &a, &ok.id, "sandbox")
            .await,
        Err(VaultError::AuditUnavailable(_))
    ));
    assert!(matches!(
        vault.rotate(&actor(), &a).await,
        Err(VaultError::AuditUnavailable(_))
    ));
    assert_eq!(
        store.data_keys(&a).await.unwrap().len(),
        1,
        "no rotation happened"
    );
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tokens: i64 = conn
        .query_row("SELECT COUNT(*) FROM tokens", [], |r| r.get(0))
        .unwrap();
    assert_eq!(tokens, 1, "the refused tokenization stored nothing");
}

#[tokio::test]
async fn sandbox_test_cards_give_their_documented_results() {
    let sandbox = SandboxConnector::with_latency(Duration::from_millis(20));
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let a = tenant(&*store, "a").await;
    let vault = Vault::new(Kek::generate(), Arc::clone(&store) as _);
    for (number, expected) in TEST_CARDS {
        let (pan, exp) = card(number);
        let m = vault
            .tokenize(&actor(), &a, &pan, &exp, None, None)
            .await
            .unwrap();
        let opened = vault
            .open_for_connector(&actor(), &a, &m.id, "sandbox")
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let result = sandbox
            .authorize(&AuthorizationRequest {
                card: &opened,
                amount_minor: 1999,
                currency: "USD",
                reference: "inv-1",
                capture: true,
                stored_credential: StoredCredential::None,
            })
            .await;
        let got = match &result {
            // 3-D Secure frictionless: approved with no challenge.
            AuthorizationResult::Approved { .. } if *number == "4000000000003055" => "frictionless",
            AuthorizationResult::Approved { authorization_code } => {
                assert!(authorization_code.starts_with("SBX"));
                if started.elapsed() >= Duration::from_millis(20) {
                    "approved-after-latency"
                } else {
                    "approved"
                }
            }
            AuthorizationResult::Declined { reason } => reason.as_str(),
            // The cardholder completes the challenge on the issuer's page, then it resumes.
            AuthorizationResult::ChallengeRequired { challenge, url } => {
                assert_eq!(url, &format!("/sandbox/3ds/{challenge}"));
                let issuer = sandbox.sandbox_issuer().unwrap();
                assert!(issuer.is_waiting(challenge));
                let resume = AuthenticationRequest {
                    payment: "pay_x",
                    challenge,
                    amount_minor: 1999,
                    currency: "USD",
                    reference: "inv-1",
                    capture: true,
                };
                assert_eq!(
                    sandbox.complete_authentication(&resume).await,
                    AuthenticationOutcome::Pending
                );
                issuer.answer(challenge, IssuerAnswer::Completed).unwrap();
                assert_eq!(
                    issuer.answer(challenge, IssuerAnswer::Failed),
                    Err(IssuerError::AlreadyAnswered)
                );
                match sandbox.complete_authentication(&resume).await {
                    AuthenticationOutcome::Done(AuthorizationResult::Approved { .. }) => {
                        "challenge"
                    }
                    AuthenticationOutcome::Done(AuthorizationResult::Declined {
                        reason: DeclineReason::AuthenticationFailed,
                    }) => "challenge-fails",
                    other => panic!("{number}: {other:?}"),
                }
            }
        };
        assert_eq!(got, *expected, "{number}");
    }
    let (pan, exp) = card("4242424242424242");
    let m = vault
        .tokenize(
            &actor(),
            &a,
            &pan,
            &exp,
            Some(Cvc::parse("000", pan.brand()).unwrap()),
            None,
        )
        .await
        .unwrap();
    let opened = vault
        .open_for_connector(&actor(), &a, &m.id, "sandbox")
        .await
        .unwrap();
    let r = sandbox
        .authorize(&AuthorizationRequest {
            card: &opened,
            amount_minor: 1,
            currency: "USD",
            reference: "x",
            capture: true,
            stored_credential: StoredCredential::None,
        })
        .await;
    assert_eq!(
        r,
        AuthorizationResult::Declined {
            reason: DeclineReason::InvalidSecurityCode
        }
    );
}

/// Captures, voids and refunds: the sandbox's test amounts fail as documented, every other
/// amount succeeds, and a slow refund waits for the configured latency.
#[tokio::test]
async fn sandbox_operations_follow_the_documented_test_amounts() {
    use hushpay_vault::connector::{OperationRequest, OperationResult, TEST_AMOUNTS};
    let sandbox = SandboxConnector::with_latency(Duration::from_millis(30));
    let request = |amount_minor| OperationRequest {
        payment: "pay_x",
        authorization_code: "SBX000001",
        amount_minor,
        currency: "USD",
        reference: "inv-1",
        refund: Some("re_x"),
    };
    let failed = OperationResult::Failed {
        reason: DeclineReason::ProcessingError,
    };
    for &(kind, amount, expected) in TEST_AMOUNTS {
        let r = request(amount);
        let started = std::time::Instant::now();
        let got = match kind {
            "capture" => sandbox.capture(&r).await,
            "void" => sandbox.void(&r).await,
            _ => sandbox.refund(&r).await,
        };
        match expected {
            "processing-error" => assert_eq!(got, failed, "{kind} {amount}"),
            _ => {
                assert_eq!(got, OperationResult::Succeeded);
                assert!(started.elapsed() >= Duration::from_millis(30));
            }
        }
    }
    // A test amount fails only its own operation; other amounts succeed everywhere.
    assert_eq!(
        sandbox.capture(&request(9103)).await,
        OperationResult::Succeeded
    );
    assert_eq!(
        sandbox.void(&request(9101)).await,
        OperationResult::Succeeded
    );
    assert_eq!(
        sandbox.refund(&request(9101)).await,
        OperationResult::Succeeded
    );
    assert_eq!(
        sandbox.capture(&request(4200)).await,
        OperationResult::Succeeded
    );
}
