//! Tenants and their API keys: the domain rules over the store's primitives.
//!
//! An API key reads `hpk_<id>_<secret>`: the id (`key_<id>` in the store) finds the record, and
//! the SHA-256 of the whole string is compared in constant time with the stored hash. The key
//! itself is shown once, at creation, and never stored.

use hushpay_store::{ApiKeyId, ApiKeyRecord, Store, StoreError, Tenant, TenantId};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use thiserror::Error;

use crate::ids;

const KEY_PREFIX: &str = "hpk_";
const KEY_ID_LEN: usize = 16;
const KEY_SECRET_LEN: usize = 32;
const MAX_TENANT_NAME: usize = 64;
/// Most agent desktop origins a tenant may list (they make up a response header).
pub const MAX_AGENT_DESKTOP_ORIGINS: usize = 16;

/// Why an API key or tenant operation was refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TenantError {
    #[error("tenant names are 1 to 64 characters of a-z, 0-9 and '-', starting with a letter")]
    BadName,
    #[error("allowed origins must be http(s)://host[:port] with no path")]
    BadOrigin,
    #[error(
        "agent desktop origins must be https://host[:port], or http:// on a loopback host \
         (localhost, 127.x.x.x), with no path or wildcard; at most 16"
    )]
    BadDesktopOrigin,
    #[error("no such tenant")]
    UnknownTenant,
    #[error("malformed API key")]
    MalformedKey,
    #[error("unknown API key")]
    UnknownKey,
    #[error("API key revoked")]
    RevokedKey,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A freshly created API key: the only moment its secret exists outside the caller.
#[derive(Debug)]
pub struct CreatedKey {
    pub record: ApiKeyRecord,
    /// The full key, to be shown once.
    pub key: String,
}

/// Creates a tenant with a validated name and origin list (recording consent not required
/// by default).
pub async fn create_tenant(
    store: &dyn Store,
    name: &str,
    allowed_origins: Vec<String>,
    now: i64,
) -> Result<Tenant, TenantError> {
    create_tenant_with_policy(store, name, allowed_origins, false, now).await
}

/// Creates a tenant with a validated name and origin list and its recording policy: with
/// `require_consent_by_default`, nothing in any of its rooms is recorded before consent.
pub async fn create_tenant_with_policy(
    store: &dyn Store,
    name: &str,
    allowed_origins: Vec<String>,
    require_consent_by_default: bool,
    now: i64,
) -> Result<Tenant, TenantError> {
    if !valid_name(name) {
        return Err(TenantError::BadName);
    }
    if !allowed_origins.iter().all(|o| valid_origin(o)) {
        return Err(TenantError::BadOrigin);
    }
    let tenant = Tenant {
        id: TenantId::new(format!("ten_{}", ids::base62(16))),
        name: name.to_owned(),
        created_at: now,
        allowed_origins,
        require_consent_by_default,
        agent_desktop_origins: Vec::new(),
        default_locale: None,
    };
    store.insert_tenant(&tenant).await?;
    Ok(tenant)
}

/// Checks an agent desktop origin list ([`valid_desktop_origin`], at most
/// [`MAX_AGENT_DESKTOP_ORIGINS`]).
pub fn check_agent_desktop_origins(origins: &[String]) -> Result<(), TenantError> {
    if origins.len() > MAX_AGENT_DESKTOP_ORIGINS || !origins.iter().all(|o| valid_desktop_origin(o))
    {
        return Err(TenantError::BadDesktopOrigin);
    }
    Ok(())
}

/// Replaces the tenant's agent desktop origins (the embedded console's `frame-ancestors` and
/// `postMessage` partners) after checking them; returns the changed tenant.
pub async fn set_agent_desktop_origins(
    store: &dyn Store,
    tenant: &TenantId,
    origins: &[String],
) -> Result<Tenant, TenantError> {
    check_agent_desktop_origins(origins)?;
    if !store
        .set_tenant_agent_desktop_origins(tenant, origins)
        .await?
    {
        return Err(TenantError::UnknownTenant);
    }
    store
        .tenant(tenant)
        .await?
        .ok_or(TenantError::UnknownTenant)
}

