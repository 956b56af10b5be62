//! Errors of the container. Messages name the place (chunk number, field), never key bytes or
//! audio.

/// What went wrong reading or writing a recording.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordingError {
    /// The file does not start with the recording magic, or its header is malformed.
    #[error("not a hushpay recording track: {0}")]
    BadHeader(&'static str),
    /// A chunk failed authentication: it was changed, reordered, duplicated or belongs to
    /// another file (chunks `0..index` were good).
    #[error("chunk {index} failed authentication (changed, reordered or from another file)")]
    ChunkAuth { index: u64 },
    /// A chunk decrypted but its content is malformed (a writer bug, not tampering).
    #[error("chunk {index} is malformed: {reason}")]
    ChunkMalformed { index: u64, reason: &'static str },
    /// Bytes follow the final chunk.
    #[error("{0} bytes follow the final chunk")]
    TrailingBytes(usize),
    /// A packet does not fit the format (payload over 65 535 bytes).
    #[error("packet too large for the recording format")]
    PacketTooLarge,
    /// The writer was used after it finished, or a chunk counter would wrap.
    #[error("the track writer is finished")]
    Finished,
    /// Encryption failed (never expected with valid keys).
    #[error("encryption failed")]
    Encrypt,
    /// The metadata's signature does not match (changed after signing, or another key).
    #[error("recording metadata signature does not verify")]
    BadSignature,
    /// The metadata is not valid JSON of the expected shape.
    #[error("recording metadata is malformed: {0}")]
    BadMetadata(String),
}
