//! Host candidates as the world should see them: with `rtc.public_ip` set (or found by STUN),
//! every host candidate the gateway signals carries the public address instead of the bind
//! address, the way a 1:1 NAT (a cloud VM's elastic IP) forwards it. The port stays: a 1:1 NAT
//! keeps ports. Candidates of other types and other addresses pass unchanged.

use std::net::IpAddr;

/// What host candidates advertise: `public` in place of `bind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advertise {
    pub bind: IpAddr,
    pub public: IpAddr,
}

impl Advertise {
    /// `candidate` (`candidate:F C PROTO PRIO ADDR PORT typ host ...`, with or without an
    /// `a=` prefix) with the public address when it is a host candidate on the bind address.
    pub fn candidate(&self, candidate: &str) -> String {
        let fields: Vec<&str> = candidate.split(' ').collect();
        let is_host = fields.get(6) == Some(&"typ") && fields.get(7) == Some(&"host");
        let on_bind = fields
            .get(4)
            .and_then(|a| a.parse::<IpAddr>().ok())
            .is_some_and(|a| a == self.bind);
        if !(is_host && on_bind) {
            return candidate.to_owned();
        }
        let public = self.public.to_string();
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| if i == 4 { public.as_str() } else { f })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// `sdp` with each `a=candidate:` line passed through [`Advertise::candidate`] and each
    /// `c=` line naming the bind address naming the public one.
    pub fn sdp(&self, sdp: &str) -> String {
        let mut out = String::with_capacity(sdp.len());
        let bind_c = format!("c=IN {} {}", family(self.bind), self.bind);
        for line in sdp.split_inclusive('\n') {
            let body = line.trim_end_matches(['\r', '\n']);
            let end = &line[body.len()..];
            if body.starts_with("a=candidate:") {
                out.push_str(&self.candidate(body));
            } else if body == bind_c {
                out.push_str(&format!("c=IN {} {}", family(self.public), self.public));
            } else {
                out.push_str(body);
            }
            out.push_str(end);
        }
        out
    }
}

fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IP4" } else { "IP6" }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn adv() -> Advertise {
        Advertise {
            bind: "10.0.1.5".parse().unwrap(),
            public: "203.0.113.9".parse().unwrap(),
        }
    }

    #[test]
    fn host_candidates_on_the_bind_address_carry_the_public_one() {
        let c = "candidate:1234 1 udp 2130706431 10.0.1.5 50000 typ host";
        assert_eq!(
            adv().candidate(c),
            "candidate:1234 1 udp 2130706431 203.0.113.9 50000 typ host"
        );
        let tcp = "candidate:9 1 tcp 1671430143 10.0.1.5 9 typ host tcptype passive";
        assert_eq!(
            adv().candidate(tcp),
            "candidate:9 1 tcp 1671430143 203.0.113.9 9 typ host tcptype passive"
        );
    }

    #[test]
    fn other_candidates_pass_unchanged() {
        for c in [
            "candidate:1 1 udp 1694498815 198.51.100.1 50000 typ srflx raddr 10.0.1.5 rport 50000",
            "candidate:1 1 udp 2130706431 10.0.1.6 50000 typ host",
            "candidate:1 1 udp 16777215 10.0.1.5 50000 typ relay raddr 0.0.0.0 rport 0",
            "garbage",
            "",
        ] {
            assert_eq!(adv().candidate(c), c);
        }
    }

    #[test]
    fn sdp_candidate_and_connection_lines_are_rewritten_and_line_ends_kept() {
        let sdp = "v=0\r\nc=IN IP4 10.0.1.5\r\na=candidate:1 1 udp 2130706431 10.0.1.5 5 typ host\r\na=x\n";
        assert_eq!(
            adv().sdp(sdp),
            "v=0\r\nc=IN IP4 203.0.113.9\r\na=candidate:1 1 udp 2130706431 203.0.113.9 5 typ host\r\na=x\n"
        );
    }
}
