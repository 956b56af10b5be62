//! The result of one run and its lines, as `hushpay loadgen` prints them: first the lines it
//! always printed (pairs and failures, gateway CPU, the gateway's packet counters, recording,
//! packets and loss, latency), then the measurement's own (window, RSS and set-up, CPU wait,
//! chat, the load average with `BUSY`), then one `result key=value ...` line for scripts.

use std::fmt;

use crate::metrics::Counters;

/// What was measured over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    /// A window after every pair was connected and a warm-up.
    Window { warmup_s: f64 },
    /// The whole run, set-up included (the webrtc-rs bots).
    WholeRun,
}

/// The gateway's memory.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rss {
    /// At the end of the measurement, MiB.
    pub mb: f64,
    /// Growth since before set-up, KiB per pair.
    pub kib_per_pair: f64,
}

/// One run's measurements.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// `str0m` or `webrtc`.
    pub engine: String,
    pub pairs: usize,
    /// Why each failed pair failed.
    pub failures: Vec<String>,
    /// `--seconds`.
    pub seconds: u64,
    /// The whole run, seconds.
    pub wall_s: f64,
    pub span: Span,
    /// Length of what was measured over, seconds.
    pub measured_s: f64,
    /// CPU time over it, µs, of the gateway (with its pid) and of this process.
    pub gateway_cpu_us: Option<f64>,
    pub loadgen_cpu_us: Option<f64>,
    /// Growth of the gateway's counters over it (empty when `/metrics` could not be read).
    pub counters: Counters,
    /// Audio packets the bots sent in it, and of those, how many arrived.
    pub sent: u64,
    pub received: u64,
    /// Packets the bots received in it (what the gateway forwarded to them).
    pub forwarded: u64,
    /// One-way latencies in µs, sorted.
    pub p2a_us: Vec<u32>,
    pub a2p_us: Vec<u32>,
    pub rss: Option<Rss>,
    /// From the first pair's start to every pair connected and receiving (or failed).
    pub setup_s: Option<f64>,
    /// Time the gateway's and this process's threads waited for a core, % of the span.
    pub wait_pct: Option<(f64, f64)>,
    /// UDP datagrams the machine dropped for full receive buffers during the span.
    pub udp_drops: Option<u64>,
    /// Chat frames sent and received in the span (with `--chat`).
    pub chat: Option<(u64, u64)>,
    /// The 1-minute load average before the start, and the limit above which it is BUSY.
    pub load: f64,
    pub max_load: f64,
}

impl Report {
    /// The machine was loaded before the start.
    pub fn busy(&self) -> bool {
        self.load > self.max_load
    }

