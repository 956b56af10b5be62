//! What `/proc` says about a process (Linux): CPU time, resident memory, and the machine's load
//! average.

use std::fs;

/// Clock ticks per second of `/proc/PID/stat` times (`USER_HZ`, 100 on Linux x86-64/arm64).
const TICKS_PER_SECOND: u64 = 100;

/// `/proc` read failures.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} has an unexpected format")]
    Format(String),
}

fn read(path: String) -> Result<String, ProcError> {
    fs::read_to_string(&path).map_err(|source| ProcError::Read { path, source })
}

/// User plus system CPU time of process `pid` (all its threads, live and exited), in µs.
pub fn cpu_us(pid: u32) -> Result<u64, ProcError> {
    let path = format!("/proc/{pid}/stat");
    let stat = read(path.clone())?;
    // the command name may hold spaces: fields are counted after its closing parenthesis
    let after = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .ok_or_else(|| ProcError::Format(path.clone()))?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // after ')' field 0 is state (field 3 of the man page): utime is 14, stime 15
    let tick = |i: usize| -> Result<u64, ProcError> {
        fields
            .get(i)
            .and_then(|f| f.parse().ok())
            .ok_or_else(|| ProcError::Format(path.clone()))
    };
    Ok((tick(11)? + tick(12)?) * 1_000_000 / TICKS_PER_SECOND)
}

/// Resident set size of process `pid`, in KiB.
pub fn rss_kib(pid: u32) -> Result<u64, ProcError> {
    let path = format!("/proc/{pid}/status");
    let status = read(path.clone())?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or(ProcError::Format(path))
}

/// The 1-minute load average.
pub fn load_1min() -> Result<f64, ProcError> {
    let path = "/proc/loadavg".to_owned();
    let s = read(path.clone())?;
    s.split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .ok_or(ProcError::Format(path))
}

/// Time the threads of process `pid` spent runnable but waiting for a CPU (the sum of the
/// second field of `/proc/PID/task/*/schedstat`), in µs: how much a co-tenant took from it.
pub fn run_delay_us(pid: u32) -> Result<u64, ProcError> {
    let dir = format!("/proc/{pid}/task");
    let tasks = fs::read_dir(&dir).map_err(|source| ProcError::Read {
        path: dir.clone(),
        source,
    })?;
    let mut total_ns = 0u64;
    for task in tasks.flatten() {
        // a thread may exit between the listing and the read: skip it
        let Ok(stat) = fs::read_to_string(task.path().join("schedstat")) else {
            continue;
        };
        total_ns += stat
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| ProcError::Format(format!("{dir}/*/schedstat")))?;
    }
    Ok(total_ns / 1000)
}

/// The machine's count of UDP datagrams dropped for a full socket receive buffer
/// (`/proc/net/snmp`, `Udp: RcvbufErrors`).
pub fn udp_rcvbuf_errors() -> Result<u64, ProcError> {
    let path = "/proc/net/snmp".to_owned();
    let snmp = read(path.clone())?;
    let mut udp = snmp.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
        return Err(ProcError::Format(path));
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(n, _)| *n == "RcvbufErrors")
        .and_then(|(_, v)| v.parse().ok())
        .ok_or(ProcError::Format(path))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let me = std::process::id();
        // burn a little CPU so the count is not trivially zero
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < std::time::Duration::from_millis(50) {
            x = x.wrapping_mul(31).wrapping_add(1);
        }
        assert!(x != 1);
        assert!(cpu_us(me).unwrap() >= 10_000);
        assert!(rss_kib(me).unwrap() > 100);
        assert!(load_1min().unwrap() >= 0.0);
        udp_rcvbuf_errors().unwrap();
        run_delay_us(me).unwrap();
    }
}
