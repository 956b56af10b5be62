//! What the engine refuses.

/// An engine error. Datagrams that belong to no peer or are not WebRTC are refused with a
/// reason and change nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// An offer or answer the peer could not apply.
    #[error("session description refused: {0}")]
    Sdp(String),
    /// A candidate address str0m refuses (unspecified, multicast, ...).
    #[error("bad candidate address: {0}")]
    Candidate(String),
    /// No peer has this id (never existed, or closed).
    #[error("no such peer")]
    UnknownPeer,
    /// A datagram from an address no peer knows, without a `USERNAME` naming one, or with one
    /// whose check fails that peer's ICE integrity check (a forged check).
    #[error("datagram for no peer")]
    Unroutable,
    /// A datagram that is not STUN, DTLS, RTP or RTCP.
    #[error("not a WebRTC datagram")]
    NotWebRtc,
    /// The peer has no negotiated audio (or not this payload) to send with.
    #[error("no negotiated audio to send")]
    NoAudio,
    /// The peer's WebRTC stack panicked (an internal bug); the peer was removed.
    #[error("the peer's WebRTC stack failed internally; the peer was closed")]
    Panicked,
    /// The peer's WebRTC state machine refused the input.
    #[error("peer failed: {0}")]
    Peer(String),
}

impl From<str0m::RtcError> for EngineError {
    fn from(e: str0m::RtcError) -> Self {
        EngineError::Peer(e.to_string())
    }
}
