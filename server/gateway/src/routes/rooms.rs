//! Rooms for the tenant backend (API key): `POST /v1/rooms`, `GET /v1/rooms/{id}`,
//! `DELETE /v1/rooms/{id}`. A room id is the room name tokens carry, scoped to the tenant:
//! another tenant's room of the same name is a different room and is never shown.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, TenantKey};
use crate::sfu::room::{JoinError, RoomKey};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    /// Room name (what `room` in participant tokens names); generated when absent.
    pub name: Option<String>,
    /// Nothing is recorded until the tenant records the patient's consent
    /// (`POST /v1/rooms/{id}/recording-consent`).
    #[serde(default)]
    pub require_recording_consent: bool,
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

fn key(tk: &TenantKey, name: String) -> RoomKey {
    RoomKey {
        tenant: tk.0.tenant.as_str().to_owned(),
        name,
    }
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "room_not_found", "no such room")
}

pub async fn create(
    State(state): State<AppState>,
    tk: TenantKey,
    ApiJson(body): ApiJson<CreateRoom>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = body
        .name
        .unwrap_or_else(|| format!("room_{}", uuid::Uuid::new_v4().simple()));
    if !valid_name(&name) {
        return Err(ApiError::bad_request(
            "invalid_request",
            "room names are 1-128 characters of A-Z a-z 0-9 - _ . :",
        ));
    }
    let max = state.sfu.config.max_rooms_per_tenant;
    match state.sfu.rooms.create(key(&tk, name), max) {
        Ok(Some(room)) => {
            if body.require_recording_consent {
                state.recorder.require_consent(&room.key);
            }
            state.sfu.schedule_empty_close(room.key.clone());
            state.sfu.update_gauges();
            Ok((StatusCode::CREATED, Json(json!(room.view()))))
        }
        Ok(None) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "room_exists",
            "a room with this name is open",
        )),
        Err(JoinError::TooManyRooms) | Err(_) => Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_rooms",
            "the tenant has too many open rooms",
        )),
    }
}

pub async fn show(
    State(state): State<AppState>,
    tk: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let room = state.sfu.rooms.get(&key(&tk, id)).ok_or_else(not_found)?;
    Ok(Json(json!(room.view())))
}

pub async fn end(
    State(state): State<AppState>,
    tk: TenantKey,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state
        .sfu
        .end_room(&key(&tk, id), "ended by the tenant")
        .await
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(not_found())
    }
}

/// `POST /v1/rooms/{id}/recording-consent`: the patient consented; recording may start. The
/// body is empty or `{}`.
pub async fn recording_consent(
    State(state): State<AppState>,
    tk: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = key(&tk, id);
    let room = state.sfu.rooms.get(&key).ok_or_else(not_found)?;
    let rec = state
        .recorder
        .consent(&room.key, &format!("{}", tk.0.id))
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "the consent could not be audited; the room stays paused",
            )
        })?;
    Ok(Json(json!({"recording": rec})))
}