/// Finds a tenant by id (`ten_...`) or by name.
pub async fn resolve_tenant(store: &dyn Store, id_or_name: &str) -> Result<Tenant, TenantError> {
    let found = if id_or_name.starts_with("ten_") {
        store.tenant(&TenantId::new(id_or_name)).await?
    } else {
        store.tenant_by_name(id_or_name).await?
    };
    found.ok_or(TenantError::UnknownTenant)
}

/// Creates an API key for `tenant` and returns it once.
pub async fn create_api_key(
    store: &dyn Store,
    tenant: &TenantId,
    label: &str,
    now: i64,
) -> Result<CreatedKey, TenantError> {
    let id_part = ids::base62(KEY_ID_LEN);
    let key = format!("{KEY_PREFIX}{id_part}_{}", ids::base62(KEY_SECRET_LEN));
    let record = ApiKeyRecord {
        id: ApiKeyId::new(format!("key_{id_part}")),
        tenant: tenant.clone(),
        secret_hash: hash_key(&key),
        label: label.chars().take(128).collect(),
        created_at: now,
        revoked_at: None,
    };
    store.insert_api_key(&record).await?;
    Ok(CreatedKey { record, key })
}

/// Checks a presented API key; returns its (unrevoked) record.
pub async fn authenticate_api_key(
    store: &dyn Store,
    presented: &str,
) -> Result<ApiKeyRecord, TenantError> {
    let id = parse_key_id(presented).ok_or(TenantError::MalformedKey)?;
    let record = store.api_key(&id).await?.ok_or(TenantError::UnknownKey)?;
    let matches: bool = hash_key(presented)
        .as_bytes()
        .ct_eq(record.secret_hash.as_bytes())
        .into();
    if !matches {
        return Err(TenantError::UnknownKey);
    }
    if record.is_revoked() {
        return Err(TenantError::RevokedKey);
    }
    Ok(record)
}

fn parse_key_id(presented: &str) -> Option<ApiKeyId> {
    let rest = presented.strip_prefix(KEY_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    let shaped = id.len() == KEY_ID_LEN
        && secret.len() == KEY_SECRET_LEN
        && ids::is_base62(id)
        && ids::is_base62(secret);
    shaped.then(|| ApiKeyId::new(format!("key_{id}")))
}

fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_TENANT_NAME
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `http(s)://host[:port]`, lower-case scheme, no path, query or credentials.
pub fn valid_origin(origin: &str) -> bool {
    let Some(rest) = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
    else {
        return false;
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    };
    let host_ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0));
    host_ok && port_ok
}

