//! Forces every error and formatting path of the card types with tracer card data, and
//! scans everything they print (Display and Debug, `{:#?}` too) with the leak scanner.
//! Hits must be 0.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failure

use hushpay_card::leak_scan::{self, Net, Tracers};
use hushpay_card::sealed::{self, Binding, CardPayload, SealedCard};
use hushpay_card::{CardValidation, Cvc, Expiry, Pan, PostalCode, chat_scan};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

const PAN: &str = "4111111111111111";
const PAN2: &str = "5555555555554444";
const CVC: &str = "737";

fn tracers() -> Tracers {
    let mut t = Tracers::new();
    t.add("pan", PAN)
        .unwrap()
        .add("pan2", PAN2)
        .unwrap()
        .add("cvc", CVC)
        .unwrap();
    t
}

fn assert_clean(what: &str, text: &str) {
    let hits = leak_scan::scan(&tracers(), text.as_bytes(), Net::AnyLuhn);
    assert!(hits.is_empty(), "{what}: {hits:?}");
}

fn both<T: std::fmt::Debug>(what: &str, value: &T) {
    assert_clean(what, &format!("{value:?}"));
    assert_clean(what, &format!("{value:#?}"));
}

#[test]
fn values_print_redacted() {
    let pan = Pan::parse(PAN).unwrap();
    let cvc = Cvc::parse(CVC, pan.brand()).unwrap();
    both("pan", &pan);
    assert_clean("pan display", &pan.to_string());
    both("cvc", &cvc);
    assert_clean("cvc display", &cvc.to_string());
    both("validation", &CardValidation::of(PAN));
    let payload = CardPayload {
        pan,
        expiry: Expiry::new(12, 2030).unwrap(),
        cvc: Some(cvc),
        postal_code: Some(PostalCode::parse("94107").unwrap()),
    };
    both("payload", &payload);
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let (sk, pk) = sealed::generate_keypair(&mut rng);
    let binding = Binding {
        tenant: "t",
        session: "s",
    };
    let sealed = sealed::seal(&pk, "k1", &binding, &payload, &mut rng).unwrap();
    both("sealed", &sealed);
    assert_clean("sealed json", &sealed.to_json());
    both("secret key", &sk);
}

#[test]
fn errors_print_no_card_data() {
    let bad_pans = [
        "4111111111111112",
        "4111 1111 1111 1111 0",
        "4111111111111111x",
        "55555555555544441",
        "4111-1111-1111-111",
        "5555 5555 5555 4444 5555",
    ];
    for input in bad_pans {
        if let Err(e) = Pan::parse(input) {
            both("pan error", &e);
            assert_clean("pan error display", &e.to_string());
        }
        both("validation", &CardValidation::of(input));
    }
    for input in ["7370", "73", "7a7", "737737"] {
        if let Err(e) = Cvc::parse(input, Some(hushpay_card::Brand::Visa)) {
            both("cvc error", &e);
            assert_clean("cvc error display", &e.to_string());
        }
    }
    let mut rng = ChaCha20Rng::seed_from_u64(4);
    let (sk, _) = sealed::generate_keypair(&mut rng);
    let binding = Binding {
        tenant: "t",
        session: "s",
    };
    let hostile = [
        format!(r#"{{"version":1,"kid":"{PAN}","enc":"{PAN}","ciphertext":"{PAN}"}}"#),
        format!(r#"{{"version":"{PAN}"}}"#),
        format!(r#"{{"version":1,"kid":"k","enc":"x","ciphertext":"y","{PAN}":1}}"#),
    ];
    for json in &hostile {
        match SealedCard::from_json(json.as_bytes()) {
            Ok(s) => {
                let e = sealed::open(&sk, &s, &binding).unwrap_err();
                both("open error", &e);
                assert_clean("open error display", &e.to_string());
            }
            Err(e) => {
                both("envelope error", &e);
                assert_clean("envelope error display", &e.to_string());
            }
        }
    }
}

#[test]
fn chat_verdicts_print_no_card_data() {
    let mut scanner = chat_scan::ChatScanner::new();
    for (i, text) in ["4111 1111", "1111 1111", "ok", "5555 5555 5555 4444", "737"]
        .iter()
        .enumerate()
    {
        let v = scanner.inspect("p", i, text);
        both("verdict", &v);
        assert_clean("verdict text", &v.text);
    }
    both("scanner", &scanner);
}