    /// Packets sent that never arrived.
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }

    fn pct_of_core(&self, us: Option<f64>) -> Option<f64> {
        us.map(|us| us / 1e6 / self.measured_s.max(1e-9) * 100.0)
    }

    /// The gateway's CPU over the span, % of one core.
    pub fn gateway_cpu_pct(&self) -> Option<f64> {
        self.pct_of_core(self.gateway_cpu_us)
    }

    /// The gateway's CPU per packet forwarded to the bots, µs.
    pub fn us_per_packet(&self) -> Option<f64> {
        self.gateway_cpu_us
            .filter(|_| self.forwarded > 0)
            .map(|us| us / self.forwarded as f64)
    }

    fn delta(&self, k: &str) -> f64 {
        self.counters.get(k).copied().unwrap_or(0.0)
    }

    /// The lines `hushpay loadgen` always printed.
    fn classic(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cpu = |us: Option<f64>| match self.pct_of_core(us) {
            Some(p) => format!("{p:.0}%"),
            None => "n/a".to_owned(),
        };
        writeln!(
            f,
            "pairs {} ({} failed), {} s of audio each, wall {:.1} s",
            self.pairs,
            self.failures.len(),
            self.seconds,
            self.wall_s
        )?;
        for failure in self.failures.iter().take(3) {
            writeln!(f, "  failure: {failure}")?;
        }
        writeln!(
            f,
            "gateway CPU {} of one core (2 cores = 200%); load generator CPU {}",
            cpu(self.gateway_cpu_us),
            cpu(self.loadgen_cpu_us)
        )?;
        writeln!(
            f,
            "gateway packets in {:.0}, forwarded {:.0}, masked {:.0}, digits captured {:.0}",
            self.delta("hushpay_rtp_packets_in_total"),
            self.delta("hushpay_rtp_packets_out_total"),
            self.delta("hushpay_rtp_packets_masked_total"),
            self.delta("hushpay_digits_captured_total")
        )?;
        let recorded = self.delta("hushpay_recording_packets_total");
        if recorded > 0.0 || self.delta("hushpay_recordings_started_total") > 0.0 {
            let bytes = self.delta("hushpay_recording_bytes_total");
            let pairs = self.pairs.max(1) as f64;
            writeln!(
                f,
                "recording: {:.0} recordings, packets recorded {recorded:.0}, dropped {:.0}, paused {:.0}, chunks {:.0}, {:.0} bytes ({:.1} kB per call, {:.1} kB per call-minute), write errors {:.0}",
                self.delta("hushpay_recordings_started_total"),
                self.delta("hushpay_recording_packets_dropped_total"),
                self.delta("hushpay_recording_packets_paused_total"),
                self.delta("hushpay_recording_chunks_total"),
                bytes,
                bytes / 1000.0 / pairs,
                bytes / 1000.0 / pairs / (self.seconds.max(1) as f64 / 60.0),
                self.delta("hushpay_recording_write_errors_total"),
            )?;
        }
        writeln!(
            f,
            "audio packets sent {}, received {}, lost {} ({:.3}%)",
            self.sent,
            self.received,
            self.lost(),
            self.lost() as f64 / self.sent.max(1) as f64 * 100.0
        )?;
        writeln!(
            f,
            "latency patient->agent (masked) p50 {:.1} ms p99 {:.1} ms max {:.1} ms; agent->patient p50 {:.1} ms p99 {:.1} ms",
            pct(&self.p2a_us, 0.5),
            pct(&self.p2a_us, 0.99),
            pct(&self.p2a_us, 1.0),
            pct(&self.a2p_us, 0.5),
            pct(&self.a2p_us, 0.99)
        )
    }

    /// The measurement's own lines.
    fn measurement(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.span {
            Span::Window { warmup_s } => write!(
                f,
                "measured over a {:.1} s window after every pair was connected and {warmup_s:.1} s of warm-up:",
                self.measured_s
            )?,
            Span::WholeRun => write!(
                f,
                "measured over the whole run ({:.1} s, set-up included):",
                self.measured_s
            )?,
        }
        match (self.gateway_cpu_pct(), self.us_per_packet()) {
            (Some(cpu), Some(us)) => write!(
                f,
                " gateway CPU {cpu:.1}% of one core, {us:.2} µs per forwarded packet;"
            )?,
            (Some(cpu), None) => write!(f, " gateway CPU {cpu:.1}% of one core;")?,
            _ => write!(f, " gateway CPU n/a (no --gateway-pid);")?,
        }
        write!(f, " {} packets forwarded to the bots", self.forwarded)?;
        if let Some(own) = self.pct_of_core(self.loadgen_cpu_us) {
            write!(f, "; load generator CPU {own:.1}%")?;
        }
        writeln!(f)?;
        let setup = self
            .setup_s
            .map_or("n/a".to_owned(), |s| format!("{s:.2} s"));
        match self.rss {
            Some(rss) => writeln!(
                f,
                "gateway RSS {:.1} MB, {:.1} KiB per pair; set-up {setup} for {} pairs",
                rss.mb, rss.kib_per_pair, self.pairs
            )?,
            None => writeln!(
                f,
                "gateway RSS n/a (no --gateway-pid); set-up {setup} for {} pairs",
                self.pairs
            )?,
        }
        if let Some((gw, own)) = self.wait_pct {
            write!(
                f,
                "CPU wait (runnable, no core free): gateway {gw:.1}%, load generator {own:.1}%"
            )?;
            if let Some(drops) = self.udp_drops {
                write!(f, "; UDP receive-buffer drops {drops}")?;
            }
            writeln!(f)?;
        }
        if let Some((sent, received)) = self.chat {
            writeln!(f, "chat messages sent {sent}, received {received}")?;
        }
        write!(
            f,
            "load average {:.2} before the start (--max-load {:.2})",
            self.load, self.max_load
        )?;
        if self.busy() {
            write!(
                f,
                " BUSY: another job was running, the numbers are not the gateway's alone"
            )?;
        }
        writeln!(f)
    }

    /// The `result key=value ...` line (no newline).
    fn result_line(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let opt = |v: Option<f64>, digits: usize| match v {
            Some(v) => format!("{v:.digits$}"),
            None => "n/a".to_owned(),
        };
        write!(
            f,
            "result engine={} pairs={} failed={} sent={} received={} lost={} loss_pct={:.3} \
             p2a_p50_ms={:.1} p2a_p99_ms={:.1} p2a_max_ms={:.1} a2p_p50_ms={:.1} a2p_p99_ms={:.1} \
             cpu_pct={} us_per_pkt={} forwarded={} rss_mb={} rss_kib_per_pair={} setup_s={} load={:.2}",
            self.engine,
            self.pairs,
            self.failures.len(),
            self.sent,
            self.received,
            self.lost(),
            self.lost() as f64 / self.sent.max(1) as f64 * 100.0,
            pct(&self.p2a_us, 0.5),
            pct(&self.p2a_us, 0.99),
            pct(&self.p2a_us, 1.0),
            pct(&self.a2p_us, 0.5),
            pct(&self.a2p_us, 0.99),
            opt(self.gateway_cpu_pct(), 1),
            opt(self.us_per_packet(), 2),
            self.forwarded,
            opt(self.rss.map(|r| r.mb), 1),
            opt(self.rss.map(|r| r.kib_per_pair), 1),
            opt(self.setup_s, 2),
            self.load,
        )?;
        if self.busy() {
            write!(f, " BUSY")?;
        }
        Ok(())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.classic(f)?;
        self.measurement(f)?;
        self.result_line(f)
    }
}

