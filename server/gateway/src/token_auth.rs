//! Participant tokens at every use: an HTTP request ([`crate::extract::Caller`]), the
//! signalling connect and `join`, and a signalling `refresh` all go through
//! [`Tokens::authenticate`] — the one validator, then the minting API key (the `akid` claim)
//! looked up in the store.
//!
//! No cache: the key is one primary-key read per use (the same read an API-key request
//! already costs), so a revocation takes effect at once on every gateway that shares the
//! store, the one that revoked it and the others alike. A session that is already connected
//! is closed by the revoking node at once ([`Tokens::announce_revoked`]) and, on any other
//! node or after `hushpay apikey revoke`, by its periodic re-check (`rtc.credential_recheck_secs`).

use hushpay_auth::{AuthError, Claims, Expectation};
use hushpay_store::{ApiKeyId, ApiKeyRecord, Store, StoreError};
use thiserror::Error;
use tokio::sync::broadcast;

use crate::app::AppState;
use crate::error::ApiError;
use crate::tokens::Tokens;

/// Why a participant token is refused.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TokenRefusal {
    /// The validator refused it.
    #[error(transparent)]
    Invalid(#[from] AuthError),
    /// The API key that minted it is revoked (or unknown, or of another tenant).
    #[error("the API key that minted this token has been revoked")]
    Revoked,
    /// No `akid` claim, and this gateway (production mode) refuses tokens not bound to an API key.
    #[error("the token names no API key (`akid`); mint it with POST /v1/access-tokens")]
    Unbound,
    /// The key could not be looked up.
    #[error("the API key of the token could not be checked")]
    Store(#[from] StoreError),
}

impl TokenRefusal {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            TokenRefusal::Invalid(e) => e.code(),
            TokenRefusal::Revoked => "token_revoked",
            TokenRefusal::Unbound => "token_unbound",
            TokenRefusal::Store(_) => "storage_unavailable",
        }
    }

    /// HTTP status: the validator's (401, or 403 for another tenant), 401 for a revoked or
    /// unbound token, 503 when the store cannot answer.
    pub fn http_status(&self) -> u16 {
        match self {
            TokenRefusal::Invalid(e) => e.http_status(),
            TokenRefusal::Revoked | TokenRefusal::Unbound => 401,
            TokenRefusal::Store(_) => 503,
        }
    }
}

impl From<TokenRefusal> for ApiError {
    fn from(e: TokenRefusal) -> Self {
        match e {
            TokenRefusal::Store(s) => ApiError::from(s),
            other => {
                let status = axum::http::StatusCode::from_u16(other.http_status())
                    .unwrap_or(axum::http::StatusCode::UNAUTHORIZED);
                ApiError::new(status, other.code(), other.to_string())
            }
        }
    }
}

impl Tokens {
    /// Validates `token` with the one validator, then checks its API key against `store`.
    pub async fn authenticate(
        &self,
        store: &dyn Store,
        token: &str,
        expected: Expectation<'_>,
    ) -> Result<Claims, TokenRefusal> {
        let claims = self.validator.validate_now(token, expected)?;
        self.check_key(store, &claims).await?;
        Ok(claims)
    }

    /// The revocation half of [`Tokens::authenticate`], for a session's re-checks.
    pub async fn check_key(&self, store: &dyn Store, claims: &Claims) -> Result<(), TokenRefusal> {
        let record = match claims.akid.as_deref() {
            Some(id) => store.api_key(&ApiKeyId::new(id)).await?,
            None => None,
        };
        key_verdict(claims, record.as_ref(), self.require_api_key_claim)
    }

    /// Tells this node's signalling sessions that `key` was revoked: those whose token it
    /// minted close at once.
    pub fn announce_revoked(&self, key: &ApiKeyId) {
        // No receiver (no session) is not an error.
        let _ = self.revocations.send(key.as_str().to_owned());
    }

    /// Revocations announced on this node, for one session.
    pub fn revocations(&self) -> broadcast::Receiver<String> {
        self.revocations.subscribe()
    }
}

/// A token's key is acceptable when it is the token tenant's and not revoked; a token without
/// `akid` only where unbound tokens are allowed (development mode).
fn key_verdict(
    claims: &Claims,
    record: Option<&ApiKeyRecord>,
    require_api_key_claim: bool,
) -> Result<(), TokenRefusal> {
    if claims.akid.is_none() {
        return if require_api_key_claim {
            Err(TokenRefusal::Unbound)
        } else {
            Ok(())
        };
    }
    match record {
        Some(k) if k.tenant.as_str() == claims.tenant.as_str() && !k.is_revoked() => Ok(()),
        _ => Err(TokenRefusal::Revoked),
    }
}

/// [`Tokens::authenticate`] with the gateway's store, counting a refusal in the metrics: what
/// every participant-token edge calls.
pub async fn participant(
    state: &AppState,
    token: &str,
    expected: Expectation<'_>,
) -> Result<Claims, TokenRefusal> {
    let result = state
        .tokens
        .authenticate(state.store.as_ref(), token, expected)
        .await;
    if let Err(e) = &result {
        state.metrics.auth_failure(e.code());
    }
    result
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use hushpay_auth::{Grants, Identity, Role, RoomName, TenantId};

    fn claims(akid: Option<&str>) -> Claims {
        Claims {
            iss: "i".into(),
            aud: "a".into(),
            sub: Identity::parse("p").unwrap(),
            tenant: TenantId::parse("ten_a").unwrap(),
            room: RoomName::parse("r").unwrap(),
            role: Role::Patient,
            grants: Grants::NONE,
            exp: 2,
            nbf: 1,
            iat: 1,
            jti: "j".into(),
            akid: akid.map(str::to_owned),
        }
    }

    fn key(tenant: &str, revoked: bool) -> ApiKeyRecord {
        ApiKeyRecord {
            id: ApiKeyId::new("key_1"),
            tenant: hushpay_store::TenantId::new(tenant),
            secret_hash: String::new(),
            label: String::new(),
            created_at: 0,
            revoked_at: revoked.then_some(1),
        }
    }

    #[test]
    fn unbound_tokens_pass_only_where_allowed() {
        assert!(key_verdict(&claims(None), None, false).is_ok());
        assert!(matches!(
            key_verdict(&claims(None), None, true),
            Err(TokenRefusal::Unbound)
        ));
    }

    #[test]
    fn a_revoked_unknown_or_foreign_key_refuses_the_token() {
        let c = claims(Some("key_1"));
        assert!(key_verdict(&c, Some(&key("ten_a", false)), true).is_ok());
        for record in [Some(key("ten_a", true)), Some(key("ten_b", false)), None] {
            let verdict = key_verdict(&c, record.as_ref(), false);
            assert_eq!(verdict.unwrap_err().code(), "token_revoked");
        }
    }
}
