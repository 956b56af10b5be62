//! `GET /v1/vault/public-key`: the HPKE public key card payloads are sealed to, and its id.
//! Public: the card iframe and tenant backends fetch it without credentials.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppState;

/// The vault's HPKE public key.
#[derive(Debug, Serialize, ToSchema)]
pub struct VaultPublicKey {
    /// The key id a sealed card names (`kid`).
    pub kid: String,
    /// X25519 public key, base64url without padding.
    pub public_key: String,
    /// The sealed card format's version.
    pub format_version: u8,
    /// The HPKE suite.
    pub suite: String,
}

crate::api_errors!(PublicKeyErrors {});

/// The HPKE public key card payloads are sealed to (RFC 9180), and its id.
#[utoipa::path(get, path = "/v1/vault/public-key", operation_id = "vaultPublicKey", tag = "vault",
    responses((status = 200, description = "The key", body = VaultPublicKey), PublicKeyErrors))]
pub async fn public_key(State(state): State<AppState>) -> Json<VaultPublicKey> {
    Json(VaultPublicKey {
        kid: state.vault.kid.clone(),
        public_key: state.vault.hpke_public.to_base64url(),
        format_version: hushpay_card::sealed::FORMAT_VERSION,
        suite: "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM (RFC 9180, mode base)"
            .to_owned(),
    })
}
