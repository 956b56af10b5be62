//! The key ring: per-tenant data keys, wrapped by the KEK, with versions, rotation and an
//! invocation counter per version.
//!
//! * A tenant's first encryption creates data key version 1 (32 random bytes, wrapped with
//!   AES-256-GCM under the KEK, bound to tenant and version).
//! * Exactly one version encrypts (the highest active one); retired versions only decrypt.
//! * Encryptions are counted per version. The count is reserved durably in blocks
//!   ([`Keyring::with_limits`]) before use, so after a crash the stored count is an upper bound;
//!   a version refuses to encrypt once it reaches the limit (2^31 by default, NIST SP 800-38D
//!   for random 96-bit nonces) and [`VaultError::KeyExhausted`] asks the caller to rotate.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use hmac::{Hmac, Mac};
use hushpay_store::{DataKeyRecord, DataKeyState, StoreError, TenantId, UnixTime, VaultStore};
use rand::RngCore;
use sha2::Sha256;
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use crate::VaultError;
use crate::aead::{self, RecordAad};
use crate::kek::{KEY_BYTES, Kek};

/// Encryptions allowed per data key version (2^31).
pub const DEFAULT_INVOCATION_LIMIT: u64 = 1 << 31;
/// Encryptions reserved in the store per round trip.
pub const DEFAULT_RESERVATION_BLOCK: u64 = 4096;

type DataKey = Zeroizing<[u8; KEY_BYTES]>;

#[derive(Default)]
struct TenantKeys {
    versions: BTreeMap<u32, (DataKeyState, DataKey)>,
    active: u32,
    /// Durable upper bound of encryptions under `active`.
    reserved: u64,
    /// Encryptions done (or lost in a crash) under `active`.
    used: u64,
}

/// Per-tenant data keys over a [`VaultStore`].
pub struct Keyring {
    kek: Kek,
    store: Arc<dyn VaultStore>,
    tenants: Mutex<HashMap<TenantId, TenantKeys>>,
    limit: u64,
    block: u64,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyring")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

fn now() -> UnixTime {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn key_aad(tenant: &TenantId, version: u32) -> RecordAad<'_> {
    RecordAad {
        record_type: "data_key",
        tenant: tenant.as_str(),
        record_id: "",
        key_version: version,
    }
}

impl Keyring {
    /// A key ring with the default limits.
    pub fn new(kek: Kek, store: Arc<dyn VaultStore>) -> Keyring {
        Keyring::with_limits(
            kek,
            store,
            DEFAULT_INVOCATION_LIMIT,
            DEFAULT_RESERVATION_BLOCK,
        )
    }

    /// A key ring with a custom invocation limit and reservation block (tests use small ones).
    pub fn with_limits(kek: Kek, store: Arc<dyn VaultStore>, limit: u64, block: u64) -> Keyring {
        Keyring {
            kek,
            store,
            tenants: Mutex::new(HashMap::new()),
            limit,
            block: block.max(1),
        }
    }

