//! Counters of the SIP ingress: refused requests by reason, calls offered and ended, RTP
//! packets from unexpected addresses.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use hushpay_sip::Refusal;

#[derive(Debug, Default)]
pub struct SipMetrics {
    refused: Mutex<BTreeMap<&'static str, u64>>,
    /// Calls offered to the application (authorised, routed, negotiated).
    pub calls_offered: AtomicU64,
    /// Calls that ended (any reason).
    pub calls_ended: AtomicU64,
    /// RTP datagrams dropped: from an address other than the caller's SDP address.
    pub rtp_foreign: AtomicU64,
    /// RTP datagrams dropped: the application's channel was full.
    pub rtp_dropped: AtomicU64,
    /// RTP datagrams sent to callers (the agents' audio).
    pub rtp_sent: AtomicU64,
}

impl SipMetrics {
    pub fn refused(&self, r: Refusal) {
        *self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(r.as_str())
            .or_default() += 1;
    }

    /// How many requests were refused for `reason` (tests).
    pub fn refused_count(&self, reason: &str) -> u64 {
        self.refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(reason)
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn render(&self, out: &mut String) {
        out.push_str("# HELP hushpay_sip_refused_total SIP requests refused, by reason.\n");
        out.push_str("# TYPE hushpay_sip_refused_total counter\n");
        for (reason, n) in self
            .refused
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(out, "hushpay_sip_refused_total{{reason=\"{reason}\"}} {n}");
        }
        for (name, help, v) in [
            (
                "sip_calls_offered_total",
                "Phone calls authorised, routed and offered.",
                &self.calls_offered,
            ),
            (
                "sip_calls_ended_total",
                "Phone calls ended.",
                &self.calls_ended,
            ),
            (
                "sip_rtp_foreign_total",
                "RTP datagrams dropped: not from the caller's address.",
                &self.rtp_foreign,
            ),
            (
                "sip_rtp_dropped_total",
                "RTP datagrams dropped: the application was behind.",
                &self.rtp_dropped,
            ),
            (
                "sip_rtp_sent_total",
                "RTP datagrams sent to phone callers.",
                &self.rtp_sent,
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP hushpay_{name} {help}\n# TYPE hushpay_{name} counter"
            );
            let _ = writeln!(out, "hushpay_{name} {}", v.load(Ordering::Relaxed));
        }
    }
}
