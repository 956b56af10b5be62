//! The session's credential checks: the API key re-check (revocations) and `refresh`.

use axum::extract::ws::WebSocket;
use hushpay_auth::Expectation;

use super::{Session, send};
use crate::sfu::signal::{ServerMessage, codes};
use crate::token_auth::{self, TokenRefusal};

impl Session {
    /// The store's verdict on the session's API key: `Some` when the token is now refused
    /// (a store failure keeps the session; the next check tries again).
    pub(super) async fn key_refused(&self) -> Option<TokenRefusal> {
        let store = self.state.store.as_ref();
        match self
            .state
            .tokens
            .check_key(store, self.credential.claims())
            .await
        {
            Ok(()) => None,
            Err(TokenRefusal::Store(e)) => {
                tracing::warn!(error = %e, "cannot re-check a session's API key");
                None
            }
            Err(refusal) => Some(refusal),
        }
    }

    pub(super) async fn end_revoked(&self, ws: &mut WebSocket) {
        self.state.metrics.auth_failure(codes::TOKEN_REVOKED);
        send(
            ws,
            &ServerMessage::error(
                codes::TOKEN_REVOKED,
                "the API key that minted this session's token has been revoked",
            ),
        )
        .await;
    }

    /// A fresh token for the same session: validated like any other use (the one validator,
    /// then its API key), for the session's tenant and room, and with the same identity, role
    /// and grants (identical grants: a refresh never widens nor narrows what the session may
    /// do). Accepted, it becomes the session's credential and moves the deadline to its `exp`;
    /// refused, the session goes on until the old `exp`.
    pub(super) async fn refresh(
        &mut self,
        token: &str,
    ) -> Result<ServerMessage, (&'static str, String)> {
        let expected = Expectation::tenant(&self.key.tenant).with_room(&self.key.name);
        let claims = token_auth::participant(&self.state, token, expected)
            .await
            .map_err(|e| (e.code(), e.to_string()))?;
        let current = self.credential.claims();
        if claims.sub != current.sub || claims.role != current.role {
            return Err((
                codes::REFRESH_MISMATCH,
                "the fresh token is for another identity or role".to_owned(),
            ));
        }
        if claims.grants != current.grants {
            return Err((
                codes::REFRESH_MISMATCH,
                "the fresh token must carry the same grants as the session's".to_owned(),
            ));
        }
        let exp = claims.exp;
        self.credential.replace(claims);
        Ok(ServerMessage::TokenRefreshed {
            exp,
            ice_servers: self.ice_servers(),
        })
    }
}
