//! Signalling messages on `GET /v1/rtc` (protocol version 1), documented in docs/protocol.md.
//! Every frame is one JSON object with a `type`; unknown types and fields are refused with a
//! stable error code, never a panic.

use serde::{Deserialize, Serialize};

/// The protocol version this server speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// A frame from the client.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientMessage {
    /// First frame when the token is not in the query or header.
    Auth { token: String },
    /// Enter the room named in the token. `v` is the protocol version the client speaks.
    Join {
        #[serde(default)]
        v: Option<u32>,
    },
    /// The client's SDP offer (audio m-line(s) and the `chat` data channel).
    Offer { sdp: String },
    /// A trickled ICE candidate; `candidate: ""` or null marks the end.
    Candidate {
        candidate: Option<String>,
        #[serde(default, rename = "sdpMid")]
        sdp_mid: Option<String>,
        #[serde(default, rename = "sdpMLineIndex")]
        sdp_mline_index: Option<u16>,
    },
    /// The client muted or unmuted its microphone.
    Mute { muted: bool },
    /// Keep-alive.
    Ping {
        #[serde(default)]
        nonce: Option<u64>,
    },
    /// Leave the room (the server closes the socket).
    Leave,
    /// (Agents with `canRequestPayment`, supervisors with `canViewRecordings`) pause or
    /// resume the room's recording by hand.
    Recording { action: RecordingAction },
    /// A fresh token for the same tenant, room, identity, role and grants, sent before `exp`:
    /// the session's deadline moves to the new token's `exp`.
    Refresh { token: String },
}

/// A manual recording command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingAction {
    Pause,
    Resume,
}

/// A room's recording state as agents and supervisors see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RecordingState {
    /// The recording in progress, if audio has been recorded in this room.
    pub recording_id: Option<String>,
    /// True while any pause reason holds (nothing is recorded).
    pub paused: bool,
    /// `payment:<id>`, `manual`, `consent`.
    pub reasons: Vec<String>,
}

/// A participant as other participants see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ParticipantInfo {
    pub participant_id: String,
    pub identity: String,
    pub role: String,
    pub muted: bool,
}

/// A frame from the server.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ServerMessage {
    /// Answer to `join`.
    Joined {
        v: u32,
        room: String,
        participant: ParticipantInfo,
        participants: Vec<ParticipantInfo>,
        /// TURN servers with this participant's short-lived credentials (`RTCIceServer`
        /// shape; empty when the gateway has no `[turn]`).
        #[serde(rename = "iceServers", default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<crate::ice::IceServer>,
    },
    /// Answer to `offer`.
    Answer {
        sdp: String,
    },
    /// A server ICE candidate.
    Candidate {
        candidate: String,
        #[serde(rename = "sdpMid")]
        sdp_mid: Option<String>,
        #[serde(rename = "sdpMLineIndex")]
        sdp_mline_index: Option<u16>,
    },
    ParticipantJoined {
        participant: ParticipantInfo,
    },
    ParticipantLeft {
        participant_id: String,
    },
    Mute {
        participant_id: String,
        muted: bool,
    },
    Pong {
        nonce: Option<u64>,
    },
    /// The room was ended by the tenant backend or emptied.
    RoomClosed {
        reason: String,
    },
    Error {
        code: String,
        message: String,
    },
    /// A payment of this room changed (agents and supervisors only): the masked document,
    /// as `GET /v1/payments/{id}` shows it.
    Payment {
        payment: Box<hushpay_vault::payment::Payment>,
    },
    /// (Patients only) the agent asked this patient to pay: the payment as the patient may
    /// see it and, for the card-form method, the client secret its card form needs.
    PaymentRequested {
        payment: crate::payment::PatientPayment,
        #[serde(skip_serializing_if = "Option::is_none")]
        client_secret: Option<String>,
    },
    /// (Patients only) a payment of the room ended: state, result, brand and last 4.
    PaymentEnded {
        payment: crate::payment::PaymentEnd,
    },
    /// (Agents and supervisors) the room's recording paused or resumed, and the answer to
    /// `recording` and `join` when the gateway records.
    Recording {
        recording: RecordingState,
    },
    /// The session's token expires soon (60 s before, or half its lifetime when shorter):
    /// send `refresh` with a fresh token to stay.
    TokenExpiring {
        exp: u64,
        expires_in: u64,
    },
    /// The session's token expired: the server closes the socket (4401) right after.
    TokenExpired {
        exp: u64,
    },
    /// Answer to `join` on a node that does not hold the room (a cluster): join again at
    /// `url` (the node's public base URL; signalling at `<url>/v1/rtc`) with the same token.
    /// The server closes the socket right after (code 4302).
    Redirect {
        url: String,
        /// The node that holds the room.
        node: String,
    },
    /// Answer to an accepted `refresh`: the session now ends at `exp`.
    TokenRefreshed {
        exp: u64,
        /// Fresh TURN credentials, as in `joined`.
        #[serde(rename = "iceServers", default, skip_serializing_if = "Vec::is_empty")]
        ice_servers: Vec<crate::ice::IceServer>,
    },
}