    /// The tenant's fingerprint key: HMAC-SHA256(KEK, label || tenant). Fingerprints are
    /// stable across data key rotation (they change only with the KEK).
    pub fn fingerprint_key(&self, tenant: &TenantId) -> Result<Zeroizing<[u8; 32]>, VaultError> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.kek.bytes())
            .map_err(|_| VaultError::Encrypt)?;
        mac.update(b"hushpay-fingerprint/v1\0");
        mac.update(tenant.as_str().as_bytes());
        Ok(Zeroizing::new(mac.finalize().into_bytes().into()))
    }

    /// Encrypts under the tenant's active version; returns the version and the blob.
    pub async fn encrypt(
        &self,
        tenant: &TenantId,
        record_type: &str,
        record_id: &str,
        plaintext: &[u8],
    ) -> Result<(u32, Vec<u8>), VaultError> {
        let mut map = self.tenants.lock().await;
        let keys = self.loaded(&mut map, tenant).await?;
        if keys.used >= keys.reserved {
            if keys.reserved >= self.limit {
                return Err(VaultError::KeyExhausted(keys.active));
            }
            let want = self.block.min(self.limit - keys.reserved);
            let total = self
                .store
                .reserve_key_invocations(tenant, keys.active, want)
                .await?
                .ok_or(VaultError::UnknownKeyVersion(keys.active))?;
            keys.reserved = total.min(self.limit);
            if keys.used >= keys.reserved {
                return Err(VaultError::KeyExhausted(keys.active));
            }
        }
        keys.used += 1;
        let version = keys.active;
        let (_, key) = keys
            .versions
            .get(&version)
            .ok_or(VaultError::UnknownKeyVersion(version))?;
        let aad = RecordAad {
            record_type,
            tenant: tenant.as_str(),
            record_id,
            key_version: version,
        };
        Ok((version, aead::seal(key, &aad, plaintext)?))
    }

    /// Decrypts a blob made by [`Keyring::encrypt`] with the same binding.
    pub async fn decrypt(
        &self,
        tenant: &TenantId,
        record_type: &str,
        record_id: &str,
        version: u32,
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        let mut map = self.tenants.lock().await;
        let mut keys = self.loaded(&mut map, tenant).await?;
        if !keys.versions.contains_key(&version) {
            // Another instance may have rotated: reload once.
            map.remove(tenant);
            keys = self.loaded(&mut map, tenant).await?;
        }
        let (_, key) = keys
            .versions
            .get(&version)
            .ok_or(VaultError::UnknownKeyVersion(version))?;
        let aad = RecordAad {
            record_type,
            tenant: tenant.as_str(),
            record_id,
            key_version: version,
        };
        aead::open(key, &aad, blob)
    }

    /// The tenant's active version (creating version 1 if the tenant has none).
    pub async fn active_version(&self, tenant: &TenantId) -> Result<u32, VaultError> {
        let mut map = self.tenants.lock().await;
        Ok(self.loaded(&mut map, tenant).await?.active)
    }

    /// Picks up a rotation made elsewhere (the admin CLI, another gateway on the same store):
    /// when the store's active version is not the cached one, the tenant's keys are dropped
    /// and reloaded on next use, so a retired version stops encrypting here too. Returns true
    /// when the cache was stale.
    pub async fn refresh(&self, tenant: &TenantId) -> Result<bool, VaultError> {
        let mut map = self.tenants.lock().await;
        let Some(cached) = map.get(tenant).map(|k| k.active) else {
            return Ok(false);
        };
        let stored = self
            .store
            .data_keys(tenant)
            .await?
            .iter()
            .filter(|r| r.state == DataKeyState::Active)
            .map(|r| r.version)
            .max();
        if stored == Some(cached) {
            return Ok(false);
        }
        map.remove(tenant);
        Ok(true)
    }

    /// Rotates: creates version n+1 (active) and retires n. Returns the new version.
    pub async fn rotate(&self, tenant: &TenantId) -> Result<u32, VaultError> {
        let mut map = self.tenants.lock().await;
        map.remove(tenant);
        let old = self.loaded(&mut map, tenant).await?.active;
        let new = self.create_version(tenant, old + 1).await?;
        self.store.retire_data_key(tenant, old).await?;
        map.remove(tenant);
        let keys = self.loaded(&mut map, tenant).await?;
        debug_assert_eq!(keys.active, new);
        Ok(keys.active)
    }

    async fn create_version(&self, tenant: &TenantId, version: u32) -> Result<u32, VaultError> {
        let mut dek: DataKey = Zeroizing::new([0u8; KEY_BYTES]);
        rand::rngs::OsRng.fill_bytes(dek.as_mut());
        let wrapped = aead::seal(self.kek.bytes(), &key_aad(tenant, version), dek.as_ref())?;
        let record = DataKeyRecord {
            tenant: tenant.clone(),
            version,
            wrapped,
            state: DataKeyState::Active,
            created_at: now(),
            invocations: 0,
        };
        match self.store.insert_data_key(&record).await {
            Ok(()) | Err(StoreError::Conflict(_)) => Ok(version),
            Err(e) => Err(e.into()),
        }
    }

    async fn loaded<'m>(
        &self,
        map: &'m mut HashMap<TenantId, TenantKeys>,
        tenant: &TenantId,
    ) -> Result<&'m mut TenantKeys, VaultError> {
        if !map.contains_key(tenant) {
            let keys = self.load(tenant).await?;
            map.insert(tenant.clone(), keys);
        }
        map.get_mut(tenant).ok_or(VaultError::UnknownKeyVersion(0))
    }

    async fn load(&self, tenant: &TenantId) -> Result<TenantKeys, VaultError> {
        let mut records = self.store.data_keys(tenant).await?;
        if !records.iter().any(|r| r.state == DataKeyState::Active) {
            let next = records.iter().map(|r| r.version).max().unwrap_or(0) + 1;
            self.create_version(tenant, next).await?;
            records = self.store.data_keys(tenant).await?;
        }
        let mut keys = TenantKeys::default();
        let mut active: Option<&DataKeyRecord> = None;
        for r in &records {
            let plain = aead::open(self.kek.bytes(), &key_aad(tenant, r.version), &r.wrapped)?;
            let arr: [u8; KEY_BYTES] = plain
                .as_slice()
                .try_into()
                .map_err(|_| VaultError::Malformed)?;
            keys.versions
                .insert(r.version, (r.state, Zeroizing::new(arr)));
            if r.state == DataKeyState::Active && active.is_none_or(|a| a.version < r.version) {
                active = Some(r);
            }
        }
        let active = active.ok_or(VaultError::UnknownKeyVersion(0))?;
        // A crash between "insert n+1" and "retire n" leaves two active versions: finish it.
        for r in &records {
            if r.state == DataKeyState::Active && r.version != active.version {
                self.store.retire_data_key(tenant, r.version).await?;
            }
        }
        keys.active = active.version;
        keys.reserved = active.invocations.min(self.limit);
        keys.used = keys.reserved;
        Ok(keys)
    }
}
