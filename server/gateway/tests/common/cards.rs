//! Card helpers for the vault tests: unique tracer card numbers, sealing a card to the
//! vault's public key as a tenant backend would, and listing the files a gateway wrote.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use hushpay_card::sealed::{self, Binding, RecipientPublicKey};
use hushpay_card::{CardPayload, Cvc, Expiry, Pan};
use rand::Rng;
use serde_json::Value;

/// A fresh Luhn-valid Visa number, unique to this run.
pub fn tracer_pan() -> String {
    let mut rng = rand::thread_rng();
    let mut digits: Vec<u8> = vec![4];
    digits.extend((0..14).map(|_| rng.gen_range(0..10u8)));
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

pub fn seal_card(
    key: &RecipientPublicKey,
    kid: &str,
    tenant: &str,
    session: &str,
    pan: &str,
) -> Value {
    let pan = Pan::parse(pan).unwrap();
    let payload = CardPayload {
        cvc: Some(Cvc::parse("481", pan.brand()).unwrap()),
        expiry: Expiry::new(11, 2034).unwrap(),
        postal_code: None,
        pan,
    };
    let mut seed = [0u8; 32];
    rand::thread_rng().fill(&mut seed);
    let mut rng =
        <rand_chacha::ChaCha20Rng as rand_chacha::rand_core::SeedableRng>::from_seed(seed);
    let sealed = sealed::seal(key, kid, &Binding { tenant, session }, &payload, &mut rng).unwrap();
    serde_json::to_value(sealed).unwrap()
}

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
