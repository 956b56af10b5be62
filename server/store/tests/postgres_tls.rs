//! TLS to PostgreSQL against a server this test starts itself (Debian's binaries, its own
//! data directory and port, `ssl = on` with a self-signed certificate for
//! `pg.hushpay.test`, TCP connections over TLS only): `verify-full` with the right CA
//! migrates and stores; a wrong CA or a wrong host name fails naming the reason; `require`
//! and `prefer` connect without checking the certificate; `disable` is turned away by the
//! server. Skipped, saying so, only when no PostgreSQL server binaries are installed.
#![cfg(feature = "postgres")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod pg_tls_server;

use hushpay_store::{PgStore, PgUrl, Tenant, TenantId, TenantStore};
use pg_tls_server::{ServerCertificate, TlsServer, server_binaries};

/// The name in the server's certificate; connections reach it through `hostaddr`.
const SERVER_NAME: &str = "pg.hushpay.test";

fn self_signed(name: &str) -> (ServerCertificate, String) {
    let cert = rcgen::generate_simple_self_signed(vec![name.to_owned()]).unwrap();
    let pem = cert.cert.pem();
    let server = ServerCertificate {
        cert_pem: pem.clone(),
        key_pem: cert.signing_key.serialize_pem(),
    };
    (server, pem)
}

async fn open(url: &str) -> Result<PgStore, String> {
    let url = PgUrl::parse(url).map_err(|e| e.to_string())?;
    PgStore::open(&url).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn connects_over_tls_as_sslmode_says() {
    let Some(bin) = server_binaries() else {
        eprintln!(
            "SKIPPED postgres_tls: no PostgreSQL server binaries in /usr/lib/postgresql/*/bin \
             (scripts/setup.sh installs the Debian package `postgresql`)"
        );
        return;
    };
    let (cert, ca_pem) = self_signed(SERVER_NAME);
    let (_, other_ca_pem) = self_signed(SERVER_NAME);
    let server = TlsServer::start(&bin, &cert);
    let files = tempfile::tempdir().unwrap();
    let (ca, other_ca) = (files.path().join("ca.pem"), files.path().join("other.pem"));
    std::fs::write(&ca, ca_pem).unwrap();
    std::fs::write(&other_ca, other_ca_pem).unwrap();
    let url = |host: &str, params: &str| {
        format!(
            "postgres://postgres@{host}:{}/postgres?hostaddr=127.0.0.1&{params}",
            server.port
        )
    };

    // verify-full with the CA that issued the certificate: migrations run, a write reads back
    let store = open(&url(
        SERVER_NAME,
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    ))
    .await
    .expect("verify-full with the right CA");
    let tenant = Tenant {
        id: TenantId::new("ten_tls"),
        name: "tls-clinic".into(),
        created_at: 1_700_000_000,
        allowed_origins: vec!["https://portal.example".into()],
        require_consent_by_default: true,
        agent_desktop_origins: vec![],
        default_locale: None,
    };
    store.insert_tenant(&tenant).await.unwrap();
    assert_eq!(store.tenant(&tenant.id).await.unwrap(), Some(tenant));
    drop(store);

    // verify-full with a CA that did not issue it
    let err = open(&url(
        SERVER_NAME,
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    ))
    .await
    .expect_err("verify-full with a foreign CA must fail");
    // (both certificates carry rcgen's issuer name, so the chain is tried and its
    // signature fails; an issuer of another name is `UnknownIssuer`)
    assert!(
        err.contains("invalid peer certificate")
            && (err.contains("BadSignature") || err.contains("UnknownIssuer")),
        "{err}"
    );
    assert!(err.contains("other.pem"), "names the CA file: {err}");

    // verify-full with the right CA, but a host name the certificate does not carry
    let err = open(&url(
        "db.elsewhere.test",
        &format!("sslmode=verify-full&sslrootcert={}", ca.display()),
    ))
    .await
    .expect_err("verify-full with a wrong host name must fail");
    assert!(
        err.contains("invalid peer certificate") && err.contains("not valid for name"),
        "{err}"
    );

    // require and prefer: encrypted, certificate not checked (the host name is wrong too)
    for mode in ["require", "prefer"] {
        let store = open(&url("db.elsewhere.test", &format!("sslmode={mode}")))
            .await
            .unwrap_or_else(|e| panic!("sslmode={mode}: {e}"));
        store.ping().await.unwrap();
    }

    // disable: the server accepts TCP connections over TLS only
    let err = open(&url(SERVER_NAME, "sslmode=disable"))
        .await
        .expect_err("a plain-text connection to a hostssl-only server must be refused");
    assert!(
        err.contains("28000") && err.contains("no encryption"),
        "{err}"
    );
    drop(server);
}