/// Names reserved for the payment issue (see docs/protocol.md); this server refuses them as
/// `not_implemented` until the payment session lands, so clients can be written against them.
pub const RESERVED_PAYMENT_TYPES: &[&str] = &[
    "payment_request",
    "payment_requested",
    "payment_progress",
    "payment_field",
    "payment_cancel",
    "payment_complete",
    "payment_result",
];

/// Stable error codes.
pub mod codes {
    pub const MISSING_TOKEN: &str = "missing_token";
    pub const BAD_MESSAGE: &str = "bad_message";
    pub const UNKNOWN_TYPE: &str = "unknown_type";
    pub const MESSAGE_TOO_LARGE: &str = "message_too_large";
    pub const RATE_LIMITED: &str = "rate_limited";
    pub const NOT_JOINED: &str = "not_joined";
    pub const ALREADY_JOINED: &str = "already_joined";
    pub const INVALID_SDP: &str = "invalid_sdp";
    pub const INVALID_CANDIDATE: &str = "invalid_candidate";
    pub const ROOM_FULL: &str = "room_full";
    pub const TOO_MANY_ROOMS: &str = "too_many_rooms";
    pub const ROLE_TAKEN: &str = "role_taken";
    pub const ROOM_CLOSED: &str = "room_closed";
    pub const ROOM_ENDED: &str = "room_ended";
    pub const UNSUPPORTED_VERSION: &str = "unsupported_version";
    pub const NOT_IMPLEMENTED: &str = "not_implemented";
    pub const INTERNAL: &str = "internal";
    pub const AUDIT_UNAVAILABLE: &str = "audit_unavailable";
    pub const STORAGE_UNAVAILABLE: &str = "storage_unavailable";
    /// (Cluster) the room's placement cannot be read: the node lost the cluster's bus.
    pub const CLUSTER_UNAVAILABLE: &str = "cluster_unavailable";
    /// The gateway shuts down (drains) and opens no new room; another gateway may.
    pub const NODE_DRAINING: &str = "node_draining";
    pub const FORBIDDEN: &str = "forbidden";
    pub const RECORDING_OFF: &str = "recording_off";
    /// A `refresh` token for another identity or role, or with other grants.
    pub const REFRESH_MISMATCH: &str = "refresh_mismatch";
    /// The API key that minted the session's token was revoked (the session closes, 4401).
    pub const TOKEN_REVOKED: &str = "token_revoked";
}

impl ServerMessage {
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        ServerMessage::Error {
            code: code.to_owned(),
            message: message.into(),
        }
    }
}