/// Percentile `p` (0..=1) of sorted µs values in ms, by rounded index (what `hushpay loadgen`
/// always used); NaN when empty.
pub fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    f64::from(sorted[i]) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> Report {
        Report {
            engine: "str0m".into(),
            pairs: 2,
            failures: vec!["pair 1 (agent): refused: room_full: x".into()],
            seconds: 3,
            wall_s: 7.26,
            span: Span::Window { warmup_s: 1.0 },
            measured_s: 2.0,
            gateway_cpu_us: Some(500_000.0),
            loadgen_cpu_us: Some(100_000.0),
            counters: [
                ("hushpay_rtp_packets_in_total".to_owned(), 400.0),
                ("hushpay_rtp_packets_out_total".to_owned(), 390.0),
                ("hushpay_rtp_packets_masked_total".to_owned(), 10.0),
                ("hushpay_digits_captured_total".to_owned(), 1.0),
            ]
            .into_iter()
            .collect(),
            sent: 200,
            received: 199,
            forwarded: 250,
            p2a_us: (1..=100).map(|i| 20_000 + i * 10).collect(),
            a2p_us: vec![500, 700, 900],
            rss: Some(Rss {
                mb: 40.0,
                kib_per_pair: 300.0,
            }),
            setup_s: Some(0.5),
            wait_pct: Some((1.0, 2.0)),
            udp_drops: Some(0),
            chat: None,
            load: 0.9,
            max_load: 0.7,
        }
    }

    #[test]
    fn the_classic_lines_come_first_unchanged() {
        let text = report().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "pairs 2 (1 failed), 3 s of audio each, wall 7.3 s"
        );
        assert_eq!(lines[1], "  failure: pair 1 (agent): refused: room_full: x");
        assert_eq!(
            lines[2],
            "gateway CPU 25% of one core (2 cores = 200%); load generator CPU 5%"
        );
        assert_eq!(
            lines[3],
            "gateway packets in 400, forwarded 390, masked 10, digits captured 1"
        );
        assert_eq!(
            lines[4],
            "audio packets sent 200, received 199, lost 1 (0.500%)"
        );
        assert_eq!(
            lines[5],
            "latency patient->agent (masked) p50 20.5 ms p99 21.0 ms max 21.0 ms; agent->patient p50 0.7 ms p99 0.9 ms"
        );
        assert!(
            lines[6].contains("gateway CPU 25.0% of one core, 2000.00 µs per forwarded packet")
        );
        assert_eq!(
            lines[7],
            "gateway RSS 40.0 MB, 300.0 KiB per pair; set-up 0.50 s for 2 pairs"
        );
        assert!(lines[9].starts_with("load average 0.90 before the start (--max-load 0.70) BUSY"));
        let result = lines.last().unwrap_or(&"");
        assert!(
            result
                .starts_with("result engine=str0m pairs=2 failed=1 sent=200 received=199 lost=1 "),
            "{result}"
        );
        assert!(
            result.contains(" cpu_pct=25.0 us_per_pkt=2000.00 "),
            "{result}"
        );
        assert!(result.ends_with(" load=0.90 BUSY"), "{result}");
    }

    #[test]
    fn a_quiet_machine_without_a_pid_says_what_it_lacks() {
        let mut r = report();
        r.load = 0.1;
        r.gateway_cpu_us = None;
        r.rss = None;
        let text = r.to_string();
        assert!(text.contains("gateway CPU n/a of one core"));
        assert!(text.contains("gateway RSS n/a"));
        assert!(!text.contains("BUSY"));
        assert!(text.contains(" cpu_pct=n/a us_per_pkt=n/a "));
    }

    #[test]
    fn rounded_index_percentiles() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(pct(&v, 0.5), 51.0);
        assert_eq!(pct(&v, 1.0), 100.0);
        assert!(pct(&[], 0.5).is_nan());
    }
}
