//! Records kept by the store. Ids are opaque strings with a type prefix.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seconds since the Unix epoch.
pub type UnixTime = i64;

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id read from a trusted place (the store, a validated token).
            pub fn new(id: impl Into<String>) -> Self {
                Self(id.into())
            }
            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }
    };
}

string_id!(
    /// A tenant id, `ten_` + base62.
    TenantId
);
string_id!(
    /// An API key id, `key_` + base62: the public half of an API key.
    ApiKeyId
);

/// A customer organisation: its rooms, keys, tokens and recordings are isolated from others'.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    /// Unique, human-chosen name (`acme-health`).
    pub name: String,
    pub created_at: UnixTime,
    /// Origins allowed to embed Hushpay's widgets (the card iframe's `frame-ancestors`).
    pub allowed_origins: Vec<String>,
    /// Recording policy: every room of the tenant, created by the API or by a join, needs
    /// the patient's recording consent before anything is recorded.
    #[serde(default)]
    pub require_consent_by_default: bool,
    /// Origins of the agent desktops (CRM, contact-centre desktop) allowed to embed the agent
    /// console and hand it access tokens (`/console?tenant=`: its `frame-ancestors` and the
    /// origins its `postMessage` protocol talks to). Empty: the console cannot be embedded.
    #[serde(default)]
    pub agent_desktop_origins: Vec<String>,
    /// The locale of the tenant's payments that name none (BCP 47, validated by the caller:
    /// `es-US`); `None`: English.
    #[serde(default)]
    pub default_locale: Option<String>,
}

/// A tenant API key as stored: the secret exists only as its SHA-256 hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyRecord {
    pub id: ApiKeyId,
    pub tenant: TenantId,
    /// Lower-case hex SHA-256 of the full key string.
    pub secret_hash: String,
    /// A label chosen by the operator.
    pub label: String,
    pub created_at: UnixTime,
    pub revoked_at: Option<UnixTime>,
}

impl ApiKeyRecord {
    /// True when the key has been revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }
}

impl fmt::Debug for ApiKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeyRecord")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("secret_hash", &"<redacted>")
            .field("label", &self.label)
            .field("created_at", &self.created_at)
            .field("revoked_at", &self.revoked_at)
            .finish()
    }
}
