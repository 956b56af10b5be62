//! Where recording containers are kept: an object store (the `object_store` crate), a local
//! directory by default (`recording.dir`) or an S3-compatible bucket in production, so that
//! every gateway of a cluster reads what any of them wrote. Objects are written whole and
//! never appended to (object stores cannot append): see [`super::files`] for the layout.
//!
//! On the local backend a written object is as durable as the files of the previous layout:
//! its directories are created 0700 (and fsync'd into their parents), the object is
//! renamed into place by `object_store`, then set to 0600 and fsync'd with its directory
//! before [`Containers::put`] returns. On S3 a successful `PUT` is durable.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::TryStreamExt;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};

use super::files;

/// An S3-compatible bucket (credentials from the standard `AWS_*` environment variables or
/// the instance's role, never from the configuration file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Config {
    pub bucket: String,
    /// Key prefix inside the bucket (`""`: the bucket's root).
    pub prefix: String,
    pub region: Option<String>,
    /// An S3-compatible endpoint (MinIO, Ceph): `https://host:port`.
    pub endpoint: Option<String>,
    /// Allows an `http://` endpoint (a test bucket on a private network).
    pub allow_http: bool,
}

/// Which object store holds the containers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backend {
    /// A local directory (the default: `<data_dir>/recordings`).
    Local(PathBuf),
    S3(S3Config),
}

/// Why the object store could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("recording object store: {0}")]
    Store(#[from] object_store::Error),
    #[error("recording directory: {0}")]
    Io(#[from] std::io::Error),
}

impl StorageError {
    /// True when the object (or the prefix) does not exist.
    pub fn is_not_found(&self) -> bool {
        match self {
            StorageError::Store(object_store::Error::NotFound { .. }) => true,
            StorageError::Io(e) => e.kind() == std::io::ErrorKind::NotFound,
            StorageError::Store(_) => false,
        }
    }
}

impl Backend {
    /// Builds the store (no network: S3 clients connect on first use). The local directory is
    /// created (0700) first, as `object_store` needs it to exist.
    pub async fn open(&self) -> Result<Arc<dyn ObjectStore>, StorageError> {
        match self {
            Backend::Local(dir) => {
                files::create_private_dir(dir).await?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)?
                    .with_automatic_cleanup(true);
                Ok(Arc::new(fs))
            }
            Backend::S3(s3) => s3.build(),
        }
    }
}

impl S3Config {
    /// The S3 client for this bucket (checks the settings; no request is made).
    pub fn build(&self) -> Result<Arc<dyn ObjectStore>, StorageError> {
        let mut b = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_allow_http(self.allow_http);
        if let Some(region) = &self.region {
            b = b.with_region(region);
        }
        if let Some(endpoint) = &self.endpoint {
            b = b.with_endpoint(endpoint);
        }
        let s3 = b.build()?;
        Ok(if self.prefix.is_empty() {
            Arc::new(s3)
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(
                s3,
                self.prefix.as_str(),
            ))
        })
    }
}

/// The recording containers of this gateway: the configured object store, opened on first
/// use.
#[derive(Debug)]
pub struct Containers {
    backend: Backend,
    store: tokio::sync::OnceCell<Arc<dyn ObjectStore>>,
}

impl Containers {
    pub fn new(backend: Backend) -> Self {
        Self {
            backend,
            store: tokio::sync::OnceCell::new(),
        }
    }

    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    async fn store(&self) -> Result<&Arc<dyn ObjectStore>, StorageError> {
        self.store.get_or_try_init(|| self.backend.open()).await
    }

    /// The local file of `key` (local backend only).
    fn local_file(&self, key: &ObjectPath) -> Option<PathBuf> {
        match &self.backend {
            Backend::Local(dir) => Some(dir.join(key.as_ref())),
            Backend::S3(_) => None,
        }
    }

    /// Writes the object `key` whole (replacing it atomically), durably before returning.
    pub async fn put(&self, key: &ObjectPath, bytes: Vec<u8>) -> Result<(), StorageError> {
        let store = self.store().await?;
        let file = self.local_file(key);
        if let Some(parent) = file.as_deref().and_then(std::path::Path::parent) {
            create_durable_dir(parent).await?;
        }
        store.put(key, PutPayload::from(bytes)).await?;
        if let Some(file) = file {
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                tokio::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).await?;
            }
            tokio::fs::File::open(&file).await?.sync_all().await?;
            if let Some(parent) = file.parent() {
                files::sync_dir(parent).await?;
            }
        }
        Ok(())
    }

    /// The object `key`, `None` when it does not exist.
    pub async fn get(&self, key: &ObjectPath) -> Result<Option<Bytes>, StorageError> {
        let store = self.store().await?;
        match store.get(key).await {
            Ok(got) => Ok(Some(got.bytes().await?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Every object under `prefix` (at any depth), unsorted.
    pub async fn list(&self, prefix: &ObjectPath) -> Result<Vec<ObjectPath>, StorageError> {
        let store = self.store().await?;
        let listed: Vec<object_store::ObjectMeta> =
            match store.list(Some(prefix)).try_collect().await {
                Ok(l) => l,
                Err(object_store::Error::NotFound { .. }) => Vec::new(),
                Err(e) => return Err(e.into()),
            };
        Ok(listed.into_iter().map(|m| m.location).collect())
    }

    /// The names one level below `prefix` (`None`: the root) that hold objects: the
    /// "directories" of a listing with a delimiter.
    pub async fn children(&self, prefix: Option<&ObjectPath>) -> Result<Vec<String>, StorageError> {
        let store = self.store().await?;
        let listed = match store.list_with_delimiter(prefix).await {
            Ok(l) => l,
            Err(object_store::Error::NotFound { .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e.into()),
        };
        Ok(listed
            .common_prefixes
            .iter()
            .filter_map(|p| p.filename().map(str::to_owned))
            .collect())
    }

    /// Deletes every object under `prefix` (and, on the local backend, what is left of its
    /// directory: the temporary files of the former layout); the number of objects deleted.
    pub async fn delete_all(&self, prefix: &ObjectPath) -> Result<usize, StorageError> {
        let keys = self.list(prefix).await?;
        let store = self.store().await?;
        for key in &keys {
            match store.delete(key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        if let Backend::Local(dir) = &self.backend {
            match tokio::fs::remove_dir_all(dir.join(prefix.as_ref())).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        Ok(keys.len())
    }
}

/// Creates `dir` and its missing parents 0700, each new one fsync'd into its parent.
async fn create_durable_dir(dir: &std::path::Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    let mut at = Some(dir);
    while let Some(d) = at {
        if tokio::fs::try_exists(d).await? {
            break;
        }
        missing.push(d);
        at = d.parent();
    }
    if missing.is_empty() {
        return Ok(());
    }
    files::create_private_dir(dir).await?;
    for d in missing.iter().rev() {
        if let Some(parent) = d.parent() {
            files::sync_dir(parent).await?;
        }
    }
    Ok(())
}
