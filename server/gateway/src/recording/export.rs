//! Reading recordings back, on any node: find the recording in the store's index, load and
//! verify the signed metadata from the object store, unwrap the recording key through the
//! vault, put each track file together from its header and chunk objects and decrypt it (a
//! cut track decrypts up to its last complete chunk and says so; a changed, reordered or
//! missing chunk is an error), decode Opus onto the recording clock and mix: stereo (patient
//! left, agent right) or one channel per track, as WAV or Ogg Opus. Paused time is silence,
//! so the timeline stays true.

use hushpay_media::opus_codec::Decoder;
use hushpay_recording::{DecodedTrack, Metadata, RecordingError, SignedMetadata, TrackInfo};
use hushpay_store::{StoreError, TenantId};
use hushpay_vault::VaultError;
use object_store::path::Path as ObjectPath;

use super::objects::{Backend, StorageError};
use super::{Recorder, files, keys};

/// Sample rate of exports (wideband: what browsers send, see docs/recording.md).
pub const EXPORT_RATE: u32 = 16_000;
const SAMPLES_PER_MS: usize = (EXPORT_RATE / 1000) as usize;
/// A packet more than this far from where its RTP timestamp puts it re-anchors the track.
const REANCHOR_MS: i64 = 200;

/// Why a recording could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no such recording")]
    NotFound,
    #[error("recording metadata signature does not verify: the recording was changed")]
    Tampered,
    #[error("recording is damaged: {0}")]
    Corrupt(String),
    #[error("recording key: {0}")]
    Vault(#[from] VaultError),
    #[error("recording storage: {0}")]
    Storage(#[from] StorageError),
    #[error("recording index: {0}")]
    Index(#[from] StoreError),
}

/// A decrypted recording.
#[derive(Debug)]
pub struct Decrypted {
    pub metadata: Metadata,
    pub tracks: Vec<(TrackInfo, DecodedTrack)>,
}

/// Loads metadata and checks its signature: (signed metadata, signature valid). A recording
/// the index does not hold is not found, whatever the object store has.
pub async fn metadata(
    recorder: &Recorder,
    tenant: &str,
    id: &str,
) -> Result<(SignedMetadata, bool), ExportError> {
    let prefix = prefix(tenant, id)?;
    if recorder
        .store()
        .recording(&TenantId::new(tenant), id)
        .await?
        .is_none()
    {
        return Err(ExportError::NotFound);
    }
    indexed_metadata(recorder, tenant, id, &prefix).await
}

/// [`metadata`] of a recording the caller found in the index already (a list).
pub async fn listed_metadata(
    recorder: &Recorder,
    tenant: &str,
    id: &str,
) -> Result<(SignedMetadata, bool), ExportError> {
    indexed_metadata(recorder, tenant, id, &prefix(tenant, id)?).await
}

async fn indexed_metadata(
    recorder: &Recorder,
    tenant: &str,
    id: &str,
    prefix: &ObjectPath,
) -> Result<(SignedMetadata, bool), ExportError> {
    let bytes = recorder
        .objects()
        .get(&files::metadata_key(prefix))
        .await?
        .ok_or_else(|| ExportError::Corrupt("metadata missing".into()))?;
    let signed = SignedMetadata::parse(&bytes).map_err(|e| ExportError::Corrupt(e.to_string()))?;
    let key = keys::metadata_key(recorder.vault(), tenant)?;
    let ok = signed.verify(&key).is_ok()
        && signed.metadata.recording_id == id
        && signed.metadata.tenant == tenant;
    Ok((signed, ok))
}

fn prefix(tenant: &str, id: &str) -> Result<ObjectPath, ExportError> {
    files::recording_prefix(tenant, id).ok_or(ExportError::NotFound)
}

/// The bytes of one track file: its header object followed by its chunk objects in index
/// order (or the former layout's whole file). `None` when the writer never wrote its header.
/// A chunk missing before the last one makes the track damaged, not cut.
pub async fn track_bytes(
    recorder: &Recorder,
    tenant: &str,
    id: &str,
    track: &str,
) -> Result<Option<Vec<u8>>, ExportError> {
    let prefix = prefix(tenant, id)?;
    let unsafe_name = || ExportError::Corrupt("unsafe track name".into());
    let objects = recorder.objects();
    // Only a local directory can hold recordings of the former layout.
    if matches!(objects.backend(), Backend::Local(_)) {
        let legacy = files::legacy_track_key(&prefix, track).ok_or_else(unsafe_name)?;
        if let Some(whole) = objects.get(&legacy).await? {
            return Ok(Some(whole.to_vec()));
        }
    }
    let track_prefix = files::track_prefix(&prefix, track).ok_or_else(unsafe_name)?;
    let Some(header) = objects.get(&files::header_key(&track_prefix)).await? else {
        return Ok(None);
    };
    let mut indices: Vec<u64> = objects
        .list(&track_prefix)
        .await?
        .iter()
        .filter_map(|k| k.filename().and_then(files::chunk_index))
        .collect();
    indices.sort_unstable();
    let mut out = header.to_vec();
    for (expected, index) in indices.into_iter().enumerate() {
        if index != expected as u64 {
            return Err(ExportError::Corrupt(format!(
                "track {track}: chunk {expected} is missing (chunk {index} exists)"
            )));
        }
        // A chunk deleted between the listing and here is a cut like any other.
        let Some(chunk) = objects.get(&files::chunk_key(&track_prefix, index)).await? else {
            break;
        };
        out.extend_from_slice(&chunk);
    }
    Ok(Some(out))
}

/// Decrypts every track of a recording whose metadata verifies.
pub async fn decrypt(
    recorder: &Recorder,
    tenant: &str,
    id: &str,
) -> Result<Decrypted, ExportError> {
    let (signed, ok) = metadata(recorder, tenant, id).await?;
    if !ok {
        return Err(ExportError::Tampered);
    }
    let mut tracks = Vec::new();
    for info in &signed.metadata.tracks {
        // `None`: the writer never got to write it (the recording ended at once).
        let Some(bytes) = track_bytes(recorder, tenant, id, &info.track).await? else {
            continue;
        };
        let track = decrypt_track(recorder, tenant, id, &bytes).await?;
        if track.header.track != info.track {
            return Err(ExportError::Corrupt(format!(
                "track file {} holds another track",
                info.track
            )));
        }
        tracks.push((info.clone(), track));
    }
    Ok(Decrypted {
        metadata: signed.metadata,
        tracks,
    })
}

/// Decrypts one track file of recording `id`.
pub async fn decrypt_track(
    recorder: &Recorder,
    tenant: &str,
    id: &str,
    bytes: &[u8],
) -> Result<DecodedTrack, ExportError> {
    let (header, _, _) = hushpay_recording::TrackHeader::decode(bytes)
        .map_err(|e| ExportError::Corrupt(e.to_string()))?;
    if header.recording_id != id || header.tenant != tenant {
        return Err(ExportError::Corrupt(
            "a track file belongs to another recording".into(),
        ));
    }
    let key = keys::unwrap(
        recorder.vault(),
        tenant,
        id,
        header.key_version,
        &header.wrapped_key,
    )
    .await?;
    hushpay_recording::read_track(bytes, &key)
        .map_err(|e: RecordingError| ExportError::Corrupt(format!("track {}: {e}", header.track)))
}

/// Length of the recording clock covered (ms).
pub fn duration_ms(d: &Decrypted) -> u32 {
    let last = d
        .tracks
        .iter()
        .flat_map(|(_, t)| t.packets.last())
        .map(|p| p.at_ms.saturating_add(20))
        .max()
        .unwrap_or(0);
    d.metadata.ended_ms.unwrap_or(0).max(last)
}

/// One track's audio on the recording clock at [`EXPORT_RATE`], paused time silent.
pub fn render_track(track: &DecodedTrack, metadata: &Metadata, duration_ms: u32) -> Vec<i16> {
    let len = duration_ms as usize * SAMPLES_PER_MS;
    let mut out = vec![0i16; len];
    let Ok(mut decoder) = Decoder::new(EXPORT_RATE) else {
        return out;
    };
    let mut anchor: Option<(i64, u32)> = None;
    let mut pcm = Vec::with_capacity(1920);
    for p in &track.packets {
        let arrival = i64::from(p.at_ms) * SAMPLES_PER_MS as i64;
        let pos = match anchor {
            Some((at, ts)) => {
                let by_rtp = at + i64::from(p.rtp_timestamp.wrapping_sub(ts) as i32) / 3;
                if (by_rtp - arrival).abs() > REANCHOR_MS * SAMPLES_PER_MS as i64 {
                    anchor = Some((arrival, p.rtp_timestamp));
                    arrival
                } else {
                    by_rtp
                }
            }
            None => {
                anchor = Some((arrival, p.rtp_timestamp));
                arrival
            }
        };
        pcm.clear();
        if decoder.decode_into(&p.payload, &mut pcm).is_err() {
            continue;
        }
        let Ok(start) = usize::try_from(pos) else {
            continue;
        };
        for (i, s) in pcm.iter().enumerate() {
            match out.get_mut(start + i) {
                Some(o) => *o = *s,
                None => break,
            }
        }
    }
    silence_pauses(&mut out, metadata, duration_ms);
    out
}

/// Zeroes every pause window (an open one runs to the end).
pub fn silence_pauses(pcm: &mut [i16], metadata: &Metadata, duration_ms: u32) {
    for w in &metadata.pauses {
        let from = (w.from_ms as usize * SAMPLES_PER_MS).min(pcm.len());
        let to = (w.to_ms.unwrap_or(duration_ms).max(w.from_ms) as usize * SAMPLES_PER_MS)
            .min(pcm.len());
        pcm[from..to].fill(0);
    }
}

/// The channels of an export: stereo (patient left, agent right) or one per track; with
/// their names.
pub fn channels(d: &Decrypted, separate: bool) -> Vec<(String, Vec<i16>)> {
    let dur = duration_ms(d);
    let rendered: Vec<(&TrackInfo, Vec<i16>)> = d
        .tracks
        .iter()
        .map(|(info, t)| (info, render_track(t, &d.metadata, dur)))
        .collect();
    if separate {
        return rendered
            .into_iter()
            .map(|(i, pcm)| (i.track.clone(), pcm))
            .collect();
    }
    let len = dur as usize * SAMPLES_PER_MS;
    let mut left = vec![0i32; len];
    let mut right = vec![0i32; len];
    for (info, pcm) in &rendered {
        let side = if info.role == "patient" {
            &mut left
        } else {
            &mut right
        };
        for (o, s) in side.iter_mut().zip(pcm) {
            *o += i32::from(*s);
        }
    }
    let clamp = |v: Vec<i32>| -> Vec<i16> {
        v.into_iter()
            .map(|s| s.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16)
            .collect()
    };
    vec![
        ("patient".to_owned(), clamp(left)),
        ("agent".to_owned(), clamp(right)),
    ]
}

/// A 16-bit PCM WAV of interleaved `channels`.
pub fn wav(channels: &[(String, Vec<i16>)]) -> Vec<u8> {
    let n = channels.len().max(1) as u16;
    let frames = channels.first().map_or(0, |c| c.1.len());
    let data_len = (frames * usize::from(n) * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&EXPORT_RATE.to_le_bytes());
    out.extend_from_slice(&(EXPORT_RATE * u32::from(n) * 2).to_le_bytes());
    out.extend_from_slice(&(n * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for i in 0..frames {
        for (_, c) in channels {
            out.extend_from_slice(&c[i].to_le_bytes());
        }
    }
    out
}

/// Stereo Ogg Opus of two channels (20 ms frames, 64 kbit/s).
pub fn ogg_stereo(left: &[i16], right: &[i16]) -> Result<Vec<u8>, opus::Error> {
    use super::ogg::{OggWriter, opus_head, opus_tags};
    let mut enc = opus::Encoder::new(EXPORT_RATE, opus::Channels::Stereo, opus::Application::Voip)?;
    enc.set_bitrate(opus::Bitrate::Bits(64_000))?;
    let lookahead = enc.get_lookahead()?;
    let pre_skip = u16::try_from(lookahead.max(0) * 3).unwrap_or(0);
    let mut w = OggWriter::new(rand::random());
    w.page(&[&opus_head(2, pre_skip, EXPORT_RATE)], 0, true, false);
    w.page(&[&opus_tags("hushpay")], 0, false, false);
    let frame = SAMPLES_PER_MS * 20;
    let frames = left.len().div_ceil(frame).max(1);
    let mut granule = u64::from(pre_skip);
    let mut page: Vec<Vec<u8>> = Vec::new();
    let mut inter = vec![0i16; frame * 2];
    for f in 0..frames {
        for i in 0..frame {
            let at = f * frame + i;
            inter[2 * i] = left.get(at).copied().unwrap_or(0);
            inter[2 * i + 1] = right.get(at).copied().unwrap_or(0);
        }
        page.push(enc.encode_vec(&inter, 4000)?);
        granule += 960;
        let last = f + 1 == frames;
        if page.len() == 50 || last {
            let refs: Vec<&[u8]> = page.iter().map(Vec::as_slice).collect();
            let end = if last {
                u64::from(pre_skip) + (left.len() as u64) * 3
            } else {
                granule
            };
            w.page(&refs, end, false, last);
            page.clear();
        }
    }
    Ok(w.finish())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use hushpay_recording::{PauseWindow, RecordedPacket, TrackHeader};

    fn meta(pauses: Vec<PauseWindow>) -> Metadata {
        let mut m = super::super::meta::new_metadata("rec_x", "t", "r", 0);
        m.pauses = pauses;
        m
    }

    fn tone_track(ms: std::ops::Range<u32>) -> DecodedTrack {
        let mut enc = hushpay_media::opus_codec::Encoder::new(48_000, 32_000).unwrap();
        let packets = ms
            .step_by(20)
            .map(|t| {
                let frame: Vec<i16> = (0..960)
                    .map(|i| ((f64::from(t * 48 + i) * 0.05).sin() * 8000.0) as i16)
                    .collect();
                RecordedPacket {
                    at_ms: t + 3,
                    rtp_timestamp: 1000 + t * 48,
                    sequence: (t / 20) as u16,
                    payload: enc.encode(&frame).unwrap(),
                }
            })
            .collect();
        DecodedTrack {
            header: TrackHeader {
                recording_id: "rec_x".into(),
                tenant: "t".into(),
                room: "r".into(),
                track: "patient-p".into(),
                role: "patient".into(),
                participant: "p".into(),
                codec: "opus".into(),
                key_version: 1,
                wrapped_key: String::new(),
                started_ms: 0,
                chunk_ms: 1000,
            },
            packets,
            chunks: 1,
            truncated: None,
        }
    }

    fn energy(pcm: &[i16]) -> f64 {
        pcm.iter().map(|&s| f64::from(s).abs()).sum::<f64>() / pcm.len().max(1) as f64
    }

    #[test]
    fn audio_lands_on_the_clock_and_pauses_are_silent() {
        // Packets 0..1000 ms and 2000..3000 ms (nothing recorded in between: a pause).
        let mut t = tone_track(0..1000);
        t.packets.extend(tone_track(2000..3000).packets);
        let m = meta(vec![PauseWindow {
            from_ms: 1000,
            to_ms: Some(2000),
            reason: "payment:pay_1".into(),
            by: "system".into(),
        }]);
        let pcm = render_track(&t, &m, 3000);
        assert_eq!(pcm.len(), 3000 * 16);
        let ms = |a: usize, b: usize| &pcm[a * 16..b * 16];
        assert!(energy(ms(100, 900)) > 1000.0);
        assert!(
            ms(1000, 2000).iter().all(|&s| s == 0),
            "the pause is silent"
        );
        assert!(energy(ms(2100, 2900)) > 1000.0, "re-anchored after the gap");
    }

    /// Reads an Ogg stream back: each page's CRC checked, packets reassembled from lacing;
    /// (packets, last granule position).
    fn read_ogg(bytes: &[u8]) -> (Vec<Vec<u8>>, u64) {
        let mut packets = Vec::new();
        let mut partial = Vec::new();
        let mut at = 0;
        let mut granule = 0;
        let mut expected_seq = 0u32;
        while at < bytes.len() {
            assert_eq!(&bytes[at..at + 4], b"OggS");
            let n = usize::from(bytes[at + 26]);
            let lacing = &bytes[at + 27..at + 27 + n];
            let body: usize = lacing.iter().map(|&l| usize::from(l)).sum();
            let end = at + 27 + n + body;
            let mut page = bytes[at..end].to_vec();
            let crc = u32::from_le_bytes(page[22..26].try_into().unwrap());
            page[22..26].fill(0);
            assert_eq!(super::super::ogg::crc32_for_tests(&page), crc, "page CRC");
            let seq = u32::from_le_bytes(bytes[at + 18..at + 22].try_into().unwrap());
            assert_eq!(seq, expected_seq);
            expected_seq += 1;
            granule = u64::from_le_bytes(bytes[at + 6..at + 14].try_into().unwrap());
            let mut pos = at + 27 + n;
            for &l in lacing {
                partial.extend_from_slice(&bytes[pos..pos + usize::from(l)]);
                pos += usize::from(l);
                if l < 255 {
                    packets.push(std::mem::take(&mut partial));
                }
            }
            at = end;
        }
        (packets, granule)
    }

    #[test]
    fn ogg_export_decodes_back_to_the_audio() {
        let t = tone_track(0..2000);
        let pcm = render_track(&t, &meta(vec![]), 2000);
        let silent = vec![0i16; pcm.len()];
        let ogg = ogg_stereo(&pcm, &silent).unwrap();
        let (packets, granule) = read_ogg(&ogg);
        assert!(packets[0].starts_with(b"OpusHead"));
        assert!(packets[1].starts_with(b"OpusTags"));
        let pre_skip = u64::from(u16::from_le_bytes([packets[0][10], packets[0][11]]));
        assert_eq!(
            granule - pre_skip,
            2000 * 48,
            "the last granule is the duration at 48 kHz"
        );
        let mut dec = opus::Decoder::new(48_000, opus::Channels::Stereo).unwrap();
        let mut out = Vec::new();
        let mut buf = vec![0i16; 5760 * 2];
        for p in &packets[2..] {
            let n = dec.decode(p, &mut buf, false).unwrap();
            out.extend_from_slice(&buf[..n * 2]);
        }
        let left: Vec<i16> = out.iter().step_by(2).copied().collect();
        let right: Vec<i16> = out.iter().skip(1).step_by(2).copied().collect();
        assert!(
            energy(&left[48_000..90_000]) > 1000.0,
            "the tone is on the left"
        );
        assert!(
            energy(&right[48_000..90_000]) < 100.0,
            "silence on the right"
        );
    }

    #[test]
    fn an_open_pause_runs_to_the_end_and_wav_interleaves() {
        let t = tone_track(0..1000);
        let m = meta(vec![PauseWindow {
            from_ms: 500,
            to_ms: None,
            reason: "manual".into(),
            by: "agent:a".into(),
        }]);
        let pcm = render_track(&t, &m, 1000);
        assert!(pcm[500 * 16..].iter().all(|&s| s == 0));
        let w = wav(&[("a".into(), vec![1, 2]), ("b".into(), vec![3, 4])]);
        assert_eq!(&w[44..], &[1, 0, 3, 0, 2, 0, 4, 0]);
        assert_eq!(u16::from_le_bytes([w[22], w[23]]), 2);
        let ogg = ogg_stereo(&pcm, &pcm).unwrap();
        assert_eq!(&ogg[..4], b"OggS");
    }
}
