//! SFU settings with defaults (LiveKit style: each component owns its config struct) and the
//! per-connection message rate limiter.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::config_error::ConfigError;

/// The media engine's UDP port unless configured (LiveKit's too).
pub const DEFAULT_UDP_PORT: u16 = 7882;

/// The `[rtc]` section as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRtc {
    /// IP the media sockets bind (default 127.0.0.1; set the host's address to serve others).
    pub media_ip: Option<IpAddr>,
    /// The one UDP port every peer reaches (default 7882, as LiveKit; 0 picks a free one).
    pub udp_port: Option<u16>,
    /// A TCP port for ICE-TCP, for networks that block UDP (default: none).
    pub tcp_port: Option<u16>,
    /// Media worker threads (default 1), each on its own ports: `udp_port + i`, `tcp_port + i`.
    pub workers: Option<usize>,
    /// The address host candidates advertise instead of `media_ip` (a 1:1 NAT's public IP).
    pub public_ip: Option<IpAddr>,
    /// `host:port` of a STUN server asked for the public address at start-up when
    /// `public_ip` is not set.
    pub stun_server: Option<String>,
    /// How long start-up waits for the STUN answer (default 3000 ms).
    pub stun_timeout_ms: Option<u64>,
    pub max_participants_per_room: Option<usize>,
    pub max_rooms_per_tenant: Option<usize>,
    pub max_message_bytes: Option<usize>,
    pub max_chat_bytes: Option<usize>,
    pub messages_per_sec: Option<u32>,
    pub empty_room_grace_ms: Option<u64>,
    pub idle_timeout_secs: Option<u64>,
    pub credential_recheck_secs: Option<u64>,
}

impl RawRtc {
    pub fn validate(self) -> Result<SfuConfig, ConfigError> {
        let d = SfuConfig::default();
        let invalid = |key: &'static str, reason: &str| ConfigError::Invalid {
            key,
            reason: reason.to_owned(),
        };
        if let Some(ip) = self.media_ip
            && ip.is_unspecified()
        {
            return Err(invalid(
                "rtc.media_ip",
                "must be a concrete address (a wildcard bind skips loopback and yields no usable candidate)",
            ));
        }
        if let Some(ip) = self.public_ip
            && (ip.is_unspecified() || ip.is_multicast())
        {
            return Err(invalid("rtc.public_ip", "must be a unicast address"));
        }
        if let Some(server) = &self.stun_server
            && !is_host_port(server)
        {
            return Err(invalid(
                "rtc.stun_server",
                "must be HOST:PORT (e.g. stun.example.org:3478)",
            ));
        }
        let stun_timeout = self
            .stun_timeout_ms
            .map_or(d.stun_timeout, Duration::from_millis);
        if !(Duration::from_millis(100)..=Duration::from_secs(30)).contains(&stun_timeout) {
            return Err(invalid("rtc.stun_timeout_ms", "must be 100 to 30000 ms"));
        }
        let c = SfuConfig {
            media_ip: self.media_ip.unwrap_or(d.media_ip),
            udp_port: self.udp_port.unwrap_or(d.udp_port),
            tcp_port: self.tcp_port,
            workers: self.workers.unwrap_or(d.workers),
            public_ip: self.public_ip,
            stun_server: self.stun_server,
            stun_timeout,
            max_participants_per_room: self
                .max_participants_per_room
                .unwrap_or(d.max_participants_per_room),
            max_rooms_per_tenant: self.max_rooms_per_tenant.unwrap_or(d.max_rooms_per_tenant),
            max_message_bytes: self.max_message_bytes.unwrap_or(d.max_message_bytes),
            max_chat_bytes: self.max_chat_bytes.unwrap_or(d.max_chat_bytes),
            messages_per_sec: self.messages_per_sec.unwrap_or(d.messages_per_sec),
            empty_room_grace: self
                .empty_room_grace_ms
                .map_or(d.empty_room_grace, Duration::from_millis),
            idle_timeout: self
                .idle_timeout_secs
                .map_or(d.idle_timeout, Duration::from_secs),
            credential_recheck: self
                .credential_recheck_secs
                .map_or(d.credential_recheck, Duration::from_secs),
            ..d
        };
        if c.credential_recheck.is_zero() || c.credential_recheck > Duration::from_secs(300) {
            return Err(invalid(
                "rtc.credential_recheck_secs",
                "must be 1 to 300 seconds",
            ));
        }
        if !(1..=64).contains(&c.workers) {
            return Err(invalid("rtc.workers", "must be 1 to 64"));
        }
        let last = usize::from(c.udp_port) + c.workers - 1;
        let last_tcp = c.tcp_port.map_or(0, usize::from) + c.workers - 1;
        if (c.udp_port != 0 && last > usize::from(u16::MAX))
            || (c.tcp_port.is_some_and(|p| p != 0) && last_tcp > usize::from(u16::MAX))
        {
            return Err(invalid("rtc.workers", "the workers' ports run past 65535"));
        }
        if c.max_participants_per_room < 2 {
            return Err(invalid(
                "rtc.max_participants_per_room",
                "must be at least 2",
            ));
        }
        if !(4096..=1024 * 1024).contains(&c.max_message_bytes) {
            return Err(invalid("rtc.max_message_bytes", "must be 4 KiB to 1 MiB"));
        }
        if c.messages_per_sec == 0 || c.max_rooms_per_tenant == 0 {
            return Err(invalid("rtc", "limits must be positive"));
        }
        Ok(c)
    }
}

