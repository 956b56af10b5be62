//! `[recording]` configuration.
//!
//! ```toml
//! [recording]
//! enabled = false            # record every room's post-mask audio (off by default)
//! dir = "<data_dir>/recordings"
//! chunk_ms = 3000            # a sealed, fsync'd chunk every 3 s (a crash loses at most that)
//! queue_packets = 512        # per-track channel between the forwarder and the writer
//! retention_days = 90        # recordings older than this are deleted (0 keeps them forever)
//! sweep_interval_secs = 3600 # how often the retention sweeper runs
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::config::ConfigError;

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
}

/// The validated `[recording]` section.
#[derive(Debug, Clone)]
pub struct RecordingConfig {
    pub enabled: bool,
    pub dir: PathBuf,
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
        Ok(RecordingConfig {
            enabled: self.enabled.unwrap_or(false),
            dir,
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
        ] {
            assert!(matches!(
                bad.validate(Path::new("/d")),
                Err(ConfigError::Invalid { .. })
            ));
        }
    }
}
