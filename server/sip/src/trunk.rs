//! Trunks: who may send calls in. A trunk belongs to one tenant and is authorised by its source
//! address allowlist, by digest credentials, or by both (then a request must come from an allowed
//! address *and* authenticate).

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

use crate::SipError;

/// An address block, `192.0.2.0/24`, `2001:db8::/32` or a single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        // an IPv4 peer on a dual-stack socket arrives as ::ffff:a.b.c.d
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl FromStr for Cidr {
    type Err = SipError;

    fn from_str(s: &str) -> Result<Self, SipError> {
        let bad = || SipError::Config(format!("not an address or CIDR block: {s:?}"));
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None => max,
        };
        if prefix > max {
            return Err(bad());
        }
        Ok(Cidr { addr, prefix })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// A digest algorithm of RFC 8760.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    Sha256,
    Md5,
}

impl DigestAlgorithm {
    pub fn token(self) -> &'static str {
        match self {
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Md5 => "MD5",
        }
    }
}

impl FromStr for DigestAlgorithm {
    type Err = SipError;

    fn from_str(s: &str) -> Result<Self, SipError> {
        match s.to_ascii_uppercase().as_str() {
            "SHA-256" => Ok(DigestAlgorithm::Sha256),
            "MD5" => Ok(DigestAlgorithm::Md5),
            _ => Err(SipError::Config(format!("unknown digest algorithm {s:?}"))),
        }
    }
}

/// Credentials a trunk authenticates with. `Debug` hides the password.
#[derive(Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    pub username: String,
    pub password: String,
    /// Offered in this order in the 401 (the first is the preferred one).
    pub algorithms: Vec<DigestAlgorithm>,
}

impl fmt::Debug for DigestCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DigestCredentials")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("algorithms", &self.algorithms)
            .finish()
    }
}

/// One SIP trunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    pub name: String,
    pub tenant: String,
    /// Source addresses allowed; empty means any source (then `digest` is required).
    pub sources: Vec<Cidr>,
    pub digest: Option<DigestCredentials>,
    /// Most calls alive at once on this trunk.
    pub max_calls: usize,
}

impl Trunk {
    pub(crate) fn validate(&self) -> Result<(), SipError> {
        let err = |m: &str| Err(SipError::Config(format!("trunk {}: {m}", self.name)));
        if self.name.is_empty() || self.tenant.is_empty() {
            return err("name and tenant are required");
        }
        if self.sources.is_empty() && self.digest.is_none() {
            return err("needs a source allowlist or digest credentials (or both)");
        }
        if let Some(d) = &self.digest {
            if d.username.is_empty() || d.password.is_empty() || d.algorithms.is_empty() {
                return err("digest needs a username, a password and an algorithm");
            }
            if d.username.contains(['"', '\\', '\r', '\n']) {
                return err("digest username must be plain text");
            }
        }
        if self.max_calls == 0 {
            return err("max_calls must be at least 1");
        }
        Ok(())
    }

    /// Whether a request from `ip` may be considered for this trunk at all.
    pub fn admits_source(&self, ip: IpAddr) -> bool {
        self.sources.is_empty() || self.sources.iter().any(|c| c.contains(ip))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn cidr_matching() {
        let c: Cidr = "192.0.2.0/24".parse().unwrap();
        assert!(c.contains("192.0.2.77".parse().unwrap()));
        assert!(!c.contains("192.0.3.1".parse().unwrap()));
        assert!(c.contains("::ffff:192.0.2.1".parse().unwrap()));
        let one: Cidr = "10.1.2.3".parse().unwrap();
        assert!(one.contains("10.1.2.3".parse().unwrap()));
        assert!(!one.contains("10.1.2.4".parse().unwrap()));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains("203.0.113.9".parse().unwrap()));
        let v6: Cidr = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        assert!(!v6.contains("192.0.2.1".parse().unwrap()));
        for bad in ["", "1.2.3.4/33", "::/129", "x/8", "1.2.3.4/-1", "1.2.3/8"] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn credentials_debug_hides_password() {
        let d = DigestCredentials {
            username: "carrier".into(),
            password: "s3cret-pw".into(),
            algorithms: vec![DigestAlgorithm::Md5],
        };
        assert!(!format!("{d:?}").contains("s3cret-pw"));
    }
}
