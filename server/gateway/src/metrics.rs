//! Process metrics in the Prometheus text exposition format, hand-rolled: a few counters do
//! not need a registry crate. Labels carry route templates and codes only, never values from
//! a request.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hushpay_media::opus_toc::{self, Bandwidth};

/// The gateway's counters.
#[derive(Debug, Default)]
pub struct Metrics {
    http: Mutex<BTreeMap<(String, String, u16), u64>>,
    auth_failures: Mutex<BTreeMap<&'static str, u64>>,
    tokens_minted: AtomicU64,
    /// SFU counters and gauges (updated by the forwarding tasks).
    pub sfu: SfuMetrics,
    /// Recorder counters.
    pub recording: RecordingMetrics,
    /// SIP trunk ingress counters.
    pub sip: std::sync::Arc<crate::sip::metrics::SipMetrics>,
}

/// Recorder counters.
#[derive(Debug, Default)]
pub struct RecordingMetrics {
    /// Recordings started.
    pub recordings: AtomicU64,
    /// Packets handed to a track writer.
    pub packets: AtomicU64,
    /// Packets not recorded because a window was closed (payment, manual, consent).
    pub paused: AtomicU64,
    /// Packets dropped because a track writer's channel was full (or the writer failed).
    pub dropped: AtomicU64,
    /// Chunks appended (fsync'd) to track files, and their bytes.
    pub chunks: AtomicU64,
    pub bytes: AtomicU64,
    /// Failed file or key operations.
    pub write_errors: AtomicU64,
    /// Pauses and resumes that could not be audited (a resume then does not happen).
    pub audit_failures: AtomicU64,
}

impl RecordingMetrics {
    fn render(&self, out: &mut String) {
        let counters: [(&str, &str, &AtomicU64); 8] = [
            (
                "recordings_started_total",
                "Recordings started.",
                &self.recordings,
            ),
            (
                "recording_packets_total",
                "Packets handed to recording track writers.",
                &self.packets,
            ),
            (
                "recording_packets_paused_total",
                "Packets not recorded: a pause window was closed.",
                &self.paused,
            ),
            (
                "recording_packets_dropped_total",
                "Packets dropped: a recording track writer was behind or failed.",
                &self.dropped,
            ),
            (
                "recording_chunks_total",
                "Encrypted chunks appended and fsync'd.",
                &self.chunks,
            ),
            (
                "recording_bytes_total",
                "Bytes appended to recording track files.",
                &self.bytes,
            ),
            (
                "recording_write_errors_total",
                "Failed recording file or key operations.",
                &self.write_errors,
            ),
            (
                "recording_audit_failures_total",
                "Recording pauses and resumes the audit log refused (resumes denied).",
                &self.audit_failures,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP hushpay_{name} {help}");
            let _ = writeln!(out, "# TYPE hushpay_{name} counter");
            let _ = writeln!(out, "hushpay_{name} {}", v.load(Ordering::Relaxed));
        }
    }
}

/// SFU counters (packets, digits, chat) and gauges (rooms, participants).
#[derive(Debug, Default)]
pub struct SfuMetrics {
    pub packets_in: AtomicU64,
    pub packets_out: AtomicU64,
    pub packets_masked: AtomicU64,
    pub packets_refused: AtomicU64,
    pub digits_captured: AtomicU64,
    pub chat_intercepted: AtomicU64,
    /// Audio packets of peers not (yet, or no longer) attached to a room.
    pub media_unrouted: AtomicU64,
    /// Packets the media engine refused to send (peer gone, no negotiated audio).
    pub media_writes_refused: AtomicU64,
    /// Patient Opus packets by coded bandwidth, indexed by [`Bandwidth::index`].
    pub patient_bandwidth: [AtomicU64; Bandwidth::ALL.len()],
    pub rooms: std::sync::atomic::AtomicI64,
    pub participants: std::sync::atomic::AtomicI64,
}

impl SfuMetrics {
    /// Counts a patient Opus payload by its coded bandwidth (empty payloads are not counted).
    pub fn patient_opus(&self, payload: &[u8]) {
        if let Some(bw) = opus_toc::bandwidth(payload) {
            self.patient_bandwidth[bw.index()].fetch_add(1, Ordering::Relaxed);
        }
    }