/// Parses a client frame; the error is a (code, message) pair that never echoes input.
pub fn parse(text: &str) -> Result<ClientMessage, (&'static str, String)> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|_| (codes::BAD_MESSAGE, "frame is not a JSON object".to_owned()))?;
    let ty = value
        .get("type")
        .and_then(|t| t.as_str())
        .ok_or((codes::BAD_MESSAGE, "frame has no string `type`".to_owned()))?;
    const KNOWN: &[&str] = &[
        "auth",
        "join",
        "offer",
        "candidate",
        "mute",
        "ping",
        "leave",
        "recording",
        "refresh",
    ];
    if RESERVED_PAYMENT_TYPES.contains(&ty) {
        return Err((
            codes::NOT_IMPLEMENTED,
            "payment messages are reserved for a later version".to_owned(),
        ));
    }
    if !KNOWN.contains(&ty) {
        return Err((codes::UNKNOWN_TYPE, "unknown message type".to_owned()));
    }
    serde_json::from_value(value).map_err(|e| {
        (
            codes::BAD_MESSAGE,
            format!(
                "frame does not match the schema: {}",
                crate::redact::redact_quoted(&e.to_string())
            ),
        )
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_recording_commands_and_refuses_bad_ones() {
        assert!(matches!(
            parse(r#"{"type":"recording","action":"pause"}"#),
            Ok(ClientMessage::Recording {
                action: RecordingAction::Pause
            })
        ));
        assert!(matches!(
            parse(r#"{"type":"recording","action":"resume"}"#),
            Ok(ClientMessage::Recording {
                action: RecordingAction::Resume
            })
        ));
        for bad in [
            r#"{"type":"recording"}"#,
            r#"{"type":"recording","action":"delete"}"#,
            r#"{"type":"recording","action":"pause","x":1}"#,
            r#"{"type":"recording","action":7}"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().0, codes::BAD_MESSAGE, "{bad}");
        }
    }

    #[test]
    fn parses_known_messages() {
        assert!(matches!(
            parse(r#"{"type":"offer","sdp":"v=0"}"#),
            Ok(ClientMessage::Offer { .. })
        ));
        assert!(matches!(
            parse(
                r#"{"type":"candidate","candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host","sdpMid":"0","sdpMLineIndex":0}"#
            ),
            Ok(ClientMessage::Candidate { .. })
        ));
        assert!(matches!(
            parse(r#"{"type":"leave"}"#),
            Ok(ClientMessage::Leave)
        ));
    }

    #[test]
    fn refuses_bad_frames_with_stable_codes() {
        assert_eq!(parse("nope").unwrap_err().0, codes::BAD_MESSAGE);
        assert_eq!(parse(r#"{"x":1}"#).unwrap_err().0, codes::BAD_MESSAGE);
        assert_eq!(
            parse(r#"{"type":"dance"}"#).unwrap_err().0,
            codes::UNKNOWN_TYPE
        );
        assert_eq!(
            parse(r#"{"type":"payment_request"}"#).unwrap_err().0,
            codes::NOT_IMPLEMENTED
        );
        let (code, msg) = parse(r#"{"type":"mute","muted":"4111111111111111"}"#).unwrap_err();
        assert_eq!(code, codes::BAD_MESSAGE);
        assert!(!msg.contains("4111"), "{msg}");
    }

    /// Issue 12 (fuzzing, target `signal`): a frame whose values have the wrong type is refused
    /// without its values in the message, numbers and escaped strings included (a card number
    /// typed into a numeric or boolean field came back whole in the `error` frame).
    #[test]
    fn schema_errors_never_echo_submitted_numbers_or_strings() {
        for frame in [
            r#"{"type":"mute","muted":4111111111111111}"#,
            r#"{"type":"mute","muted":4111111111111111.5}"#,
            r#"{"type":"mute","muted":"x\"4111111111111111"}"#,
            r#"{"type":"ping","nonce":"4111111111111111"}"#,
            r#"{"type":"candidate","candidate":"c","sdpMLineIndex":4111111}"#,
            r#"{"type":"recording","action":"4111111111111111"}"#,
        ] {
            let (code, msg) = parse(frame).unwrap_err();
            assert_eq!(code, codes::BAD_MESSAGE, "{frame}");
            assert!(!msg.contains("4111"), "{frame}: {msg}");
        }
    }

    #[test]
    fn parses_refresh_and_refuses_bad_ones() {
        assert!(matches!(
            parse(r#"{"type":"refresh","token":"a.b.c"}"#),
            Ok(ClientMessage::Refresh { token }) if token == "a.b.c"
        ));
        for bad in [
            r#"{"type":"refresh"}"#,
            r#"{"type":"refresh","token":7}"#,
            r#"{"type":"refresh","token":"a","x":1}"#,
        ] {
            assert_eq!(parse(bad).unwrap_err().0, codes::BAD_MESSAGE, "{bad}");
        }
        let s = serde_json::to_string(&ServerMessage::TokenExpired { exp: 9 }).unwrap();
        assert_eq!(s, r#"{"type":"token_expired","exp":9}"#);
    }

    #[test]
    fn server_messages_are_tagged() {
        let s = serde_json::to_string(&ServerMessage::Pong { nonce: Some(3) }).unwrap();
        assert_eq!(s, r#"{"type":"pong","nonce":3}"#);
    }
}
