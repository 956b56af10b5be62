//! Rooms for the tenant backend (API key): `POST /v1/rooms`, `GET /v1/rooms/{id}`,
//! `DELETE /v1/rooms/{id}`, `POST /v1/rooms/{id}/recording-consent`. A room id is the room name
//! tokens carry, scoped to the tenant: another tenant's room of the same name is a different
//! room and is never shown.
//!
//! Rooms and their settings are stored ([`crate::rooms`]): the store is written first, then
//! the open room in memory follows, so a crash or a close in between never loses a setting.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use hushpay_auth::RoomName;
use hushpay_store::{Tenant, TenantId};
use hushpay_vault::audit::AuditEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::cluster::bus::{Reply, Request};
use crate::error::ApiError;
use crate::extract::{ApiJson, TenantKey};
use crate::openapi::errors;
use crate::openapi::schemas::RecordingState;
use crate::sfu::room::{JoinError, RoomKey, RoomSettings, RoomView};

/// Audit action of a recorded consent.
pub const AUDIT_CONSENT: &str = "recording.consent";

/// The body of `POST /v1/rooms`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"name": "intake-42", "require_recording_consent": true}))]
pub struct CreateRoom {
    /// Room name (what `room` in participant tokens names): 1-128 characters of
    /// A-Z a-z 0-9 - _ . : ; generated when absent.
    #[schema(pattern = "^[A-Za-z0-9._:-]{1,128}$")]
    pub name: Option<String>,
    /// Nothing is recorded until the tenant records the patient's consent
    /// (`POST /v1/rooms/{id}/recording-consent`). The tenant's `require_consent_by_default`
    /// applies on top of it.
    #[serde(default)]
    pub require_recording_consent: bool,
}

/// The answer to a recorded consent: the room's recording state.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentRecorded {
    #[schema(value_type = RecordingState)]
    pub recording: Value,
}

crate::api_errors!(CreateErrors {
    400 => [errors::JSON_400],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["not_found"]],
    409 => [&["room_exists", "conflict"]],
    413 => [errors::JSON_413],
    415 => [errors::JSON_415],
    429 => [&["too_many_rooms"]],
    503 => [&["node_draining", "cluster_unavailable"], errors::STORE_503],
});

crate::api_errors!(ShowErrors {
    400 => [&["invalid_request"]],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["room_not_found", "not_found"]],
    503 => [&["cluster_unavailable"], errors::STORE_503],
});

crate::api_errors!(EndErrors {
    400 => [&["invalid_request"]],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["room_not_found"]],
    503 => [&["cluster_unavailable"], errors::STORE_503],
});

crate::api_errors!(ConsentErrors {
    400 => [&["invalid_request"]],
    401 => [errors::BEARER_401, errors::API_KEY_401],
    404 => [&["room_not_found"]],
    503 => [&["cluster_unavailable"], errors::AUDIT_503, errors::STORE_503],
});

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

/// A room id from the path: any name a participant token may carry.
fn room_id(id: String) -> Result<String, ApiError> {
    RoomName::parse(id).map(String::from).map_err(|_| {
        ApiError::bad_request(
            "invalid_request",
            "room ids are 1-128 characters of A-Z a-z 0-9 - _ . : @",
        )
    })
}

fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "room_not_found", "no such room")
}

fn now() -> i64 {
    i64::try_from(hushpay_auth::unix_now()).unwrap_or(i64::MAX)
}

async fn tenant(state: &AppState, tk: &TenantKey) -> Result<Tenant, ApiError> {
    state
        .store
        .tenant(&tk.0.tenant)
        .await?
        .ok_or_else(|| ApiError::not_found("no such tenant"))
}

