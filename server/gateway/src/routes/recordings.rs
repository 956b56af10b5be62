//! The recording API (docs/recording.md): a tenant API key sees the tenant's recordings; a
//! supervisor token with `canViewRecordings` sees the recordings of its token's room. Every
//! audio export is audited first (audit or deny). Every node answers for every recording:
//! lists come from the store's index, metadata and tracks from the object store.
//!
//! * `GET /v1/recordings?room=NAME` — list (newest first);
//! * `GET /v1/recordings/{id}` — signed metadata, whether the signature verifies, and each
//!   track's integrity (complete, truncated after chunk N, or damaged);
//! * `GET /v1/recordings/{id}/audio?format=wav|ogg&tracks=stereo|separate` — decrypted,
//!   decoded and mixed (patient left, agent right), paused time silent.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hushpay_auth::Role;
use hushpay_store::TenantId;
use hushpay_vault::audit::AuditEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::app::AppState;
use crate::error::ApiError;
use crate::extract::{ApiQuery, Caller, QueryParams};
use crate::openapi::errors;
use crate::openapi::schemas::{PauseWindow, SignedMetadata, TrackInfo};
use crate::recording::export::{self, ExportError};
use crate::recording::files;

/// Audit action of an export.
pub const AUDIT_EXPORT: &str = "recording.export";
const MAX_LISTED: usize = 1000;

/// Who may see what.
struct Access {
    tenant: String,
    /// `Some(room)`: a supervisor, limited to that room.
    room: Option<String>,
    actor: String,
}

fn access(caller: &Caller) -> Result<Access, ApiError> {
    match caller {
        Caller::ApiKey(k) => Ok(Access {
            tenant: k.tenant.as_str().to_owned(),
            room: None,
            actor: k.id.to_string(),
        }),
        Caller::Participant(c) => {
            if c.role != Role::Supervisor || !c.grants.can_view_recordings {
                return Err(ApiError::forbidden(
                    "forbidden",
                    "recordings need a tenant API key or a supervisor token with canViewRecordings",
                ));
            }
            Ok(Access {
                tenant: c.tenant.as_str().to_owned(),
                room: Some(c.room.as_str().to_owned()),
                actor: format!("supervisor:{}", c.sub.as_str()),
            })
        }
    }
}

fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "recording_not_found",
        "no such recording",
    )
}

fn error(e: ExportError) -> ApiError {
    match e {
        ExportError::NotFound => not_found(),
        ExportError::Tampered => ApiError::new(
            StatusCode::CONFLICT,
            "recording_tampered",
            "the recording's signed metadata does not verify; it was changed after recording",
        ),
        ExportError::Corrupt(m) => ApiError::new(StatusCode::CONFLICT, "recording_damaged", m),
        ExportError::Index(e) => e.into(),
        other => ApiError::internal("recording", &other),
    }
}

/// A recording as listed.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingSummary {
    /// `rec_...`
    pub id: String,
    pub room: String,
    /// Unix ms of recording-clock 0.
    pub started_at_unix_ms: i64,
    /// Recording-clock ms at the end; null while recording (or after a crash).
    pub ended_ms: Option<u32>,
    pub tracks: Vec<TrackInfo>,
    /// The windows in which nothing was recorded (payments, consent, faults).
    pub pauses: Vec<PauseWindow>,
    /// Whether the signed metadata verifies.
    pub signature_valid: bool,
}

/// The recordings, newest first (at most 1000).
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingList {
    pub recordings: Vec<RecordingSummary>,
}

/// A track's integrity.
#[derive(Debug, Serialize, ToSchema)]
pub struct TrackIntegrity {
    pub track: String,
    /// `complete`, `truncated` (after `chunks`), `damaged` or `missing`.
    #[schema(pattern = "^(complete|truncated|damaged|missing)$")]
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunks: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// A recording's signed metadata and each track's integrity.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingDetail {
    #[serde(flatten)]
    pub summary: RecordingSummary,
    pub metadata: SignedMetadata,
    pub integrity: Vec<TrackIntegrity>,
}

/// What a recording route refuses with (the credential and the recording).
const RECORDING_401: &[&[&str]] = &[errors::BEARER_401, errors::API_KEY_401, errors::JWT_401];

