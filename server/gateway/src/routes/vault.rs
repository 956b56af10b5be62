//! `GET /v1/vault/public-key`: the HPKE public key card payloads are sealed to, and its id.
//! Public: the card iframe and tenant backends fetch it without credentials.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::app::AppState;

pub async fn public_key(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "kid": state.vault.kid,
        "public_key": state.vault.hpke_public.to_base64url(),
        "format_version": hushpay_card::sealed::FORMAT_VERSION,
        "suite": "DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM (RFC 9180, mode base)",
    }))
}
