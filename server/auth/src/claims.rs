//! The claims of a Hushpay access token, the role enum, the grants object and the validated
//! identifier newtypes (`TenantId`, `Identity`, `RoomName`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::IdentifierError;

/// Longest identity, room or tenant name, in bytes.
pub const MAX_IDENTIFIER_LEN: usize = 128;

fn check_identifier(field: &'static str, value: &str) -> Result<(), IdentifierError> {
    if value.is_empty() {
        return Err(IdentifierError::Empty { field });
    }
    if value.len() > MAX_IDENTIFIER_LEN {
        return Err(IdentifierError::TooLong {
            field,
            max: MAX_IDENTIFIER_LEN,
        });
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '@' | '-');
    if !value.chars().all(ok) {
        return Err(IdentifierError::BadCharacter { field });
    }
    Ok(())
}

macro_rules! identifier {
    ($(#[$doc:meta])* $name:ident, $field:literal) => {
        $(#[$doc])*
        ///
        /// 1 to 128 bytes of `[A-Za-z0-9._:@-]`; only constructible through [`Self::parse`].
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Validates and wraps `value`.
            pub fn parse(value: impl Into<String>) -> Result<Self, IdentifierError> {
                let value = value.into();
                check_identifier($field, &value)?;
                Ok(Self(value))
            }

            /// The validated string.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdentifierError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

identifier!(
    /// A tenant id (the `tenant` claim).
    TenantId,
    "tenant"
);
identifier!(
    /// A participant identity (the `sub` claim).
    Identity,
    "identity"
);
identifier!(
    /// A room name (the `room` claim).
    RoomName,
    "room"
);

/// A participant's role in a room.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Role {
    Patient,
    Agent,
    Supervisor,
}

impl Role {
    /// The grants a role gets when the mint request names none:
    ///
    /// | role       | publish | subscribe | chat | requestPayment | viewRecordings |
    /// |------------|---------|-----------|------|----------------|----------------|
    /// | patient    | yes     | yes       | yes  | no             | no             |
    /// | agent      | yes     | yes       | yes  | yes            | no             |
    /// | supervisor | no      | yes       | yes  | no             | yes            |
    pub fn default_grants(self) -> Grants {
        match self {
            Role::Patient => Grants {
                can_publish: true,
                can_subscribe: true,
                can_chat: true,
                ..Grants::NONE
            },
            Role::Agent => Grants {
                can_publish: true,
                can_subscribe: true,
                can_chat: true,
                can_request_payment: true,
                ..Grants::NONE
            },
            Role::Supervisor => Grants {
                can_subscribe: true,
                can_chat: true,
                can_view_recordings: true,
                ..Grants::NONE
            },
        }
    }

    /// The claim value (`patient`, `agent`, `supervisor`).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Patient => "patient",
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
        }
    }
}

/// What a participant may do (LiveKit-style video grants plus payment grants).
/// Serialized with camelCase names; a missing field deserializes as `false`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Grants {
    pub can_publish: bool,
    pub can_subscribe: bool,
    pub can_chat: bool,
    pub can_request_payment: bool,
    pub can_view_recordings: bool,
}

impl Grants {
    /// No permission at all.
    pub const NONE: Grants = Grants {
        can_publish: false,
        can_subscribe: false,
        can_chat: false,
        can_request_payment: false,
        can_view_recordings: false,
    };
}

/// The claims of a Hushpay access token. `aud` is a single string (an array is refused, see
/// the crate docs); times are integer unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub aud: String,
    /// The participant identity.
    pub sub: Identity,
    pub tenant: TenantId,
    pub room: RoomName,
    pub role: Role,
    pub grants: Grants,
    pub exp: u64,
    pub nbf: u64,
    pub iat: u64,
    /// Unique token id (128 random bits, base64url).
    pub jti: String,
    /// The id of the tenant API key that minted the token (`key_…`), so the gateway can refuse
    /// the token once that key is revoked. Absent on tokens the gateway mints for itself
    /// (`hushpay token mint`, the demo portal, loadgen); see docs/protocol.md.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub akid: Option<String>,
}

/// Longest `akid` claim, in bytes.
pub const MAX_API_KEY_ID_LEN: usize = 64;

/// An `akid` claim is 1 to 64 bytes of `[A-Za-z0-9_]` (`key_` and base62 in practice).
pub fn valid_api_key_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_API_KEY_ID_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