crate::api_errors!(ListErrors {
    400 => [&["invalid_request"]],
    401 => [RECORDING_401[0], RECORDING_401[1], RECORDING_401[2]],
    403 => [&["forbidden"]],
    503 => [errors::STORE_503],
});

crate::api_errors!(ShowErrors {
    401 => [RECORDING_401[0], RECORDING_401[1], RECORDING_401[2]],
    403 => [&["forbidden"]],
    404 => [&["recording_not_found"]],
    409 => [&["recording_tampered", "recording_damaged"]],
    503 => [errors::STORE_503],
});

crate::api_errors!(AudioErrors {
    400 => [&["invalid_request", "invalid_format", "invalid_tracks"]],
    401 => [RECORDING_401[0], RECORDING_401[1], RECORDING_401[2]],
    403 => [&["forbidden"]],
    404 => [&["recording_not_found"]],
    409 => [&["recording_tampered", "recording_damaged"]],
    503 => [errors::AUDIT_503, errors::STORE_503],
});

/// `GET /v1/recordings` query: `room` (optional).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    room: Option<RoomName>,
}

impl QueryParams for ListQuery {
    const PARAMS: &'static [&'static str] = &["room"];
}

/// A room name as the recording index stores it.
#[derive(Debug, Deserialize)]
#[serde(try_from = "String")]
struct RoomName(String);

impl TryFrom<String> for RoomName {
    type Error = &'static str;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        if valid_room(&name) {
            Ok(RoomName(name))
        } else {
            Err("room names are 1-128 characters of A-Z a-z 0-9 - _ . :")
        }
    }
}

/// `GET /v1/recordings/{id}/audio` query: `format` (`wav`, `ogg`) and `tracks` (`stereo`,
/// `separate`), each with its own error code.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudioQuery {
    #[serde(default)]
    format: AudioFormat,
    #[serde(default)]
    tracks: Tracks,
}

impl QueryParams for AudioQuery {
    const PARAMS: &'static [&'static str] = &["format", "tracks"];

    fn code(param: &str) -> &'static str {
        match param {
            "format" => "invalid_format",
            "tracks" => "invalid_tracks",
            _ => "invalid_request",
        }
    }
}

/// The export's container.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum AudioFormat {
    #[default]
    Wav,
    Ogg,
}

/// Patient left and agent right (`stereo`), or one channel per track (`separate`, WAV only).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Tracks {
    #[default]
    Stereo,
    Separate,
}

fn valid_room(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// A recording this caller may see, with its metadata.
async fn visible(
    state: &AppState,
    a: &Access,
    id: &str,
) -> Result<(hushpay_recording::SignedMetadata, bool), ApiError> {
    if !files::valid_recording_id(id) {
        return Err(not_found());
    }
    let (signed, ok) = export::metadata(&state.recorder, &a.tenant, id)
        .await
        .map_err(error)?;
    if a.room.as_ref().is_some_and(|r| *r != signed.metadata.room) {
        return Err(not_found());
    }
    Ok((signed, ok))
}

fn summary(signed: &hushpay_recording::SignedMetadata, ok: bool) -> Value {
    let m = &signed.metadata;
    json!({
        "id": m.recording_id,
        "room": m.room,
        "started_at_unix_ms": m.started_at_unix_ms,
        "ended_ms": m.ended_ms,
        "tracks": m.tracks,
        "pauses": m.pauses,
        "signature_valid": ok,
    })
}

/// The tenant's recordings (a supervisor token: its room's), newest first.
#[utoipa::path(get, path = "/v1/recordings", operation_id = "listRecordings", tag = "recordings",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("room" = Option<String>, Query, description = "Only this room's (1-128 characters of A-Z a-z 0-9 - _ . :)",
        pattern = "^[A-Za-z0-9._:-]{1,128}$")),
    responses((status = 200, description = "The recordings", body = RecordingList), ListErrors))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let a = access(&caller)?;
    let room = q.room.as_ref().map(|r| r.0.as_str());
    if let (Some(mine), Some(asked)) = (&a.room, room)
        && mine != asked
    {
        return Err(ApiError::forbidden(
            "forbidden",
            "a supervisor token lists the recordings of its own room",
        ));
    }
    let room = room.map(str::to_owned).or_else(|| a.room.clone());
    let indexed = state
        .store
        .recordings(
            &TenantId::new(a.tenant.as_str()),
            room.as_deref(),
            MAX_LISTED,
        )
        .await?;
    let mut out = Vec::new();
    for r in indexed {
        let Ok((signed, ok)) = export::listed_metadata(&state.recorder, &a.tenant, &r.id).await
        else {
            continue;
        };
        // The signed room decides (an index row is not signed).
        if room.as_ref().is_none_or(|r| *r == signed.metadata.room) {
            out.push((signed.metadata.started_at_unix_ms, summary(&signed, ok)));
        }
    }
    out.sort_by_key(|x| std::cmp::Reverse(x.0));
    Ok(Json(
        json!({"recordings": out.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}),
    ))
}

