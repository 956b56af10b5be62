//! The gateway's counters: `GET /metrics` over a plain blocking TCP connection (the crate has
//! no HTTP client), unlabelled `hushpay_*` samples only, and their growth between two scrapes.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Counter name → value.
pub type Counters = HashMap<String, f64>;

const TIMEOUT: Duration = Duration::from_secs(5);

/// The unlabelled `hushpay_*` samples of `http://{addr}/metrics`; `None` when the scrape fails
/// (no metrics on that listener, a token required, the gateway gone).
pub fn scrape(addr: SocketAddr) -> Option<Counters> {
    let mut s = TcpStream::connect_timeout(&addr, TIMEOUT).ok()?;
    s.set_read_timeout(Some(TIMEOUT)).ok()?;
    s.set_write_timeout(Some(TIMEOUT)).ok()?;
    s.write_all(b"GET /metrics HTTP/1.0\r\nHost: loadgen\r\n\r\n")
        .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    Some(parse(&body))
}

/// The unlabelled `hushpay_*` samples of a Prometheus text exposition.
pub fn parse(text: &str) -> Counters {
    text.lines()
        .filter(|l| l.starts_with("hushpay_") && !l.contains('{'))
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_owned(), v.trim().parse().ok()?))
        })
        .collect()
}

/// `after - before` for every counter in either (a missing one counts as zero).
pub fn delta(before: &Counters, after: &Counters) -> Counters {
    before
        .keys()
        .chain(after.keys())
        .map(|k| {
            let v = after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
            (k.clone(), v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlabelled_hushpay_samples_and_their_growth() {
        let before = parse(
            "# HELP x\nhushpay_rtp_packets_in_total 10\nhushpay_rooms{tenant=\"a\"} 3\nother 1\n",
        );
        assert_eq!(before.len(), 1);
        let after = parse("hushpay_rtp_packets_in_total 25\nhushpay_digits_captured_total 2\n");
        let d = delta(&before, &after);
        assert_eq!(d.get("hushpay_rtp_packets_in_total"), Some(&15.0));
        assert_eq!(d.get("hushpay_digits_captured_total"), Some(&2.0));
    }
}
