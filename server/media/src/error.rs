//! Typed errors of the media core.

/// Everything that can go wrong in this crate. Peer input never panics; it returns one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MediaError {
    /// The RTP packet is shorter than its header claims.
    #[error("RTP packet truncated: need {needed} bytes, have {have}")]
    RtpTruncated { needed: usize, have: usize },
    /// RTP version other than 2.
    #[error("RTP version {0} is not 2")]
    RtpVersion(u8),
    /// Padding length is zero or longer than the payload.
    #[error("RTP padding length {0} is invalid")]
    RtpPadding(u8),
    /// A telephone-event payload is not 4 bytes long (or a multiple for redundancy).
    #[error("telephone-event payload has {0} bytes, expected 4")]
    EventLength(usize),
    /// Payload type not negotiated for this stream.
    #[error("payload type {0} is not negotiated for this stream")]
    UnknownPayloadType(u8),
    /// The stream's SSRC changed; the packet is refused.
    #[error("unexpected SSRC {0:#010x}")]
    UnexpectedSsrc(u32),
    /// libopus refused a call.
    #[error("opus: {0}")]
    Opus(String),
    /// Sample rate not supported by a helper.
    #[error("unsupported sample rate {0} Hz")]
    SampleRate(u32),
    /// A WAV file this crate cannot read.
    #[error("WAV: {0}")]
    Wav(&'static str),
    /// A G.711 packet whose duration is not one Opus frame (2.5 to 60 ms), in samples.
    #[error("a G.711 packet of {0} samples is not one Opus frame")]
    FrameLength(usize),
    /// Invalid configuration.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
}