/// `host:port` with a non-empty host and a numeric port.
fn is_host_port(s: &str) -> bool {
    s.rsplit_once(':').is_some_and(|(host, port)| {
        !host.trim_matches(['[', ']']).is_empty()
            && !host.contains(char::is_whitespace)
            && port.parse::<u16>().is_ok_and(|p| p != 0)
    })
}

/// Limits and network settings of the SFU.
#[derive(Debug, Clone)]
pub struct SfuConfig {
    /// Address the media engine's sockets bind to.
    pub media_ip: IpAddr,
    /// The engine's UDP port (0: any free one).
    pub udp_port: u16,
    /// When `udp_port` is taken, take any free port instead of failing (development).
    pub udp_port_fallback: bool,
    /// The engine's ICE-TCP port, if any (0: any free one).
    pub tcp_port: Option<u16>,
    /// Media workers ([`super::workers`]); worker `i` binds `udp_port + i` and `tcp_port + i`.
    pub workers: usize,
    /// Address host candidates advertise instead of `media_ip` (configured, or found by STUN
    /// at start-up); `None` advertises `media_ip`.
    pub public_ip: Option<IpAddr>,
    /// STUN server asked for `public_ip` at start-up when it is not configured.
    pub stun_server: Option<String>,
    pub stun_timeout: Duration,
    /// TURN servers and the secret shared with them (`[turn]`, crate::ice::turn).
    pub turn: crate::ice::turn::TurnConfig,
    pub max_participants_per_room: usize,
    pub max_rooms_per_tenant: usize,
    /// Largest signalling frame accepted (SDP offers included).
    pub max_message_bytes: usize,
    /// Largest chat message (bytes of UTF-8).
    pub max_chat_bytes: usize,
    /// Signalling and chat messages per second (burst = 2x).
    pub messages_per_sec: u32,
    /// How long an empty room stays open for a participant to come back.
    pub empty_room_grace: Duration,
    /// A socket that sends nothing (not even `ping`) for this long is closed.
    pub idle_timeout: Duration,
    /// Time allowed for the first frame when the token is not in the URL or header.
    pub auth_timeout: Duration,
    /// How often a connected session re-checks its token's API key in the store (catches a
    /// revocation made on another node or with `hushpay apikey revoke`).
    pub credential_recheck: Duration,
}