/// Creates a room (its settings are stored, kept across closes and restarts).
#[utoipa::path(post, path = "/v1/rooms", operation_id = "createRoom", tag = "rooms",
    security(("api_key" = [])),
    request_body = CreateRoom,
    responses((status = 201, description = "The open room", body = RoomView,
        links(("showRoom" = (operation_id = "showRoom", parameters(("id" = "$response.body#/id")))), ("recordConsent" = (operation_id = "recordConsent", parameters(("id" = "$response.body#/id")))), ("endRoom" = (operation_id = "endRoom", parameters(("id" = "$response.body#/id")))))), CreateErrors))]
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
    let room_exists = || {
        ApiError::new(
            StatusCode::CONFLICT,
            "room_exists",
            "a room with this name is open",
        )
    };
    let key = key(&tk, name);
    if state.sfu.rooms.get(&key).is_some() {
        return Err(room_exists());
    }
    if state.sfu.draining() {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "node_draining",
            "this gateway is shutting down and opens no new room; try again",
        ));
    }
    // In a cluster the room is placed here (its tenant's rooms on every node counted).
    match state.sfu.place(&key).await {
        Ok(()) => {}
        Err(JoinError::Elsewhere(_)) => return Err(room_exists()),
        Err(JoinError::TooManyRooms) => return Err(too_many_rooms()),
        Err(e) => return Err(cluster_unavailable(&format!("{e:?}"))),
    }
    let tenant = tenant(&state, &tk).await?;
    let require = body.require_recording_consent;
    state
        .store
        .create_room(&tenant.id, &key.name, require, now())
        .await?;
    let stored = state.store.room(&tenant.id, &key.name).await?;
    let settings = crate::rooms::settings(stored.as_ref(), &tenant);
    match state.sfu.open_room(key, settings) {
        Ok(Some(room)) => {
            let ended_at = stored.and_then(|r| r.ended_at);
            Ok((StatusCode::CREATED, Json(json!(room.view(ended_at)))))
        }
        Ok(None) => Err(room_exists()),
        Err(_) => Err(too_many_rooms()),
    }
}

/// The room, open or stored: an open room shows its participants; a stored room that is not
/// open shows `open: false` and the settings it will open with.
#[utoipa::path(get, path = "/v1/rooms/{id}", operation_id = "showRoom", tag = "rooms",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The room name (1-128 characters of A-Z a-z 0-9 - _ . : @)",
        pattern = "^[A-Za-z0-9._:@-]{1,128}$")),
    responses((status = 200, description = "The room", body = RoomView), ShowErrors))]
pub async fn show(
    State(state): State<AppState>,
    tk: TenantKey,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = room_id(id)?;
    let tenant = tenant(&state, &tk).await?;
    let stored = state.store.room(&tenant.id, &id).await?;
    let key = key(&tk, id);
    let here = state.sfu.cluster().map(|c| c.node_id().to_owned());
    if let Some(room) = state.sfu.rooms.get(&key) {
        let view = json!(room.view(stored.and_then(|r| r.ended_at)));
        return Ok(Json(with_node(view, here.as_deref())));
    }
    if let Some(view) = remote_view(&state, &key).await? {
        return Ok(Json(view));
    }
    let record = stored.ok_or_else(not_found)?;
    let RoomSettings {
        require_recording_consent,
        consent_given,
    } = crate::rooms::settings(Some(&record), &tenant);
    let view = json!(RoomView {
        id: record.name,
        created_at: record.created_at,
        participants: Vec::new(),
        open: false,
        require_recording_consent,
        recording_consent_given: consent_given,
        ended_at: record.ended_at,
    });
    // In a cluster a closed room is on no node.
    Ok(Json(if here.is_some() {
        with_node(view, None)
    } else {
        view
    }))
}

/// `view` with the node holding the room (`node`, cluster only; null when none does).
fn with_node(mut view: Value, node: Option<&str>) -> Value {
    if let Some(obj) = view.as_object_mut() {
        obj.insert("node".into(), json!(node));
    }
    view
}

fn too_many_rooms() -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_rooms",
        "the tenant has too many open rooms",
    )
}

fn cluster_unavailable(e: &dyn std::fmt::Display) -> ApiError {
    tracing::warn!(error = %e, "room refused: the cluster cannot be reached");
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "cluster_unavailable",
        "this gateway cannot reach the cluster now; try again",
    )
}

/// The node holding `key` when it is another node of the cluster.
async fn remote_owner(state: &AppState, key: &RoomKey) -> Result<Option<String>, ApiError> {
    match state.sfu.cluster() {
        Some(cluster) => cluster
            .holder_elsewhere(key)
            .await
            .map_err(|e| cluster_unavailable(&e)),
        None => Ok(None),
    }
}

/// The open room's view from the node holding it, when that is another node.
async fn remote_view(state: &AppState, key: &RoomKey) -> Result<Option<Value>, ApiError> {
    let (Some(cluster), Some(node)) = (state.sfu.cluster(), remote_owner(state, key).await?) else {
        return Ok(None);
    };
    let req = Request::RoomView {
        tenant: key.tenant.clone(),
        room: key.name.clone(),
    };
    match cluster.request(&node, &req).await {
        Ok(Reply::Ok { view: Some(view) }) => Ok(Some(with_node(view, Some(&node)))),
        Ok(_) => Ok(None),
        Err(e) => Err(cluster_unavailable(&e)),
    }
}

