//! Durable tokenizations per second and p99 latency on SQLite, through `Vault::tokenize`
//! (audit entry + token insert, each a durable `synchronous = FULL` commit; no group commit
//! yet), with 1, 8 and 64 concurrent clients.
//!
//! `cargo run --release -p hushpay-vault --example bench_tokenize [seconds-per-run]`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use hushpay_card::{Expiry, Pan};
use hushpay_store::{SqliteStore, Store, Tenant, TenantId};
use hushpay_vault::{Actor, Kek, Vault};

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let secs: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    for clients in [1usize, 8, 64] {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("b.db")).unwrap());
        let tenant = TenantId::new("ten_bench");
        store
            .insert_tenant(&Tenant {
                id: tenant.clone(),
                name: "bench".into(),
                created_at: 0,
                allowed_origins: vec![],
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
        println!(
            "sqlite clients={clients:>2}: {:>7.0} tokenizations/s, p50 {:?}, p99 {:?} ({} in {secs}s)",
            all.len() as f64 / secs as f64,
            p(0.5),
            p(0.99),
            all.len()
        );
    }
}
