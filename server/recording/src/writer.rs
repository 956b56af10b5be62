//! The track writer: packets in, sealed chunks out. Time is an input (`at_ms` on the
//! recording clock); the caller appends every returned byte string to the track file, in
//! order, and should call [`TrackWriter::tick`] at [`TrackWriter::poll_timeout`] so a quiet or
//! paused track still seals its open chunk.

use zeroize::Zeroizing;

use crate::header::{self, TrackHeader};
use crate::packet::RecordedPacket;
use crate::{RecordingError, RecordingKey, chunk};

/// A chunk is sealed early once its plaintext reaches this size.
pub const MAX_CHUNK_PLAINTEXT: usize = 512 * 1024;

/// Writes one track.
pub struct TrackWriter {
    key: Zeroizing<[u8; 32]>,
    header_hash: [u8; 32],
    next_index: u64,
    buf: Vec<u8>,
    /// Recording-clock time of the first packet in the open chunk.
    open_since: Option<u32>,
    chunk_ms: u32,
    finished: bool,
}

impl std::fmt::Debug for TrackWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrackWriter")
            .field("next_index", &self.next_index)
            .field("open_bytes", &self.buf.len())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

impl TrackWriter {
    /// A writer for `header`, and the header bytes that start the file.
    pub fn new(
        key: &RecordingKey,
        header: &TrackHeader,
    ) -> Result<(TrackWriter, Vec<u8>), RecordingError> {
        let encoded = header.encode()?;
        let header_hash = header::hash(&encoded);
        let writer = TrackWriter {
            key: key.track_key(&header_hash),
            header_hash,
            next_index: 0,
            buf: Vec::new(),
            open_since: None,
            chunk_ms: header.chunk_ms.max(1),
            finished: false,
        };
        Ok((writer, encoded))
    }

    /// Adds a packet. When the open chunk is `chunk_ms` old at `packet.at_ms` (or full), it is
    /// sealed first and its bytes returned.
    pub fn push(&mut self, packet: &RecordedPacket) -> Result<Option<Vec<u8>>, RecordingError> {
        if self.finished {
            return Err(RecordingError::Finished);
        }
        let due = self
            .open_since
            .is_some_and(|t| packet.at_ms.saturating_sub(t) >= self.chunk_ms)
            || self.buf.len() >= MAX_CHUNK_PLAINTEXT;
        let sealed = if due { self.seal_open()? } else { None };
        packet.encode_into(&mut self.buf)?;
        self.open_since.get_or_insert(packet.at_ms);
        Ok(sealed)
    }

    /// When the open chunk is due (recording-clock ms), if one is open.
    pub fn poll_timeout(&self) -> Option<u32> {
        self.open_since
            .map(|t| t.saturating_add(self.chunk_ms))
            .filter(|_| !self.finished)
    }

    /// Seals the open chunk if it is due at `now_ms`.
    pub fn tick(&mut self, now_ms: u32) -> Result<Option<Vec<u8>>, RecordingError> {
        match self.poll_timeout() {
            Some(due) if now_ms >= due => self.seal_open(),
            _ => Ok(None),
        }
    }

    /// Seals the open chunk now (a pause: what was recorded before it becomes durable).
    pub fn seal_open(&mut self) -> Result<Option<Vec<u8>>, RecordingError> {
        if self.finished {
            return Err(RecordingError::Finished);
        }
        if self.open_since.is_none() {
            return Ok(None);
        }
        self.seal(false).map(Some)
    }

    /// Seals the final chunk (holding whatever is open, possibly nothing). The writer refuses
    /// everything afterwards.
    pub fn finish(&mut self) -> Result<Vec<u8>, RecordingError> {
        if self.finished {
            return Err(RecordingError::Finished);
        }
        let out = self.seal(true)?;
        self.finished = true;
        Ok(out)
    }

    /// Chunks sealed so far.
    pub fn chunks(&self) -> u64 {
        self.next_index
    }

    fn seal(&mut self, last: bool) -> Result<Vec<u8>, RecordingError> {
        let index = self.next_index;
        self.next_index = index.checked_add(1).ok_or(RecordingError::Finished)?;
        let out = chunk::seal(&self.key, &self.header_hash, index, last, &self.buf)?;
        self.buf.clear();
        self.open_since = None;
        Ok(out)
    }
}