/// A recording's signed metadata, whether the signature verifies, and each track's
/// integrity.
#[utoipa::path(get, path = "/v1/recordings/{id}", operation_id = "showRecording", tag = "recordings",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(("id" = String, Path, description = "The recording (`rec_...`)")),
    responses((status = 200, description = "The recording", body = RecordingDetail), ShowErrors))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let a = access(&caller)?;
    let (signed, ok) = visible(&state, &a, &id).await?;
    let mut integrity = Vec::new();
    for t in &signed.metadata.tracks {
        let status = match export::track_bytes(&state.recorder, &a.tenant, &id, &t.track).await {
            Ok(None) => json!({"track": t.track, "status": "missing"}),
            Err(e @ (ExportError::Corrupt(_) | ExportError::NotFound)) => {
                json!({"track": t.track, "status": "damaged", "detail": e.to_string()})
            }
            Err(e) => return Err(error(e)),
            Ok(Some(bytes)) => {
                match export::decrypt_track(&state.recorder, &a.tenant, &id, &bytes).await {
                    Ok(d) => match d.truncated {
                        None => {
                            json!({"track": t.track, "status": "complete", "chunks": d.chunks, "packets": d.packets.len()})
                        }
                        Some(cut) => {
                            json!({"track": t.track, "status": "truncated", "chunks": d.chunks, "packets": d.packets.len(), "detail": cut.to_string()})
                        }
                    },
                    Err(e) => {
                        json!({"track": t.track, "status": "damaged", "detail": e.to_string()})
                    }
                }
            }
        };
        integrity.push(status);
    }
    let mut v = summary(&signed, ok);
    v["metadata"] = json!(signed);
    v["integrity"] = json!(integrity);
    Ok(Json(v))
}

/// The recording decrypted, decoded and mixed, paused time silent (audited
/// `recording.export`).
#[utoipa::path(get, path = "/v1/recordings/{id}/audio", operation_id = "exportRecording", tag = "recordings",
    security(("api_key" = []), ("participant_jwt" = [])),
    params(
        ("id" = String, Path, description = "The recording (`rec_...`)"),
        ("format" = Option<AudioFormat>, Query, description = "`wav` (default) or `ogg`"),
        ("tracks" = Option<Tracks>, Query, description = "`stereo` (default) or `separate` (WAV only: with `ogg` it is 400 `invalid_tracks`)"),
    ),
    responses(
        (status = 200, description = "The audio; `x-hushpay-channels` names the channels",
            content(("audio/wav"), ("audio/ogg"))),
        AudioErrors))]