impl SfuConfig {
    /// Worker `i`'s addresses: UDP on `media_ip:udp_port + i`, ICE-TCP on
    /// `media_ip:tcp_port + i` (a port 0 stays 0: any free one).
    pub fn endpoint(&self, i: usize) -> hushpay_rtc::EndpointConfig {
        let offset = |port: u16| {
            if port == 0 {
                0
            } else {
                u16::try_from(usize::from(port) + i).unwrap_or(0)
            }
        };
        let mut c = hushpay_rtc::EndpointConfig::udp(std::net::SocketAddr::new(
            self.media_ip,
            offset(self.udp_port),
        ));
        c.tcp = self
            .tcp_port
            .map(|p| std::net::SocketAddr::new(self.media_ip, offset(p)));
        c
    }
}

impl Default for SfuConfig {
    fn default() -> Self {
        Self {
            media_ip: IpAddr::from([127, 0, 0, 1]),
            udp_port: DEFAULT_UDP_PORT,
            udp_port_fallback: false,
            tcp_port: None,
            workers: 1,
            public_ip: None,
            stun_server: None,
            stun_timeout: Duration::from_secs(3),
            turn: crate::ice::turn::TurnConfig::default(),
            max_participants_per_room: 8,
            max_rooms_per_tenant: 1000,
            max_message_bytes: 64 * 1024,
            max_chat_bytes: 4 * 1024,
            messages_per_sec: 20,
            empty_room_grace: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(60),
            auth_timeout: Duration::from_secs(10),
            credential_recheck: Duration::from_secs(30),
        }
    }
}

impl SfuConfig {
    /// How host candidates are rewritten, when a public address is known.
    pub fn advertise(&self) -> Option<crate::ice::advertise::Advertise> {
        self.public_ip
            .map(|public| crate::ice::advertise::Advertise {
                bind: self.media_ip,
                public,
            })
    }
}

/// A token bucket: `rate` per second with a burst of `2 * rate`. Time is an input.
#[derive(Debug, Clone)]
pub struct RateLimiter {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Option<Instant>,
}

impl RateLimiter {
    pub fn new(rate_per_sec: u32) -> Self {
        let rate = f64::from(rate_per_sec.max(1));
        Self {
            rate,
            burst: rate * 2.0,
            tokens: rate * 2.0,
            last: None,
        }
    }

    /// True if one more message is allowed at `now`.
    pub fn allow(&mut self, now: Instant) -> bool {
        if let Some(last) = self.last {
            let dt = now.saturating_duration_since(last).as_secs_f64();
            self.tokens = (self.tokens + dt * self.rate).min(self.burst);
        }
        self.last = Some(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn public_ip_and_stun_server_are_checked() {
        let raw = |public: Option<&str>, stun: Option<&str>| RawRtc {
            public_ip: public.map(|p| p.parse().unwrap()),
            stun_server: stun.map(str::to_owned),
            ..RawRtc::default()
        };
        let c = raw(Some("203.0.113.9"), Some("stun.example.org:3478"))
            .validate()
            .unwrap();
        let adv = c.advertise().unwrap();
        assert_eq!(adv.public.to_string(), "203.0.113.9");
        assert_eq!(adv.bind, c.media_ip);
        assert!(raw(None, None).validate().unwrap().advertise().is_none());
        assert!(raw(Some("0.0.0.0"), None).validate().is_err());
        for bad in [
            "stun.example.org",
            "stun:stun.example.org:3478x",
            ":3478",
            "h:0",
        ] {
            let e = raw(None, Some(bad)).validate().unwrap_err().to_string();
            assert!(e.contains("rtc.stun_server"), "{bad}: {e}");
        }
        assert!(raw(None, Some("[2001:db8::1]:3478")).validate().is_ok());
    }

    #[test]
    fn bucket_allows_burst_then_refills() {
        let t0 = Instant::now();
        let mut r = RateLimiter::new(10);
        let allowed = (0..30).filter(|_| r.allow(t0)).count();
        assert_eq!(allowed, 20);
        assert!(!r.allow(t0));
        assert!(r.allow(t0 + Duration::from_millis(100)));
        assert!(!r.allow(t0 + Duration::from_millis(100)));
    }
}
