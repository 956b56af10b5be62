//! Where recordings live: `<dir>/<tenant>/<recording id>/` holds `metadata.json` (signed,
//! replaced atomically: temporary file, fsync, rename, fsync of the directory) and one
//! `<track>.hprec` per track (appended and fsync'd chunk by chunk). Directories are created
//! 0700, files 0600. Ids and names are checked before they touch a path.

use std::path::{Path, PathBuf};

use hushpay_recording::SignedMetadata;

/// The metadata file name.
pub const METADATA_FILE: &str = "metadata.json";
/// The track file extension.
pub const TRACK_EXT: &str = "hprec";

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

/// The directory of one recording.
pub fn recording_dir(root: &Path, tenant: &str, id: &str) -> Option<PathBuf> {
    (safe_component(tenant) && valid_recording_id(id)).then(|| root.join(tenant).join(id))
}

/// The file of one track.
pub fn track_file(dir: &Path, track: &str) -> Option<PathBuf> {
    safe_component(track).then(|| dir.join(format!("{track}.{TRACK_EXT}")))
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

/// A new file (refused if it exists), mode 0600.
pub async fn create_private_file(path: &Path) -> std::io::Result<tokio::fs::File> {
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    o.mode(0o600);
    o.open(path).await
}

/// Replaces `dir/metadata.json` atomically and durably.
pub async fn write_metadata(dir: &Path, signed: &SignedMetadata) -> std::io::Result<()> {
    use tokio::io::AsyncWriteExt;
    let json = signed.to_json().map_err(std::io::Error::other)?;
    let tmp = dir.join(format!(".{METADATA_FILE}.tmp"));
    let _ = tokio::fs::remove_file(&tmp).await;
    let mut f = create_private_file(&tmp).await?;
    f.write_all(&json).await?;
    f.sync_all().await?;
    drop(f);
    tokio::fs::rename(&tmp, dir.join(METADATA_FILE)).await?;
    sync_dir(dir).await
}

/// Reads `dir/metadata.json` (the signature is not checked here).
pub async fn read_metadata(dir: &Path) -> Result<SignedMetadata, String> {
    let bytes = tokio::fs::read(dir.join(METADATA_FILE))
        .await
        .map_err(|e| format!("metadata unreadable: {}", e.kind()))?;
    SignedMetadata::parse(&bytes).map_err(|e| e.to_string())
}

/// The recording directories of `tenant` (ids only, unsorted).
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

/// Every tenant directory under `root`.
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
            assert!(track_file(root, bad).is_none(), "{bad:?}");
        }
        assert!(track_file(root, "patient-par_1").is_some());
    }
}
