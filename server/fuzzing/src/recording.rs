//! Target `recording`: the bytes of a recording track file as found on disk (possibly cut by a
//! crash or tampered with), through [`read_track`]; the same bytes as a chunk's plaintext
//! ([`RecordedPacket::decode_all`]); and as the signed metadata document
//! ([`SignedMetadata::parse`], [`SignedMetadata::verify`]).
//!
//! The recording key and the metadata key are fixed, so the committed seeds are real track
//! files made by the crate's own [`TrackWriter`] ([`write_track`]) and real signed metadata
//! ([`metadata_fixture`]).
//!
//! Invariants: no panic; a truncated read never reports more complete chunks than it decrypted;
//! packets that decode encode back to the same bytes; written with a [`TrackWriter`], they read
//! back whole, a copy cut anywhere reads back a prefix of them (or fails inside the header), and a
//! copy with one byte changed reads back a prefix of them or fails, never other packets; only
//! the metadata that was signed verifies.

use hushpay_recording::{
    Metadata, PauseWindow, RecordedPacket, RecordingKey, SignedMetadata, TrackHeader, TrackInfo,
    TrackWriter, read_track,
};

/// The fixed recording data key (test-only).
pub fn key() -> RecordingKey {
    RecordingKey::from_bytes([0x42; 32])
}

/// The fixed metadata signing key (test-only).
pub const METADATA_KEY: [u8; 32] = [0x24; 32];

/// The header of every track the target writes.
pub fn header() -> TrackHeader {
    TrackHeader {
        recording_id: "rec_fuzz".into(),
        tenant: "ten_fuzz".into(),
        room: "room-1".into(),
        track: "patient-p1".into(),
        role: "patient".into(),
        participant: "p1".into(),
        codec: "opus".into(),
        key_version: 1,
        wrapped_key: "00".into(),
        started_ms: 0,
        chunk_ms: 40,
    }
}

/// A whole track file: the header, a chunk sealed whenever the writer says so, the final chunk.
pub fn write_track(packets: &[RecordedPacket]) -> Option<Vec<u8>> {
    let (mut writer, mut file) = TrackWriter::new(&key(), &header()).ok()?;
    for p in packets {
        if let Some(chunk) = writer.push(p).ok()? {
            file.extend_from_slice(&chunk);
        }
    }
    file.extend_from_slice(&writer.finish().ok()?);
    Some(file)
}

/// The one metadata document signed with [`METADATA_KEY`].
pub fn metadata_fixture() -> Metadata {
    Metadata {
        version: 1,
        recording_id: "rec_fuzz".into(),
        tenant: "ten_fuzz".into(),
        room: "room-1".into(),
        started_at_unix_ms: 1_800_000_000_000,
        ended_ms: Some(9000),
        tracks: vec![TrackInfo {
            track: "patient-p1".into(),
            role: "patient".into(),
            participant: "p1".into(),
            chunks: Some(3),
        }],
        pauses: vec![PauseWindow {
            from_ms: 2000,
            to_ms: Some(5000),
            reason: "payment:pay_1".into(),
            by: "system".into(),
        }],
    }
}

pub fn run(data: &[u8]) {
    if let Ok(track) = read_track(data, &key())
        && let Some(cut) = track.truncated
    {
        assert_eq!(cut.complete_chunks, track.chunks);
        assert!(cut.partial_bytes < data.len());
    }
    if let Ok(doc) = SignedMetadata::parse(data)
        && doc.verify(&METADATA_KEY).is_ok()
    {
        assert!(
            doc.metadata == metadata_fixture(),
            "metadata that was never signed verifies"
        );
    }
    if let Ok(packets) = RecordedPacket::decode_all(data) {
        round_trip(data, &packets);
    }
}

fn round_trip(data: &[u8], packets: &[RecordedPacket]) {
    let mut encoded = Vec::new();
    for p in packets {
        if p.encode_into(&mut encoded).is_err() {
            panic!("a decoded packet must encode");
        }
    }
    assert_eq!(encoded, data, "packets encode back to their bytes");
    let Some(file) = write_track(packets) else {
        panic!("decoded packets must write");
    };
    match read_track(&file, &key()) {
        Ok(t) => assert!(t.packets == packets && t.truncated.is_none()),
        Err(e) => panic!("a written track must read back: {e}"),
    }
    let header_len = 12 + header_json_len(&file);
    let at = data.len().wrapping_mul(31) % (file.len() + 1);
    match read_track(&file[..at], &key()) {
        Ok(t) => {
            assert!(at >= header_len, "a cut header must not read");
            assert!(packets.starts_with(&t.packets), "a cut file reads a prefix");
            assert_eq!(t.truncated.is_none(), at == file.len());
        }
        Err(e) => assert!(at < header_len, "a cut after the header must read: {e}"),
    }
    let mut flipped = file.clone();
    if let Some(b) = flipped.get_mut(at) {
        *b ^= 1 << (data.len() % 8);
        if let Ok(t) = read_track(&flipped, &key()) {
            assert!(
                packets.starts_with(&t.packets),
                "a changed file reads back other packets"
            );
        }
    }
}

fn header_json_len(file: &[u8]) -> usize {
    match file.get(8..12) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]) as usize,
        _ => 0,
    }
}
