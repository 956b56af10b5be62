//! Signed metadata: verifies with its key, and any change to a pause window, a track or the
//! signature shows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use hushpay_recording::{Metadata, PauseWindow, RecordingError, SignedMetadata, TrackInfo};
use proptest::prelude::*;

fn metadata() -> Metadata {
    Metadata {
        version: 1,
        recording_id: "rec_1".into(),
        tenant: "ten_a".into(),
        room: "call-1".into(),
        started_at_unix_ms: 1_700_000_000_000,
        ended_ms: Some(60_000),
        tracks: vec![TrackInfo {
            track: "patient-p1".into(),
            role: "patient".into(),
            participant: "p1".into(),
            chunks: Some(30),
        }],
        pauses: vec![
            PauseWindow {
                from_ms: 10_000,
                to_ms: Some(25_000),
                reason: "payment:pay_1".into(),
                by: "system".into(),
            },
            PauseWindow {
                from_ms: 40_000,
                to_ms: None,
                reason: "manual".into(),
                by: "agent:a1".into(),
            },
        ],
    }
}

const KEY: [u8; 32] = [9; 32];

#[test]
fn signs_verifies_and_round_trips_through_json() {
    let signed = SignedMetadata::sign(&KEY, metadata()).unwrap();
    signed.verify(&KEY).unwrap();
    let parsed = SignedMetadata::parse(&signed.to_json().unwrap()).unwrap();
    assert_eq!(parsed, signed);
    parsed.verify(&KEY).unwrap();
    assert_eq!(signed.verify(&[8; 32]), Err(RecordingError::BadSignature));
}

#[test]
fn paused_at_covers_closed_and_open_windows() {
    let m = metadata();
    assert!(!m.paused_at(9_999, 60_000));
    assert!(m.paused_at(10_000, 60_000));
    assert!(!m.paused_at(25_000, 60_000));
    assert!(m.paused_at(59_999, 60_000));
}

#[test]
fn a_removed_pause_window_or_an_added_field_shows() {
    let signed = SignedMetadata::sign(&KEY, metadata()).unwrap();
    let mut cut = signed.clone();
    cut.metadata.pauses.remove(0);
    assert_eq!(cut.verify(&KEY), Err(RecordingError::BadSignature));
    let mut json: serde_json::Value = serde_json::from_slice(&signed.to_json().unwrap()).unwrap();
    json["metadata"]["note"] = "x".into();
    assert!(matches!(
        SignedMetadata::parse(json.to_string().as_bytes()),
        Err(RecordingError::BadMetadata(_))
    ));
    for bad in ["", "hmac-sha256:", "hmac-sha256:zz", "sha1:00"] {
        let mut s = signed.clone();
        s.signature = bad.into();
        assert_eq!(s.verify(&KEY), Err(RecordingError::BadSignature));
    }
}

proptest! {
    /// Moving any pause window edge by any amount breaks the signature.
    #[test]
    fn any_moved_window_edge_shows(which in 0usize..2, delta in 1u32..100_000, to in any::<bool>()) {
        let signed = SignedMetadata::sign(&KEY, metadata()).unwrap();
        let mut t = signed.clone();
        let w = &mut t.metadata.pauses[which];
        if to {
            w.to_ms = Some(w.to_ms.unwrap_or(0).wrapping_add(delta));
        } else {
            w.from_ms = w.from_ms.wrapping_add(delta);
        }
        prop_assert_eq!(t.verify(&KEY), Err(RecordingError::BadSignature));
    }

    /// Hostile metadata text never panics the parser.
    #[test]
    fn hostile_json_is_refused_without_panicking(s in ".{0,200}") {
        let _ = SignedMetadata::parse(s.as_bytes());
    }
}