/// An origin an agent desktop may embed the console from: [`valid_origin`], and `https`
/// unless the host is loopback (`localhost`, `127.0.0.0/8`): the console hands the desktop
/// payment results, so a plain-HTTP desktop on the network is refused.
pub fn valid_desktop_origin(origin: &str) -> bool {
    if !valid_origin(origin) {
        return false;
    }
    let Some(rest) = origin.strip_prefix("http://") else {
        return true;
    };
    let host = rest.rsplit_once(':').map_or(rest, |(h, _)| h);
    host == "localhost"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use hushpay_store::{MemoryStore, TenantStore};

    use super::*;

    #[tokio::test]
    async fn a_created_key_authenticates_until_revoked() {
        let store = MemoryStore::new();
        let t = create_tenant(&store, "acme", vec![], 1).await.unwrap();
        let created = create_api_key(&store, &t.id, "ci", 2).await.unwrap();
        assert!(created.key.starts_with("hpk_"));
        assert!(!created.record.secret_hash.contains(&created.key));
        let rec = authenticate_api_key(&store, &created.key).await.unwrap();
        assert_eq!(rec.tenant, t.id);
        assert!(store.revoke_api_key(&t.id, &rec.id, 3).await.unwrap());
        assert!(matches!(
            authenticate_api_key(&store, &created.key).await,
            Err(TenantError::RevokedKey)
        ));
    }

    #[tokio::test]
    async fn wrong_and_malformed_keys_are_refused() {
        let store = MemoryStore::new();
        let t = create_tenant(&store, "acme", vec![], 1).await.unwrap();
        let created = create_api_key(&store, &t.id, "ci", 2).await.unwrap();
        let mut forged = created.key.clone();
        forged.pop();
        forged.push(if created.key.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(
            authenticate_api_key(&store, &forged).await,
            Err(TenantError::UnknownKey)
        ));
        for bad in [
            "",
            "hpk_",
            "hpk_abc_def",
            "Bearer x",
            "hpk_\u{0}\u{0}",
            &"x".repeat(10_000),
        ] {
            assert!(matches!(
                authenticate_api_key(&store, bad).await,
                Err(TenantError::MalformedKey)
            ));
        }
    }

    #[tokio::test]
    async fn names_and_origins_are_validated() {
        let store = MemoryStore::new();
        for bad in [
            "",
            "Acme",
            "1acme",
            "acme corp",
            "acme_corp",
            &"a".repeat(65),
        ] {
            assert!(matches!(
                create_tenant(&store, bad, vec![], 1).await,
                Err(TenantError::BadName)
            ));
        }
        assert!(matches!(
            create_tenant(&store, "acme", vec!["https://x.example/path".into()], 1).await,
            Err(TenantError::BadOrigin)
        ));
        assert!(valid_origin("http://127.0.0.1:3000"));
        assert!(valid_origin("https://portal.example"));
        assert!(!valid_origin("https://u:p@portal.example"));
        assert!(!valid_origin("javascript:alert(1)"));
        assert!(!valid_origin("https://x.example:0"));
        let t = create_tenant(&store, "acme", vec![], 1).await.unwrap();
        assert_eq!(resolve_tenant(&store, "acme").await.unwrap(), t);
        assert_eq!(resolve_tenant(&store, t.id.as_str()).await.unwrap(), t);
        assert!(matches!(
            resolve_tenant(&store, "nope").await,
            Err(TenantError::UnknownTenant)
        ));
    }

    #[test]
    fn agent_desktop_origins_are_https_or_loopback_http_without_paths_or_wildcards() {
        for good in [
            "https://crm.example",
            "https://desk.crm.example:8443",
            "http://127.0.0.1:4100",
            "http://127.0.0.2:80",
            "http://localhost:3000",
            "http://localhost",
        ] {
            assert!(valid_desktop_origin(good), "{good}");
        }
        for bad in [
            "http://crm.example",
            "http://10.0.0.5:8080",
            "http://127.0.0.1.example",
            "http://localhost.example",
            "https://*.crm.example",
            "https://crm.example/desk",
            "https://crm.example/",
            "https://crm.example?x=1",
            "https://crm.example#x",
            "https://u:p@crm.example",
            "https://crm.example:0",
            "https://crm.example:99999",
            "*",
            "'self'",
            "https://crm.example https://evil.example",
            "https://crm.example;script-src *",
            "javascript:alert(1)",
            "HTTPS://crm.example",
            "",
            "https://",
        ] {
            assert!(!valid_desktop_origin(bad), "{bad}");
        }
        let many: Vec<String> = (0..=MAX_AGENT_DESKTOP_ORIGINS)
            .map(|i| format!("https://d{i}.example"))
            .collect();
        assert!(check_agent_desktop_origins(&many[..MAX_AGENT_DESKTOP_ORIGINS]).is_ok());
        assert!(matches!(
            check_agent_desktop_origins(&many),
            Err(TenantError::BadDesktopOrigin)
        ));
    }

    #[tokio::test]
    async fn agent_desktop_origins_are_set_checked_and_cleared() {
        let store = MemoryStore::new();
        let t = create_tenant(&store, "acme", vec![], 1).await.unwrap();
        assert!(t.agent_desktop_origins.is_empty());
        let list = vec!["https://crm.example".to_owned()];
        let got = set_agent_desktop_origins(&store, &t.id, &list)
            .await
            .unwrap();
        assert_eq!(got.agent_desktop_origins, list);
        assert!(matches!(
            set_agent_desktop_origins(&store, &t.id, &["http://crm.example".into()]).await,
            Err(TenantError::BadDesktopOrigin)
        ));
        let kept = store.tenant(&t.id).await.unwrap().unwrap();
        assert_eq!(
            kept.agent_desktop_origins, list,
            "a refused list changes nothing"
        );
        let cleared = set_agent_desktop_origins(&store, &t.id, &[]).await.unwrap();
        assert!(cleared.agent_desktop_origins.is_empty());
        assert!(matches!(
            set_agent_desktop_origins(&store, &TenantId::new("ten_nope"), &list).await,
            Err(TenantError::UnknownTenant)
        ));
    }
}
