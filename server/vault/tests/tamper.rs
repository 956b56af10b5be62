//! Property tests: tampered ciphertexts and rows moved between tenants, tokens, versions or
//! record types never decrypt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use hushpay_store::{MemoryStore, Store, Tenant, TenantId};
use hushpay_vault::{Kek, Keyring, VaultError};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

async fn ring_with_tenants(names: &[&str]) -> (Keyring, Vec<TenantId>) {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let mut ids = Vec::new();
    for n in names {
        let t = Tenant {
            id: TenantId::new(format!("ten_{n}")),
            name: (*n).into(),
            created_at: 0,
            allowed_origins: vec![],
            require_consent_by_default: false,
            agent_desktop_origins: vec![],
            default_locale: None,
        };
        store.insert_tenant(&t).await.unwrap();
        ids.push(t.id);
    }
    (Keyring::new(Kek::generate(), store), ids)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_flipped_bit_or_truncation_fails_to_decrypt(
        plain in proptest::collection::vec(any::<u8>(), 0..64),
        index in any::<prop::sample::Index>(),
        mask in 1u8..=255,
        cut in any::<prop::sample::Index>(),
    ) {
        runtime().block_on(async {
            let (ring, t) = ring_with_tenants(&["a"]).await;
            let (v, blob) = ring.encrypt(&t[0], "token", "tok_x", &plain).await.unwrap();
            let ok = ring.decrypt(&t[0], "token", "tok_x", v, &blob).await.unwrap();
            prop_assert_eq!(ok.as_slice(), plain.as_slice());

            let mut bad = blob.clone();
            let i = index.index(bad.len());
            bad[i] ^= mask;
            prop_assert!(matches!(
                ring.decrypt(&t[0], "token", "tok_x", v, &bad).await,
                Err(VaultError::Decrypt)
            ));
            let short = &blob[..cut.index(blob.len())];
            prop_assert!(ring.decrypt(&t[0], "token", "tok_x", v, short).await.is_err());
            let mut long = blob.clone();
            long.push(0);
            prop_assert!(ring.decrypt(&t[0], "token", "tok_x", v, &long).await.is_err());
            Ok(())
        })?;
    }

    #[test]
    fn rows_moved_between_tenants_tokens_versions_or_types_fail_to_decrypt(
        plain in proptest::collection::vec(any::<u8>(), 1..40),
        id_a in "tok_[A-Za-z0-9]{8,24}",
        id_b in "tok_[A-Za-z0-9]{8,24}",
    ) {
        prop_assume!(id_a != id_b);
        runtime().block_on(async {
            let (ring, t) = ring_with_tenants(&["a", "b"]).await;
            let (v, blob) = ring.encrypt(&t[0], "token", &id_a, &plain).await.unwrap();
            // Tenant B has a key of the same version number; it must not open A's row.
            ring.encrypt(&t[1], "token", &id_b, &plain).await.unwrap();
            prop_assert!(matches!(
                ring.decrypt(&t[1], "token", &id_a, v, &blob).await,
                Err(VaultError::Decrypt)
            ));
            prop_assert!(matches!(
                ring.decrypt(&t[0], "token", &id_b, v, &blob).await,
                Err(VaultError::Decrypt)
            ));
            prop_assert!(matches!(
                ring.decrypt(&t[0], "payment", &id_a, v, &blob).await,
                Err(VaultError::Decrypt)
            ));
            // After rotation, claiming the row is under the new version fails too.
            let v2 = ring.rotate(&t[0]).await.unwrap();
            prop_assert!(ring.decrypt(&t[0], "token", &id_a, v2, &blob).await.is_err());
            prop_assert!(ring.decrypt(&t[0], "token", &id_a, v, &blob).await.is_ok());
            Ok(())
        })?;
    }
}
