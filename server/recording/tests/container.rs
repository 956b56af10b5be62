//! The container's promises: round trip, truncation reported "after chunk N" with everything
//! before it intact, and any flipped byte, reordered, duplicated or dropped chunk detected.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hushpay_recording::{
    RecordedPacket, RecordingError, RecordingKey, TrackHeader, TrackWriter, read_track,
};
use proptest::prelude::*;

fn header() -> TrackHeader {
    TrackHeader {
        recording_id: "rec_1".into(),
        tenant: "ten_a".into(),
        room: "call-1".into(),
        track: "patient-p1".into(),
        role: "patient".into(),
        participant: "p1".into(),
        codec: "opus".into(),
        key_version: 1,
        wrapped_key: "00".into(),
        started_ms: 0,
        chunk_ms: 100,
    }
}

fn key() -> RecordingKey {
    RecordingKey::from_bytes([7; 32])
}

fn packet(i: u32, len: usize) -> RecordedPacket {
    RecordedPacket {
        at_ms: i * 20,
        rtp_timestamp: 1000 + i * 960,
        sequence: i as u16,
        payload: (0..len).map(|b| (b as u32 ^ i) as u8).collect(),
    }
}

/// A file of `n` packets (a chunk every 5 packets) and the byte offset after each chunk.
fn file(n: u32, finish: bool) -> (Vec<u8>, Vec<usize>, Vec<RecordedPacket>) {
    let (mut w, mut out) = TrackWriter::new(&key(), &header()).unwrap();
    let mut ends = Vec::new();
    let packets: Vec<_> = (0..n).map(|i| packet(i, 20 + (i as usize % 40))).collect();
    for p in &packets {
        if let Some(c) = w.push(p).unwrap() {
            out.extend(c);
            ends.push(out.len());
        }
    }
    if finish {
        out.extend(w.finish().unwrap());
        ends.push(out.len());
    }
    (out, ends, packets)
}

/// Chunk boundaries: (start, end) of each length-prefixed chunk.
fn chunks(bytes: &[u8], ends: &[usize]) -> Vec<(usize, usize)> {
    let (_, _, start) = TrackHeader::decode(bytes).unwrap();
    let mut out = Vec::new();
    let mut s = start;
    for &e in ends {
        out.push((s, e));
        s = e;
    }
    out
}

#[test]
fn round_trip_with_a_chunk_every_chunk_ms() {
    let (bytes, ends, packets) = file(23, true);
    let t = read_track(&bytes, &key()).unwrap();
    assert_eq!(t.packets, packets);
    assert_eq!(t.truncated, None);
    assert_eq!(t.header, header());
    // 100 ms chunks of 20 ms packets: 5 packets each, 4 full + the final with 3.
    assert_eq!(t.chunks, 5);
    assert_eq!(ends.len(), 5);
}

#[test]
fn an_unfinished_file_reports_truncation_after_the_last_complete_chunk() {
    let (bytes, ends, packets) = file(23, false);
    assert_eq!(ends.len(), 4);
    let t = read_track(&bytes, &key()).unwrap();
    let cut = t.truncated.unwrap();
    assert_eq!(cut.complete_chunks, 4);
    assert_eq!(
        cut.to_string(),
        "truncated after chunk 4 (0 bytes of a partial chunk dropped)"
    );
    assert_eq!(t.packets, packets[..20]);
}

#[test]
fn the_wrong_key_or_a_swapped_header_fails() {
    let (bytes, _, _) = file(10, true);
    let other = RecordingKey::from_bytes([8; 32]);
    assert_eq!(
        read_track(&bytes, &other),
        Err(RecordingError::ChunkAuth { index: 0 })
    );
    // Same key, another track's header: the track key and the AAD differ.
    let (_, _, start) = TrackHeader::decode(&bytes).unwrap();
    let mut h = header();
    h.track = "agent-a1".into();
    let mut moved = h.encode().unwrap();
    moved.extend_from_slice(&bytes[start..]);
    assert_eq!(
        read_track(&moved, &key()),
        Err(RecordingError::ChunkAuth { index: 0 })
    );
}

