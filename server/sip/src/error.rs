//! Typed errors of the SIP ingress. None carries peer bytes beyond a short static description.

/// Why a message or a piece of configuration was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SipError {
    #[error("message of {0} bytes is larger than the limit")]
    TooLarge(usize),
    #[error("message has more than {0} header lines")]
    TooManyHeaders(usize),
    #[error("message is not UTF-8 in its head")]
    NotUtf8,
    #[error("message head is incomplete (no empty line)")]
    Incomplete,
    #[error("malformed start line")]
    BadStartLine,
    #[error("malformed header line")]
    BadHeaderLine,
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("malformed header {0}")]
    BadHeader(&'static str),
    #[error("body shorter than Content-Length")]
    TruncatedBody,
    #[error("not a request")]
    NotARequest,
    #[error("SDP: {0}")]
    Sdp(#[from] crate::sdp::SdpError),
    #[error("unknown call")]
    UnknownCall,
    #[error("call is not waiting for an answer")]
    NotOffered,
    #[error("the call is not up (no ACK yet, or ending)")]
    NotUp,
    #[error("a transfer of this call is already under way")]
    TransferUnderWay,
    #[error("not a SIP URI that can be a transfer target")]
    BadTarget,
    #[error("configuration: {0}")]
    Config(String),
}
