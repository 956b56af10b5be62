//! What the gateway reaches and binds: the store (reachable, schema migrated), NATS with
//! JetStream (`[cluster]`), the TURN servers handed to participants, the STUN server that
//! finds the public address, and the ports `serve` listens on. Each remote is asked once with
//! a short deadline; each port is bound and released at once.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use hushpay_store::{PgStore, SqliteStore};

use super::{Level, Report};
use crate::config::{Config, Mode, StoreLocation};

/// How long one remote (PostgreSQL, NATS, a TURN or STUN server) may take to answer.
const DEADLINE: Duration = Duration::from_secs(3);

pub(super) async fn store(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "store";
    let (found, current, name) = match &config.store {
        StoreLocation::Memory => {
            report.warn(
                SUBJECT,
                "in memory: every record is lost when the gateway stops",
            );
            return;
        }
        StoreLocation::Sqlite(path) => {
            if !path.exists() {
                report.warn(
                    SUBJECT,
                    format!(
                        "SQLite {} does not exist yet: the first start creates it",
                        path.display()
                    ),
                );
                return;
            }
            match SqliteStore::schema_version_of(path) {
                Ok(v) => (
                    v,
                    SqliteStore::SCHEMA_VERSION,
                    format!("SQLite {}", path.display()),
                ),
                Err(e) => {
                    report.fix(
                        SUBJECT,
                        format!("cannot read SQLite {}: {e}", path.display()),
                    );
                    return;
                }
            }
        }
        StoreLocation::Postgres(url) => {
            if let Some(problem) = crate::store_tls::plaintext_problem(url) {
                report.fix_in_production(config.mode, SUBJECT, problem);
            } else if let Some(warning) = crate::store_tls::unverified_warning(url) {
                report.warn(SUBJECT, warning);
            }
            match tokio::time::timeout(DEADLINE, PgStore::schema_version_of(url)).await {
                Ok(Ok(v)) => (v, PgStore::SCHEMA_VERSION, format!("PostgreSQL {url}")),
                Ok(Err(e)) => {
                    report.fix(
                        SUBJECT,
                        format!(
                            "cannot reach PostgreSQL {url}: {e} (is it running and reachable, \
                             and may this user log in?)"
                        ),
                    );
                    return;
                }
                Err(_) => {
                    report.fix(
                        SUBJECT,
                        format!(
                            "PostgreSQL {url} did not answer within {} s (host, port, firewall?)",
                            DEADLINE.as_secs()
                        ),
                    );
                    return;
                }
            }
        }
    };
    match found.cmp(&current) {
        std::cmp::Ordering::Equal => {
            report.ok(
                SUBJECT,
                format!("{name}: reachable, schema version {found}"),
            );
        }
        std::cmp::Ordering::Less if found == 0 => report.warn(
            SUBJECT,
            format!("{name}: reachable, not migrated yet: the first start creates the schema"),
        ),
        std::cmp::Ordering::Less => report.warn(
            SUBJECT,
            format!(
                "{name}: schema version {found}, this build migrates it to {current} at start: \
                 back the store up first"
            ),
        ),
        std::cmp::Ordering::Greater => report.fix(
            SUBJECT,
            format!(
                "{name}: schema version {found} was written by a newer build (this one knows \
                 {current}): run that build, or restore a backup"
            ),
        ),
    }
}

pub(super) async fn nats(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "cluster.nats_url";
    let Some(cluster) = &config.cluster else {
        return;
    };
    let url = &cluster.nats_url;
    let connected = async_nats::ConnectOptions::new()
        .name("hushpay-doctor")
        .connection_timeout(DEADLINE)
        .connect(url.as_str())
        .await;
    let client = match connected {
        Ok(client) => client,
        Err(e) => {
            report.fix(
                SUBJECT,
                format!("cannot connect to NATS at {url}: {e} (is nats-server running?)"),
            );
            return;
        }
    };
    // The JetStream API's account request, read as plain JSON (no responders: JetStream off).
    let asked = tokio::time::timeout(DEADLINE, client.request("$JS.API.INFO", "".into())).await;
    let answer = match asked {
        Ok(Ok(message)) => serde_json::from_slice::<serde_json::Value>(&message.payload).ok(),
        Ok(Err(_)) | Err(_) => None,
    };
    match answer {
        Some(info) if info.get("error").is_none() => {
            report.ok(SUBJECT, format!("{url}: NATS with JetStream"));
        }
        Some(info) => report.fix(
            SUBJECT,
            format!(
                "NATS at {url} refuses JetStream requests ({}): enable JetStream for this account",
                info["error"]["description"].as_str().unwrap_or("error")
            ),
        ),
        None => report.fix(
            SUBJECT,
            format!("NATS at {url} answers without JetStream: start it with --jetstream"),
        ),
    }
    drop(client);
}

/// A `turn:`/`turns:`/`stun:` URL's server: host, port and transport.
#[derive(Debug, PartialEq, Eq)]
struct IceTarget {
    host_port: String,
    tcp: bool,
    tls: bool,
}

fn ice_target(url: &str) -> Option<IceTarget> {
    let (scheme, rest) = url.split_once(':')?;
    let (host, query) = rest.split_once('?').unwrap_or((rest, ""));
    let tls = scheme == "turns";
    let tcp = tls || query == "transport=tcp";
    let default_port = if tls { 5349 } else { 3478 };
    let has_port = match host.rfind(']') {
        Some(close) => host[close..].contains(':'),
        None => host.contains(':'),
    };
    let host_port = if has_port {
        host.to_owned()
    } else {
        format!("{host}:{default_port}")
    };
    Some(IceTarget {
        host_port,
        tcp,
        tls,
    })
}