#[test]
fn bytes_after_the_final_chunk_are_refused() {
    let (mut bytes, _, _) = file(10, true);
    bytes.push(0);
    assert_eq!(
        read_track(&bytes, &key()),
        Err(RecordingError::TrailingBytes(1))
    );
}

#[test]
fn hostile_headers_are_refused_without_panicking() {
    for bad in [
        &b""[..],
        b"HPREC\0v1",
        b"HPREC\0v1\xff\xff\xff\xff",
        b"NOTAREC!\0\0\0\x02{}",
        b"HPREC\0v1\0\0\0\x02{}",
    ] {
        assert!(matches!(
            read_track(bad, &key()),
            Err(RecordingError::BadHeader(_))
        ));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// A cut anywhere after the header: the chunks before it decrypt, and the reader says
    /// the file was truncated after exactly that many chunks.
    #[test]
    fn any_cut_is_reported_with_the_complete_prefix(n in 1u32..40, cut in 0.0f64..1.0) {
        let (bytes, ends, packets) = file(n, true);
        let (_, _, start) = TrackHeader::decode(&bytes).unwrap();
        let at = start + ((bytes.len() - start) as f64 * cut) as usize;
        prop_assume!(at < bytes.len());
        let t = read_track(&bytes[..at], &key()).unwrap();
        let complete = ends.iter().filter(|&&e| e <= at).count();
        let trunc = t.truncated.expect("a cut file is never complete");
        prop_assert_eq!(trunc.complete_chunks, complete as u64);
        let before = ends.get(complete.wrapping_sub(1)).copied().unwrap_or(start);
        prop_assert_eq!(trunc.partial_bytes, at - before);
        prop_assert_eq!(&t.packets[..], &packets[..t.packets.len()]);
        prop_assert_eq!(t.packets.len(), complete * 5);
    }

    /// Any single flipped bit, anywhere in the file, is an error or (in a length prefix)
    /// a reported truncation; never a silently different recording.
    #[test]
    fn any_flipped_bit_is_detected(n in 1u32..30, pos in 0.0f64..1.0, bit in 0u8..8) {
        let (mut bytes, _, packets) = file(n, true);
        let i = ((bytes.len() as f64) * pos) as usize % bytes.len();
        bytes[i] ^= 1 << bit;
        match read_track(&bytes, &key()) {
            Err(_) => {}
            Ok(t) => {
                prop_assert!(t.truncated.is_some(), "flip at {} accepted as complete", i);
                prop_assert_eq!(&t.packets[..], &packets[..t.packets.len()]);
            }
        }
    }

    /// Swapping two chunks, duplicating one or dropping one fails at the first chunk out
    /// of place (dropping the final one reads as a truncation).
    #[test]
    fn reordered_duplicated_or_dropped_chunks_are_detected(
        n in 11u32..40, a in 0usize..8, b in 0usize..8, op in 0u8..3,
    ) {
        let (bytes, ends, _) = file(n, true);
        let cs = chunks(&bytes, &ends);
        let a = a % cs.len();
        let b = b % cs.len();
        let mut order: Vec<usize> = (0..cs.len()).collect();
        match op {
            0 => { prop_assume!(a != b); order.swap(a, b); }
            1 => order.insert(a, b),
            _ => { order.remove(a); }
        }
        let (_, _, start) = TrackHeader::decode(&bytes).unwrap();
        let mut out = bytes[..start].to_vec();
        for &c in &order {
            out.extend_from_slice(&bytes[cs[c].0..cs[c].1]);
        }
        let first_wrong = order.iter().enumerate().find(|(i, c)| *i != **c).map(|(i, _)| i as u64);
        match read_track(&out, &key()) {
            Err(RecordingError::ChunkAuth { index }) => prop_assert_eq!(Some(index), first_wrong),
            Ok(t) => {
                // Only dropping the final chunk leaves a readable prefix: a truncation.
                prop_assert!(op == 2 && a == cs.len() - 1);
                prop_assert_eq!(t.truncated.map(|t| t.complete_chunks), Some(a as u64));
            }
            Err(e) => prop_assert!(matches!(e, RecordingError::TrailingBytes(_)), "{e}"),
        }
    }
}
