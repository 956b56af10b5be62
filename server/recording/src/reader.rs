//! Reads a track file: header, then chunks in order until the final one. A file that ends
//! early (a crash, a cut) decrypts up to its last complete chunk and reports
//! [`Truncation`]; a chunk that fails authentication is an error naming it.

use crate::header::TrackHeader;
use crate::packet::RecordedPacket;
use crate::{RecordingError, RecordingKey, chunk};

/// The file ends before its final chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Truncation {
    /// Complete chunks before the cut.
    pub complete_chunks: u64,
    /// Bytes after the last complete chunk (a partly written chunk).
    pub partial_bytes: usize,
}

impl std::fmt::Display for Truncation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "truncated after chunk {} ({} bytes of a partial chunk dropped)",
            self.complete_chunks, self.partial_bytes
        )
    }
}

/// A decrypted track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedTrack {
    pub header: TrackHeader,
    pub packets: Vec<RecordedPacket>,
    /// Chunks that decrypted (the final one included when present).
    pub chunks: u64,
    /// `None` when the final chunk was read: the file is complete.
    pub truncated: Option<Truncation>,
}

/// Decrypts a whole track file with the recording's key.
pub fn read_track(file: &[u8], key: &RecordingKey) -> Result<DecodedTrack, RecordingError> {
    let (header, header_hash, mut pos) = TrackHeader::decode(file)?;
    let track_key = key.track_key(&header_hash);
    let mut packets = Vec::new();
    let mut index: u64 = 0;
    loop {
        let rest = &file[pos..];
        let cut = |partial_bytes| Truncation {
            complete_chunks: index,
            partial_bytes,
        };
        if rest.len() < chunk::LEN_BYTES {
            return Ok(done(header, packets, index, Some(cut(rest.len()))));
        }
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if !(chunk::TAG_BYTES..=chunk::MAX_CHUNK_BYTES).contains(&len) {
            return Err(RecordingError::ChunkAuth { index });
        }
        let Some(ct) = rest.get(chunk::LEN_BYTES..chunk::LEN_BYTES + len) else {
            return Ok(done(header, packets, index, Some(cut(rest.len()))));
        };
        let (plain, last) = chunk::open(&track_key, &header_hash, index, ct)?;
        let decoded = RecordedPacket::decode_all(&plain)
            .map_err(|reason| RecordingError::ChunkMalformed { index, reason })?;
        packets.extend(decoded);
        pos += chunk::LEN_BYTES + len;
        index += 1;
        if last {
            let trailing = file.len() - pos;
            if trailing > 0 {
                return Err(RecordingError::TrailingBytes(trailing));
            }
            return Ok(done(header, packets, index, None));
        }
    }
}

fn done(
    header: TrackHeader,
    packets: Vec<RecordedPacket>,
    chunks: u64,
    truncated: Option<Truncation>,
) -> DecodedTrack {
    DecodedTrack {
        header,
        packets,
        chunks,
        truncated,
    }
}
