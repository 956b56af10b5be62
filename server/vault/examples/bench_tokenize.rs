//! Durable tokenizations per second and p99 latency through `Vault::tokenize` (encryption,
//! then the group-committed token row + audit entry, acknowledged once durable), on SQLite
//! (a file, WAL, `synchronous = FULL`) and PostgreSQL (the server at 127.0.0.1:5432 or
//! `HUSHPAY_TEST_POSTGRES`, a scratch schema dropped afterwards), with 1, 8 and 64 concurrent
//! clients.
//!
//! `cargo run --release -p hushpay-vault --example bench_tokenize [seconds-per-run] [sqlite|postgres]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay_card::{Expiry, Pan};
use hushpay_store::{PgStore, ScratchSchema, SqliteStore, Store, Tenant, TenantId};
use hushpay_vault::{Actor, Kek, Vault};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let secs: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let only = args.next();
    for backend in ["sqlite", "postgres"] {
        if only.as_deref().is_some_and(|o| o != backend) {
            continue;
        }
        for clients in [1usize, 8, 64] {
            let dir = tempfile::tempdir().unwrap();
            let mut schema = None;
            let store: Arc<dyn Store> = if backend == "sqlite" {
                Arc::new(SqliteStore::open(&dir.path().join("b.db")).unwrap())
            } else {
                let s = ScratchSchema::create("bench").await.unwrap();
                let store = PgStore::open(&s.pg_url().unwrap()).await.unwrap();
                schema = Some(s);
                Arc::new(store)
            };
            run(backend, store, clients, secs).await;
            drop(schema);
        }
    }
}

async fn run(backend: &str, store: Arc<dyn Store>, clients: usize, secs: u64) {
    let tenant = TenantId::new("ten_bench");
    store
        .insert_tenant(&Tenant {
            id: tenant.clone(),
            name: "bench".into(),
            created_at: 0,
            allowed_origins: vec![],
            require_consent_by_default: false,
            agent_desktop_origins: vec![],
            default_locale: None,
        })
        .await
        .unwrap();
    let vault = Arc::new(Vault::new(Kek::generate(), store));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (vault, tenant) = (Arc::clone(&vault), tenant.clone());
        tasks.push(tokio::spawn(async move {
            let pan = Pan::parse("4242424242424242").unwrap();
            let exp = Expiry::new(12, 2031).unwrap();
            let actor = Actor {
                who: "bench".into(),
                request_id: String::new(),
            };
            let mut lat = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                vault
                    .tokenize(&actor, &tenant, &pan, &exp, None, None)
                    .await
                    .unwrap();
                lat.push(t.elapsed());
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    all.sort();
    let p = |q: f64| all[((all.len() as f64 * q) as usize).min(all.len() - 1)];
    let writer = vault.group_commit();
    println!(
        "{backend:<8} clients={clients:>2}: {:>7.0} tokenizations/s, p50 {:>9.3?}, p99 {:>9.3?} \
         ({} in {secs}s, {:.1} per transaction)",
        all.len() as f64 / secs as f64,
        p(0.5),
        p(0.99),
        all.len(),
        writer.jobs() as f64 / writer.transactions().max(1) as f64
    );
}