/// Ends the room: the end is stored first (tokens issued until now no longer open it, on any
/// gateway, after restarts), then the open call closes.
#[utoipa::path(delete, path = "/v1/rooms/{id}", operation_id = "endRoom", tag = "rooms",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The room name (1-128 characters of A-Z a-z 0-9 - _ . : @)",
        pattern = "^[A-Za-z0-9._:@-]{1,128}$")),
    responses((status = 204, description = "Ended"), EndErrors))]
pub async fn end(
    State(state): State<AppState>,
    tk: TenantKey,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let key = key(&tk, room_id(id)?);
    let at = now();
    let stored = state.store.end_room(&tk.0.tenant, &key.name, at).await?;
    if !stored && state.sfu.rooms.get(&key).is_none() {
        return Err(not_found());
    }
    state.sfu.end_room(&key, "ended by the tenant", at).await;
    if let (Some(cluster), Some(node)) = (state.sfu.cluster(), remote_owner(&state, &key).await?) {
        // Stored already: tokens issued before are refused on every node from now on; the
        // node holding the room releases its participants now.
        let req = Request::EndRoom {
            tenant: key.tenant.clone(),
            room: key.name.clone(),
            ended_at: at,
        };
        if let Err(e) = cluster.request(&node, &req).await {
            tracing::warn!(error = %e, %node, "room end stored; its node was not reached");
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/rooms/{id}/recording-consent`: the patient consented; recording may start. The
/// body is empty or `{}`. The consent is audited (`recording.consent`, audit or deny), then
/// stored for the room's current call (it survives closes and restarts until the tenant ends
/// or re-creates the room), then lifts the open room's consent pause.
#[utoipa::path(post, path = "/v1/rooms/{id}/recording-consent", operation_id = "recordConsent", tag = "rooms",
    security(("api_key" = [])),
    params(("id" = String, Path, description = "The room name (1-128 characters of A-Z a-z 0-9 - _ . : @)",
        pattern = "^[A-Za-z0-9._:@-]{1,128}$")),
    responses((status = 200, description = "The room's recording state", body = ConsentRecorded),
        ConsentErrors))]
pub async fn recording_consent(
    State(state): State<AppState>,
    tk: TenantKey,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = key(&tk, room_id(id)?);
    let tenant = &tk.0.tenant;
    let open = state.sfu.rooms.get(&key);
    if open.is_none() && state.store.room(tenant, &key.name).await?.is_none() {
        return Err(not_found());
    }
    let by = tk.0.id.to_string();
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state
        .vault
        .vault
        .audit(AuditEvent {
            tenant: Some(TenantId::new(tenant.as_str())),
            actor: by.clone(),
            action: AUDIT_CONSENT.into(),
            resource: format!("room:{}", key.name),
            outcome: "ok".into(),
            request_id,
        })
        .await?;
    if !state
        .store
        .record_room_consent(tenant, &key.name, now())
        .await?
    {
        return Err(not_found());
    }
    if let Some(room) = state.sfu.rooms.get(&key) {
        room.consent.give();
    } else if let (Some(cluster), Some(node)) =
        (state.sfu.cluster(), remote_owner(&state, &key).await?)
    {
        let req = Request::Consent {
            tenant: key.tenant.clone(),
            room: key.name.clone(),
            by: by.clone(),
        };
        return match cluster.request(&node, &req).await {
            Ok(Reply::Ok { view: Some(rec) }) => Ok(Json(json!({"recording": rec}))),
            Ok(Reply::Refused { code, .. }) if code == "audit_unavailable" => Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "audit_unavailable",
                "the consent is stored, but the recording stays paused: its resume could not be audited",
            )),
            Ok(_) => Err(cluster_unavailable(&"unexpected answer")),
            Err(e) => Err(cluster_unavailable(&e)),
        };
    }
    let rec = state.recorder.consent(&key, &by).await.map_err(|_| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "audit_unavailable",
            "the consent is stored, but the recording stays paused: its resume could not be audited",
        )
    })?;
    Ok(Json(json!({"recording": rec})))
}
