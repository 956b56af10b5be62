//! Card helpers for the gateway's integration tests: unique tracer card numbers, sealing a
//! card to the vault's public key (as the card iframe or a tenant backend would), and
//! listing the files a gateway wrote.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hushpay_card::sealed::{self, Binding, RecipientPublicKey};
use hushpay_card::{CardPayload, Cvc, Expiry, Pan, PostalCode};
use rand::Rng;
use serde_json::Value;

/// A fresh Luhn-valid number with `prefix` (e.g. "4" for Visa) and `len` digits.
pub fn luhn_number(prefix: &str, len: usize) -> String {
    let mut rng = rand::thread_rng();
    let mut digits: Vec<u8> = prefix.bytes().map(|b| b - b'0').collect();
    while digits.len() < len - 1 {
        digits.push(rng.gen_range(0..10u8));
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    digits.push(((10 - sum % 10) % 10) as u8);
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

/// A fresh Luhn-valid 16-digit Visa number, unique to this run.
pub fn tracer_pan() -> String {
    luhn_number("4", 16)
}

/// A 3-digit CVC unlikely to collide with other test values.
pub fn tracer_cvc() -> String {
    format!("{:03}", rand::thread_rng().gen_range(100..1000))
}

/// The vault's public key and key id.
pub async fn vault_key(gw: &super::TestGateway) -> (RecipientPublicKey, String) {
    let pk: Value = gw
        .client
        .get(gw.url("/v1/vault/public-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = pk["kid"].as_str().unwrap().to_owned();
    let public = RecipientPublicKey::from_base64url(pk["public_key"].as_str().unwrap()).unwrap();
    (public, kid)
}

/// A card with CVC `481` sealed to `key` for `{tenant, session}`, as JSON.
pub fn seal_card(
    key: &RecipientPublicKey,
    kid: &str,
    tenant: &str,
    session: &str,
    pan: &str,
) -> Value {
    seal(key, kid, tenant, session, pan, Some("481"), None)
}

/// A card sealed to `key` with the binding `{tenant, session}`, as JSON.
pub fn seal(
    key: &RecipientPublicKey,
    kid: &str,
    tenant: &str,
    session: &str,
    pan: &str,
    cvc: Option<&str>,
    postal: Option<&str>,
) -> Value {
    let pan = Pan::parse(pan).unwrap();
    let payload = CardPayload {
        cvc: cvc.map(|c| Cvc::parse(c, pan.brand()).unwrap()),
        expiry: Expiry::new(11, 2034).unwrap(),
        postal_code: postal.map(|p| PostalCode::parse(p).unwrap()),
        pan,
    };
    let mut seed = [0u8; 32];
    rand::thread_rng().fill(&mut seed);
    let mut rng =
        <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_seed(seed);
    let sealed = sealed::seal(key, kid, &Binding { tenant, session }, &payload, &mut rng).unwrap();
    serde_json::to_value(sealed).unwrap()
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

/// The vault's public key and key id, fetched from `GET /v1/vault/public-key` at `base`.
pub async fn vault_public_key(
    client: &reqwest::Client,
    base: &str,
) -> (RecipientPublicKey, String) {
    let pk: Value = client
        .get(format!("{base}/v1/vault/public-key"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = RecipientPublicKey::from_base64url(pk["public_key"].as_str().unwrap()).unwrap();
    (public, pk["kid"].as_str().unwrap().to_owned())
}

/// Every token decrypts inside the gateway's vault, and the audit chain verifies with at least
/// `min_entries` entries.
pub async fn assert_tokens_decrypt_and_chain_verifies(
    state: &hushpay::app::AppState,
    tenant: &hushpay_store::TenantId,
    ids: &[String],
    min_entries: u64,
) {
    for id in ids {
        state
            .vault
            .vault
            .verify_token_decrypts(tenant, id)
            .await
            .unwrap();
    }
    let report = hushpay_vault::audit::verify(state.store.as_ref())
        .await
        .unwrap();
    assert_eq!(report.problem, None);
    assert!(report.entries >= min_entries, "{} entries", report.entries);
}
