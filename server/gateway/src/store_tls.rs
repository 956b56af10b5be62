//! When a PostgreSQL store must use TLS: a server reached across a network (not a Unix socket,
//! not loopback) carries card tokens, audit entries and ePHI, so production refuses to reach it
//! unless `sslmode` insists on TLS (`require`, `verify-full`); `disable`, `prefer` and no
//! `sslmode` at all (libpq's default, `prefer`, falls back to plain text) are refused. Start-up
//! (`crate::config`) and `hushpay doctor` use the same words.

use hushpay_store::PgUrl;
use hushpay_store::postgres::SslMode;

/// What is wrong with reaching `url` without TLS, with the fix; `None` when its server is on
/// this machine or `sslmode` insists on TLS.
pub fn plaintext_problem(url: &PgUrl) -> Option<String> {
    let hosts = url.network_hosts();
    if hosts.is_empty() || url.ssl_mode().insists_on_tls() {
        return None;
    }
    let why = match url.ssl_mode() {
        SslMode::Disable => "sslmode=disable",
        _ => "sslmode=prefer, also the default when none is set, falls back to plain text",
    };
    Some(format!(
        "PostgreSQL at {} is reached across the network without TLS ({why}): add \
         `sslmode=verify-full` to `store` (with `sslrootcert=/path/to/ca.pem` when a private \
         CA signed the server's certificate), or reach PostgreSQL on loopback or a Unix socket",
        hosts.join(", ")
    ))
}

/// A warning for `sslmode=require` across a network: encrypted, but the server is not
/// authenticated.
pub fn unverified_warning(url: &PgUrl) -> Option<String> {
    let hosts = url.network_hosts();
    (!hosts.is_empty() && url.ssl_mode() == SslMode::Require).then(|| {
        format!(
            "PostgreSQL at {}: sslmode=require encrypts but accepts any certificate (an active \
             man in the middle is not stopped): sslmode=verify-full also checks it",
            hosts.join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn url(s: &str) -> PgUrl {
        PgUrl::parse(s).unwrap()
    }

    #[test]
    fn a_network_server_needs_an_sslmode_that_insists_on_tls() {
        for (s, says) in [
            ("postgres://hp@db.example/hushpay", "sslmode=prefer"),
            (
                "postgres://hp@db.example/hushpay?sslmode=prefer",
                "falls back to plain text",
            ),
            (
                "postgres://hp@10.1.2.3/hushpay?sslmode=disable",
                "sslmode=disable",
            ),
        ] {
            let problem = plaintext_problem(&url(s)).unwrap();
            assert!(problem.contains(says), "{problem}");
            assert!(
                problem.contains("add `sslmode=verify-full` to `store`"),
                "{problem}"
            );
        }
        for fine in [
            "postgres://hp@db.example/hushpay?sslmode=verify-full",
            "postgres://hp@db.example/hushpay?sslmode=require",
            "postgres://hp@127.0.0.1/hushpay",
            "postgres://hp@localhost/hushpay?sslmode=disable",
            "host=/var/run/postgresql user=hp dbname=hushpay",
        ] {
            assert_eq!(plaintext_problem(&url(fine)), None, "{fine}");
        }
    }

    #[test]
    fn require_across_a_network_is_worth_a_warning() {
        let w = unverified_warning(&url("postgres://hp@db.example/x?sslmode=require")).unwrap();
        assert!(w.contains("verify-full"), "{w}");
        assert_eq!(
            unverified_warning(&url("postgres://hp@127.0.0.1/x?sslmode=require")),
            None
        );
        assert_eq!(
            unverified_warning(&url("postgres://hp@db.example/x?sslmode=verify-full")),
            None
        );
    }
}
