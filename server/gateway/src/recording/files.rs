//! The layout of recordings in the object store ([`super::objects`]): under
//! `<tenant>/<recording id>/`,
//!
//! * `metadata.json`: the signed metadata, replaced whole at every change;
//! * `<track>/header.hprec`: the track file's plaintext header;
//! * `<track>/chunk-<index, 10 digits>.hprec`: one object per sealed chunk
//!   (`length || ciphertext`, exactly the bytes the former layout appended to the track
//!   file), written as the chunk is sealed.
//!
//! The header followed by the chunks in index order is the track file that
//! `hushpay_recording::read_track` reads. Recordings of the former layout, one appended
//! `<track>.hprec` file per track, are still read. On the local backend the object store is
//! `recording.dir`, so the directories are the same as before (0700, files 0600). Ids and
//! names are checked before they make a key.

use std::path::{Path, PathBuf};

use object_store::path::Path as ObjectPath;

/// The metadata object's name.
pub const METADATA_FILE: &str = "metadata.json";
/// The extension of track objects (and of the former layout's track files).
pub const TRACK_EXT: &str = "hprec";
/// The name of a track's header object.
pub const HEADER_OBJECT: &str = "header.hprec";
/// Chunk objects are `chunk-` + the index in ten digits + `.hprec`.
const CHUNK_PREFIX: &str = "chunk-";

/// True for `rec_` + 24 base62 characters.
pub fn valid_recording_id(id: &str) -> bool {
    id.len() == 28 && id.strip_prefix("rec_").is_some_and(crate::ids::is_base62)
}

/// True for a name that is safe as one path component (tenant ids, track names).
pub fn safe_component(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
}

/// The directory of one recording (local backend).
pub fn recording_dir(root: &Path, tenant: &str, id: &str) -> Option<PathBuf> {
    (safe_component(tenant) && valid_recording_id(id)).then(|| root.join(tenant).join(id))
}

/// The key prefix of one recording.
pub fn recording_prefix(tenant: &str, id: &str) -> Option<ObjectPath> {
    (safe_component(tenant) && valid_recording_id(id)).then(|| ObjectPath::from_iter([tenant, id]))
}

/// The metadata object of the recording at `prefix`.
pub fn metadata_key(prefix: &ObjectPath) -> ObjectPath {
    prefix.child(METADATA_FILE)
}

/// The key prefix of one track of the recording at `prefix`.
pub fn track_prefix(prefix: &ObjectPath, track: &str) -> Option<ObjectPath> {
    safe_component(track).then(|| prefix.child(track))
}

/// The header object of the track at `track_prefix`.
pub fn header_key(track_prefix: &ObjectPath) -> ObjectPath {
    track_prefix.child(HEADER_OBJECT)
}

/// The object of chunk `index` of the track at `track_prefix`.
pub fn chunk_key(track_prefix: &ObjectPath, index: u64) -> ObjectPath {
    track_prefix.child(format!("{CHUNK_PREFIX}{index:010}.{TRACK_EXT}"))
}

/// The chunk index of a chunk object's name.
pub fn chunk_index(name: &str) -> Option<u64> {
    let digits = name
        .strip_prefix(CHUNK_PREFIX)?
        .strip_suffix(TRACK_EXT)?
        .strip_suffix('.')?;
    (digits.len() == 10 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

/// The former layout's whole track file of the recording at `prefix`.
pub fn legacy_track_key(prefix: &ObjectPath, track: &str) -> Option<ObjectPath> {
    safe_component(track).then(|| prefix.child(format!("{track}.{TRACK_EXT}")))
}

/// Creates `dir` (and parents) with mode 0700.
pub async fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = tokio::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    b.mode(0o700);
    b.create(dir).await
}

/// fsyncs a directory so the entries created in it survive a crash.
pub async fn sync_dir(dir: &Path) -> std::io::Result<()> {
    tokio::fs::File::open(dir).await?.sync_all().await
}

/// The recording directories of `tenant` under a local `root` (ids only, unsorted).
pub async fn recording_ids(root: &Path, tenant: &str) -> std::io::Result<Vec<String>> {
    if !safe_component(tenant) {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    let mut rd = match tokio::fs::read_dir(root.join(tenant)).await {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    while let Some(entry) = rd.next_entry().await? {
        if let Some(name) = entry.file_name().to_str()
            && valid_recording_id(name)
        {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

/// Every tenant directory under a local `root`.
pub async fn tenants(root: &Path) -> std::io::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut rd = match tokio::fs::read_dir(root).await {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    while let Some(entry) = rd.next_entry().await? {
        if let Some(name) = entry.file_name().to_str()
            && safe_component(name)
        {
            out.push(name.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn hostile_ids_and_names_never_make_a_path() {
        let root = Path::new("/r");
        let good = format!("rec_{}", "A".repeat(24));
        assert!(recording_dir(root, "ten_x", &good).is_some());
        for bad in [
            "",
            "rec_",
            "../etc",
            "rec_../../../../../../etc/pa",
            &format!("rec_{}", "A".repeat(25)),
            &format!("rec_{}/", "A".repeat(23)),
        ] {
            assert!(recording_dir(root, "ten_x", bad).is_none(), "{bad}");
        }
        for bad in ["", ".", "..", "a/b", "a\0b", &"x".repeat(129)] {
            assert!(recording_dir(root, bad, &good).is_none(), "{bad:?}");
        }
        for bad in ["", ".", "..", "a/b"] {
            assert!(recording_prefix(bad, &good).is_none(), "{bad:?}");
            let p = recording_prefix("ten_x", &good).unwrap();
            assert!(track_prefix(&p, bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn keys_keep_the_directory_layout_and_chunk_names_round_trip() {
        let id = format!("rec_{}", "A".repeat(24));
        let p = recording_prefix("ten_x", &id).unwrap();
        assert_eq!(
            metadata_key(&p).as_ref(),
            format!("ten_x/{id}/metadata.json")
        );
        let t = track_prefix(&p, "patient-par_1").unwrap();
        assert_eq!(
            header_key(&t).as_ref(),
            format!("ten_x/{id}/patient-par_1/header.hprec")
        );
        let c = chunk_key(&t, 42);
        assert_eq!(c.filename(), Some("chunk-0000000042.hprec"));
        assert_eq!(chunk_index("chunk-0000000042.hprec"), Some(42));
        for bad in [
            "chunk-42.hprec",
            "chunk-00000000x2.hprec",
            "header.hprec",
            "chunk-0000000042.hprec#1",
        ] {
            assert_eq!(chunk_index(bad), None, "{bad}");
        }
    }
}