pub async fn audio(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AudioQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let a = access(&caller)?;
    let format = match q.format {
        AudioFormat::Wav => "wav",
        AudioFormat::Ogg => "ogg",
    };
    let separate = q.tracks == Tracks::Separate;
    if separate && format == "ogg" {
        return Err(ApiError::bad_request(
            "invalid_tracks",
            "separate tracks are exported as WAV (one channel per track)",
        ));
    }
    visible(&state, &a, &id).await?;
    let decrypted = export::decrypt(&state.recorder, &a.tenant, &id)
        .await
        .map_err(error)?;
    let truncated: Vec<String> = decrypted
        .tracks
        .iter()
        .filter_map(|(i, t)| t.truncated.map(|c| format!("{}: {c}", i.track)))
        .collect();
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    state
        .vault
        .vault
        .audit(AuditEvent {
            tenant: Some(TenantId::new(a.tenant.as_str())),
            actor: a.actor.clone(),
            action: AUDIT_EXPORT.into(),
            resource: id.clone(),
            outcome: format!(
                "format={format}; tracks={}",
                if separate { "separate" } else { "stereo" }
            ),
            request_id,
        })
        .await?;
    let (names, body) = tokio::task::spawn_blocking(move || {
        let channels = export::channels(&decrypted, separate);
        let names: Vec<String> = channels.iter().map(|(n, _)| n.clone()).collect();
        let body = if format == "ogg" {
            export::ogg_stereo(&channels[0].1, &channels[1].1).map_err(|e| e.to_string())
        } else {
            Ok(export::wav(&channels))
        };
        (names, body)
    })
    .await
    .map_err(|e| ApiError::internal("recording export", &e))?;
    let body = body.map_err(|e| ApiError::internal("recording export", &e))?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    let ct = if format == "ogg" {
        "audio/ogg"
    } else {
        "audio/wav"
    };
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{id}.{format}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&names.join(",")) {
        h.insert("x-hushpay-channels", v);
    }
    if !truncated.is_empty()
        && let Ok(v) = HeaderValue::from_str(&truncated.join("; "))
    {
        h.insert("x-hushpay-truncated", v);
    }
    Ok(resp)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use axum::extract::FromRequestParts;
    use axum::http::Request;

    use super::*;

    async fn query<T: QueryParams>(q: &str) -> Result<T, (u16, String, String)> {
        let (mut parts, ()) = Request::builder()
            .uri(format!("/v1/recordings/rec_1/audio{q}"))
            .body(())
            .unwrap()
            .into_parts();
        match ApiQuery::<T>::from_request_parts(&mut parts, &()).await {
            Ok(ApiQuery(t)) => Ok(t),
            Err(e) => {
                let resp = e.into_response();
                let status = resp.status().as_u16();
                let body = axum::body::to_bytes(resp.into_body(), 4096).await.unwrap();
                let v: Value = serde_json::from_slice(&body).unwrap();
                let code = v["error"]["code"].as_str().unwrap().to_owned();
                let message = v["error"]["message"].as_str().unwrap().to_owned();
                Err((status, code, message))
            }
        }
    }

    #[tokio::test]
    async fn audio_queries_are_typed_with_defaults() {
        let q: AudioQuery = query("").await.unwrap();
        assert_eq!((q.format, q.tracks), (AudioFormat::Wav, Tracks::Stereo));
        let q: AudioQuery = query("?format=ogg").await.unwrap();
        assert_eq!(q.format, AudioFormat::Ogg);
        let q: AudioQuery = query("?tracks=separate&format=wav").await.unwrap();
        assert_eq!((q.format, q.tracks), (AudioFormat::Wav, Tracks::Separate));
    }

    #[tokio::test]
    async fn bad_audio_queries_get_their_codes_without_echoing_the_value() {
        for (q, code) in [
            ("?format=mp3", "invalid_format"),
            ("?format=WAV", "invalid_format"),
            ("?tracks=4242424242424242", "invalid_tracks"),
            ("?format=wav&format=ogg", "invalid_request"),
            ("?x=1", "invalid_request"),
            ("?4242424242424242=1", "invalid_request"),
        ] {
            let (status, got, message) = query::<AudioQuery>(q).await.unwrap_err();
            assert_eq!((status, got.as_str()), (400, code), "{q}: {message}");
            assert!(
                !message.contains("mp3") && !message.contains("4242"),
                "{q}: {message}"
            );
        }
    }

    #[tokio::test]
    async fn list_queries_check_the_room_name() {
        let q: ListQuery = query("?room=intake-42").await.unwrap();
        assert_eq!(q.room.unwrap().0, "intake-42");
        assert!(query::<ListQuery>("").await.unwrap().room.is_none());
        for q in ["?room=a/b", "?room=", "?rom=x", "?room=a&room=b"] {
            let (status, code, message) = query::<ListQuery>(q).await.unwrap_err();
            assert_eq!(
                (status, code.as_str()),
                (400, "invalid_request"),
                "{q}: {message}"
            );
        }
        let (_, _, message) = query::<ListQuery>("?room=a/b").await.unwrap_err();
        assert!(message.contains("1-128 characters"), "{message}");
    }
}
