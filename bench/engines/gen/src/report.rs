//! The result of one run and its one-line form:
//! `engine=str0m pairs=250 sent=.. lost=0 p50_ms=.. p99_ms=.. max_ms=.. cpu_pct=.. us_per_pkt=..
//! setup_s=.. rss_mb=.. rss_kib_per_pair=.. gen_cpu_pct=.. load=..` and ` BUSY` when the machine
//! was loaded before the start.

use std::fmt;

/// One run's measurements (the window is the measured span after set-up and warm-up).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub engine: String,
    pub pairs: usize,
    /// Window length, seconds.
    pub window_s: f64,
    /// Packets the bots sent in the window.
    pub sent: u64,
    /// Of those, packets their partners received (by the end of the drain).
    pub received: u64,
    /// Packets the bots received in the window (what the forwarder forwarded then).
    pub forwarded: u64,
    /// One-way latency percentiles of the window's packets, ms.
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Forwarder CPU over the window, % of one core.
    pub cpu_pct: f64,
    /// Forwarder CPU per forwarded packet, µs.
    pub us_per_pkt: f64,
    /// From the first offer to every bot having received media, seconds.
    pub setup_s: f64,
    /// Forwarder RSS at the end of the window, MiB, and its growth per pair since before set-up.
    pub rss_mb: f64,
    pub rss_kib_per_pair: f64,
    /// UDP datagrams the machine dropped for full receive buffers during the window (any
    /// socket: a loss here is the kernel's, not the engine's).
    pub udp_drops: u64,
    /// The generator's own CPU over the window, % of one core.
    pub gen_cpu_pct: f64,
    /// Time the forwarder's and the generator's threads waited for a CPU while runnable during
    /// the window, % of the window: what co-tenants took (latency then is not the engine's).
    pub fwd_wait_pct: f64,
    pub gen_wait_pct: f64,
    /// 1-minute load average before the start, and whether it exceeded the limit.
    pub load: f64,
    pub busy: bool,
}

impl Report {
    /// Packets sent in the window that never arrived.
    pub fn lost(&self) -> u64 {
        self.sent.saturating_sub(self.received)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "engine={} pairs={} window_s={:.1} sent={} lost={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} \
             cpu_pct={:.1} us_per_pkt={:.2} setup_s={:.2} rss_mb={:.1} rss_kib_per_pair={:.1} \
             udp_drops={} gen_cpu_pct={:.1} fwd_wait_pct={:.1} gen_wait_pct={:.1} load={:.2}",
            self.engine,
            self.pairs,
            self.window_s,
            self.sent,
            self.lost(),
            self.p50_ms,
            self.p99_ms,
            self.max_ms,
            self.cpu_pct,
            self.us_per_pkt,
            self.setup_s,
            self.rss_mb,
            self.rss_kib_per_pair,
            self.udp_drops,
            self.gen_cpu_pct,
            self.fwd_wait_pct,
            self.gen_wait_pct,
            self.load,
        )?;
        if self.busy {
            write!(f, " BUSY")?;
        }
        Ok(())
    }
}

/// Nearest-rank percentile `p` (0..=100) of sorted µs values, in ms.
pub fn percentile_ms(sorted_us: &[u32], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let i = rank.clamp(1, sorted_us.len()) - 1;
    f64::from(sorted_us[i]) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u32> = (1..=100).map(|i| i * 1000).collect();
        assert_eq!(percentile_ms(&v, 50.0), 50.0);
        assert_eq!(percentile_ms(&v, 99.0), 99.0);
        assert_eq!(percentile_ms(&v, 100.0), 100.0);
        assert!(percentile_ms(&[], 50.0).is_nan());
    }

    #[test]
    fn the_line_flags_a_busy_machine() {
        let r = Report {
            engine: "str0m".into(),
            pairs: 2,
            window_s: 1.0,
            sent: 10,
            received: 9,
            forwarded: 9,
            p50_ms: 0.5,
            p99_ms: 1.0,
            max_ms: 2.0,
            cpu_pct: 3.0,
            us_per_pkt: 4.0,
            setup_s: 0.1,
            rss_mb: 5.0,
            rss_kib_per_pair: 6.0,
            udp_drops: 0,
            gen_cpu_pct: 7.0,
            fwd_wait_pct: 8.0,
            gen_wait_pct: 9.0,
            load: 1.5,
            busy: true,
        };
        let line = r.to_string();
        assert!(
            line.starts_with("engine=str0m pairs=2 window_s=1.0 sent=10 lost=1 "),
            "{line}"
        );
        assert!(line.ends_with("load=1.50 BUSY"), "{line}");
    }
}
