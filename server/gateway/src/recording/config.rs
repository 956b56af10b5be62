//! `[recording]` configuration.
//!
//! ```toml
//! [recording]
//! enabled = false            # record every room's post-mask audio (off by default)
//! dir = "<data_dir>/recordings"
//! chunk_ms = 3000            # a sealed, fsync'd chunk every 3 s (a crash loses at most that)
//! queue_packets = 512        # per-track channel between the forwarder and the writer
//! retention_days = 90        # recordings older than this are deleted (0 keeps them forever)
//! sweep_interval_secs = 3600 # how often the retention sweeper runs (on one node at a time)
//! storage = "local"          # "local": `dir`; "s3": an S3-compatible bucket
//! s3_bucket = "recordings"   # with storage = "s3" (credentials: the AWS_* environment)
//! s3_prefix = ""             # key prefix in the bucket
//! s3_region = "eu-west-1"
//! s3_endpoint = "https://minio.internal:9000" # S3-compatible stores (MinIO, Ceph)
//! s3_allow_http = false      # allow an http:// endpoint
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::objects::{Backend, S3Config};
use crate::config_error::ConfigError;

/// `[recording]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRecording {
    pub enabled: Option<bool>,
    pub dir: Option<PathBuf>,
    pub chunk_ms: Option<u32>,
    pub queue_packets: Option<usize>,
    pub retention_days: Option<u32>,
    pub sweep_interval_secs: Option<u64>,
    pub storage: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_prefix: Option<String>,
    pub s3_region: Option<String>,
    pub s3_endpoint: Option<String>,
    pub s3_allow_http: Option<bool>,
}

/// The validated `[recording]` section.
#[derive(Debug, Clone)]
pub struct RecordingConfig {
    pub enabled: bool,
    /// The local directory (the object store of the `local` backend).
    pub dir: PathBuf,
    /// Where containers are written and read.
    pub backend: Backend,
    pub chunk_ms: u32,
    pub queue_packets: usize,
    /// `None`: keep forever.
    pub retention: Option<Duration>,
    pub sweep_interval: Duration,
}

fn invalid(key: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        key,
        reason: reason.into(),
    }
}

impl RawRecording {
    pub fn validate(self, data_dir: &Path) -> Result<RecordingConfig, ConfigError> {
        let chunk_ms = self.chunk_ms.unwrap_or(3000);
        if !(100..=60_000).contains(&chunk_ms) {
            return Err(invalid("recording.chunk_ms", "must be 100 to 60000"));
        }
        let queue_packets = self.queue_packets.unwrap_or(512);
        if !(8..=65_536).contains(&queue_packets) {
            return Err(invalid("recording.queue_packets", "must be 8 to 65536"));
        }
        let days = self.retention_days.unwrap_or(90);
        if days > 36_500 {
            return Err(invalid("recording.retention_days", "at most 36500"));
        }
        let sweep = self.sweep_interval_secs.unwrap_or(3600);
        if !(1..=86_400).contains(&sweep) {
            return Err(invalid(
                "recording.sweep_interval_secs",
                "must be 1 to 86400",
            ));
        }
        let dir = self.dir.unwrap_or_else(|| data_dir.join("recordings"));
        if dir.as_os_str().is_empty() {
            return Err(invalid("recording.dir", "must not be empty"));
        }
        let s3_set = self.s3_bucket.is_some()
            || self.s3_prefix.is_some()
            || self.s3_region.is_some()
            || self.s3_endpoint.is_some()
            || self.s3_allow_http.is_some();
        let backend = match self.storage.as_deref().unwrap_or("local") {
            "local" if s3_set => {
                return Err(invalid(
                    "recording.storage",
                    "s3_* settings need storage = \"s3\"",
                ));
            }
            "local" => Backend::Local(dir.clone()),
            "s3" => {
                let s3 = S3Config {
                    bucket: self.s3_bucket.filter(|b| !b.is_empty()).ok_or_else(|| {
                        invalid("recording.s3_bucket", "required with storage = \"s3\"")
                    })?,
                    prefix: self
                        .s3_prefix
                        .unwrap_or_default()
                        .trim_matches('/')
                        .to_owned(),
                    region: self.s3_region.filter(|r| !r.is_empty()),
                    endpoint: self.s3_endpoint.filter(|e| !e.is_empty()),
                    allow_http: self.s3_allow_http.unwrap_or(false),
                };
                // The settings are checked now (no request is made).
                s3.build()
                    .map_err(|e| invalid("recording.storage", &e.to_string()))?;
                Backend::S3(s3)
            }
            _ => return Err(invalid("recording.storage", "is \"local\" or \"s3\"")),
        };
        Ok(RecordingConfig {
            enabled: self.enabled.unwrap_or(false),
            dir,
            backend,
            chunk_ms,
            queue_packets,
            retention: (days > 0).then(|| Duration::from_secs(u64::from(days) * 86_400)),
            sweep_interval: Duration::from_secs(sweep),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn defaults_and_bounds() {
        let c = RawRecording::default().validate(Path::new("/d")).unwrap();
        assert!(!c.enabled);
        assert_eq!(c.dir, PathBuf::from("/d/recordings"));
        assert_eq!(c.backend, Backend::Local(PathBuf::from("/d/recordings")));
        assert_eq!(c.chunk_ms, 3000);
        assert_eq!(c.retention, Some(Duration::from_secs(90 * 86_400)));
        let keep = RawRecording {
            retention_days: Some(0),
            ..Default::default()
        };
        assert_eq!(keep.validate(Path::new("/d")).unwrap().retention, None);
        for bad in [
            RawRecording {
                chunk_ms: Some(10),
                ..Default::default()
            },
            RawRecording {
                queue_packets: Some(1),
                ..Default::default()
            },
            RawRecording {
                sweep_interval_secs: Some(0),
                ..Default::default()
            },
            RawRecording {
                storage: Some("ftp".into()),
                ..Default::default()
            },
            RawRecording {
                storage: Some("s3".into()),
                ..Default::default()
            },
            RawRecording {
                s3_bucket: Some("b".into()),
                ..Default::default()
            },
        ] {
            assert!(matches!(
                bad.validate(Path::new("/d")),
                Err(ConfigError::Invalid { .. })
            ));
        }
    }

    #[test]
    fn s3_storage_is_configured_with_a_bucket() {
        let c = RawRecording {
            storage: Some("s3".into()),
            s3_bucket: Some("hushpay-recordings".into()),
            s3_prefix: Some("/calls/".into()),
            s3_region: Some("eu-west-1".into()),
            s3_endpoint: Some("http://127.0.0.1:9000".into()),
            s3_allow_http: Some(true),
            ..Default::default()
        }
        .validate(Path::new("/d"))
        .unwrap();
        assert_eq!(
            c.backend,
            Backend::S3(S3Config {
                bucket: "hushpay-recordings".into(),
                prefix: "calls".into(),
                region: Some("eu-west-1".into()),
                endpoint: Some("http://127.0.0.1:9000".into()),
                allow_http: true,
            })
        );
    }
}