    fn render(&self, out: &mut String) {
        let counters: [(&str, &str, &AtomicU64); 8] = [
            (
                "rtp_packets_in_total",
                "RTP packets received from participants.",
                &self.packets_in,
            ),
            (
                "rtp_packets_out_total",
                "RTP packets forwarded to participants.",
                &self.packets_out,
            ),
            (
                "rtp_packets_masked_total",
                "Patient audio packets replaced by silence.",
                &self.packets_masked,
            ),
            (
                "rtp_packets_refused_total",
                "RTP packets the masker refused.",
                &self.packets_refused,
            ),
            (
                "digits_captured_total",
                "Keyed digits captured from patient streams.",
                &self.digits_captured,
            ),
            (
                "chat_card_numbers_intercepted_total",
                "Chat messages withheld for a card number.",
                &self.chat_intercepted,
            ),
            (
                "rtp_packets_unrouted_total",
                "RTP packets of peers not attached to a room (dropped).",
                &self.media_unrouted,
            ),
            (
                "rtp_writes_refused_total",
                "RTP packets the media engine refused to send.",
                &self.media_writes_refused,
            ),
        ];
        for (name, help, v) in counters {
            let _ = writeln!(out, "# HELP hushpay_{name} {help}");
            let _ = writeln!(out, "# TYPE hushpay_{name} counter");
            let _ = writeln!(out, "hushpay_{name} {}", v.load(Ordering::Relaxed));
        }
        out.push_str(
            "# HELP hushpay_patient_opus_packets_total Patient Opus packets by coded bandwidth.\n",
        );
        out.push_str("# TYPE hushpay_patient_opus_packets_total counter\n");
        for bw in Bandwidth::ALL {
            let n = self.patient_bandwidth[bw.index()].load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "hushpay_patient_opus_packets_total{{bandwidth=\"{}\"}} {n}",
                bw.as_str()
            );
        }
        for (name, help, v) in [
            ("rooms", "Open rooms.", &self.rooms),
            ("participants", "Participants in rooms.", &self.participants),
        ] {
            let _ = writeln!(out, "# HELP hushpay_{name} {help}");
            let _ = writeln!(out, "# TYPE hushpay_{name} gauge");
            let _ = writeln!(out, "hushpay_{name} {}", v.load(Ordering::Relaxed));
        }
    }
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts one answered HTTP request by method, route template and status.
    pub fn http_request(&self, method: &str, route: &str, status: u16) {
        let mut map = self.http.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
    }

    /// Counts a refused credential by its stable error code.
    pub fn auth_failure(&self, code: &'static str) {
        let mut map = self.auth_failures.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(code).or_default() += 1;
    }

    pub fn token_minted(&self) {
        self.tokens_minted.fetch_add(1, Ordering::Relaxed);
    }

    /// The text exposition (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP hushpay_http_requests_total HTTP requests answered.\n");
        out.push_str("# TYPE hushpay_http_requests_total counter\n");
        for ((method, route, status), n) in
            self.http.lock().unwrap_or_else(|p| p.into_inner()).iter()
        {
            let _ = writeln!(
                out,
                "hushpay_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(method),
                escape(route)
            );
        }
        out.push_str("# HELP hushpay_auth_failures_total Refused credentials by reason.\n");
        out.push_str("# TYPE hushpay_auth_failures_total counter\n");
        for (code, n) in self
            .auth_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(out, "hushpay_auth_failures_total{{code=\"{code}\"}} {n}");
        }
        out.push_str("# HELP hushpay_access_tokens_minted_total Participant tokens minted.\n");
        out.push_str("# TYPE hushpay_access_tokens_minted_total counter\n");
        let _ = writeln!(
            out,
            "hushpay_access_tokens_minted_total {}",
            self.tokens_minted.load(Ordering::Relaxed)
        );
        self.sfu.render(&mut out);
        self.recording.render(&mut out);
        self.sip.render(&mut out);
        out
    }
}

/// Escapes a label value (backslash, quote, newline).
fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_in_text_format() {
        let m = Metrics::new();
        m.http_request("GET", "/healthz", 200);
        m.http_request("GET", "/healthz", 200);
        m.http_request("POST", "/v1/\"x\"", 401);
        m.auth_failure("token_expired");
        m.token_minted();
        let text = m.render();
        assert!(text.contains(
            "hushpay_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 2"
        ));
        assert!(text.contains("route=\"/v1/\\\"x\\\"\""));
        assert!(text.contains("hushpay_auth_failures_total{code=\"token_expired\"} 1"));
        assert!(text.contains("hushpay_access_tokens_minted_total 1"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let value = line.rsplit(' ').next().unwrap_or_default();
            assert!(
                value.parse::<f64>().is_ok(),
                "sample line ends in a number: {line}"
            );
        }
    }
}