pub(super) async fn turn(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "turn.urls";
    for url in config.sfu.turn.urls() {
        let Some(target) = ice_target(url) else {
            report.fix(SUBJECT, format!("`{url}` is not a turn:/turns:/stun: URL"));
            continue;
        };
        if target.tcp {
            match tokio::time::timeout(DEADLINE, tokio::net::TcpStream::connect(&target.host_port))
                .await
            {
                Ok(Ok(_)) if target.tls => report.ok(
                    SUBJECT,
                    format!("{url}: TCP connection accepted (TLS not checked)"),
                ),
                Ok(Ok(_)) => report.ok(SUBJECT, format!("{url}: TCP connection accepted")),
                Ok(Err(e)) => report.fix(SUBJECT, format!("{url}: cannot connect: {e}")),
                Err(_) => report.fix(
                    SUBJECT,
                    format!("{url}: no TCP answer within {} s", DEADLINE.as_secs()),
                ),
            }
        } else {
            match stun_answer(&target.host_port).await {
                Ok(_) => report.ok(SUBJECT, format!("{url}: answers STUN over UDP")),
                Err(e) => report.fix(
                    SUBJECT,
                    format!("{url}: {e} (is the TURN server running, its UDP port open?)"),
                ),
            }
        }
    }
}

/// A STUN binding request from any local address (IPv4 first, then IPv6).
async fn stun_answer(server: &str) -> Result<SocketAddr, crate::ice::stun::StunError> {
    let v4 = crate::ice::stun::discover(server, IpAddr::V4(Ipv4Addr::UNSPECIFIED), DEADLINE).await;
    match v4 {
        Err(crate::ice::stun::StunError::Resolve { .. }) => {
            crate::ice::stun::discover(server, IpAddr::V6(Ipv6Addr::UNSPECIFIED), DEADLINE).await
        }
        other => other,
    }
}

/// `rtc.stun_server` (without `rtc.public_ip`): `serve` asks it for the public address from
/// `media_ip` and refuses to start without an answer.
pub(super) async fn stun(config: &Config, report: &mut Report) {
    const SUBJECT: &str = "rtc.stun_server";
    let sfu = &config.sfu;
    if sfu.public_ip.is_some() {
        return;
    }
    let Some(server) = &sfu.stun_server else {
        return;
    };
    match crate::ice::stun::discover(server, sfu.media_ip, sfu.stun_timeout).await {
        Ok(mapped) => report.ok(
            SUBJECT,
            format!("{server}: the public address is {}", mapped.ip()),
        ),
        Err(e) => report.fix(
            SUBJECT,
            format!(
                "{e}: serve would not start (set rtc.public_ip, or fix the server or firewall)"
            ),
        ),
    }
}

/// The HTTP listener(s) and every media worker's UDP and ICE-TCP port.
pub(super) fn ports(config: &Config, report: &mut Report) {
    tcp_port("server.listen", config.listen, Level::Fix, report);
    if let Some(addr) = config.metrics.listen {
        tcp_port("server.metrics_listen", addr, Level::Fix, report);
    }
    let sfu = &config.sfu;
    // Development takes a free port when the configured one is taken; production refuses.
    let taken = match config.mode {
        Mode::Production => Level::Fix,
        Mode::Development => Level::Warn,
    };
    for i in 0..sfu.workers {
        let endpoint = sfu.endpoint(i);
        if endpoint.udp.port() != 0 {
            let result = std::net::UdpSocket::bind(endpoint.udp).map(drop);
            port_finding("rtc.udp_port", endpoint.udp, "UDP", result, taken, report);
        }
        if let Some(tcp) = endpoint.tcp.filter(|a| a.port() != 0) {
            tcp_port("rtc.tcp_port", tcp, taken, report);
        }
    }
}

fn tcp_port(subject: &str, addr: SocketAddr, taken: Level, report: &mut Report) {
    let result = std::net::TcpListener::bind(addr).map(drop);
    port_finding(subject, addr, "TCP", result, taken, report);
}

fn port_finding(
    subject: &str,
    addr: SocketAddr,
    proto: &str,
    result: std::io::Result<()>,
    taken: Level,
    report: &mut Report,
) {
    match result {
        Ok(()) => report.ok(subject, format!("{proto} {addr} is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let message = format!(
                "{proto} {addr} is in use by another process (a gateway already running?): \
                 stop it or choose another port"
            );
            match taken {
                Level::Fix => report.fix(subject, message),
                _ => report.warn(
                    subject,
                    format!("{message}; development takes a free port instead"),
                ),
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => report.fix(
            subject,
            format!("{proto} {addr}: {e}: the address is not one of this host's"),
        ),
        Err(e) => report.fix(subject, format!("cannot bind {proto} {addr}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn ice_urls_name_their_server_and_transport() {
        let t = |url| ice_target(url).unwrap();
        assert_eq!(
            t("turn:turn.example.org?transport=udp"),
            IceTarget {
                host_port: "turn.example.org:3478".into(),
                tcp: false,
                tls: false
            }
        );
        assert_eq!(
            t("turn:10.0.0.1:3479?transport=tcp").host_port,
            "10.0.0.1:3479"
        );
        assert!(t("turn:10.0.0.1:3479?transport=tcp").tcp);
        let s = t("turns:turn.example.org");
        assert_eq!(
            (s.host_port.as_str(), s.tcp, s.tls),
            ("turn.example.org:5349", true, true)
        );
        assert_eq!(t("stun:[2001:db8::1]").host_port, "[2001:db8::1]:3478");
        assert_eq!(t("stun:[2001:db8::1]:9").host_port, "[2001:db8::1]:9");
        assert!(ice_target("nonsense").is_none());
    }
}
