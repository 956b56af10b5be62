//! # hushpay-wasm
//!
//! The card iframe's WebAssembly: a thin wasm-bindgen layer over [`hushpay_card`], so the
//! browser runs exactly the validation and sealing code the vault trusts.
//!
//! * **As you type** — [`number_state`], [`expiry_state`], [`cvc_state`],
//!   [`postal_code_state`] return the field state as JSON (`empty`, `complete`, `valid`,
//!   `potentiallyValid`, `brand`, `maxLength`, `formatted`): Luhn, brand by IIN (Visa,
//!   Mastercard with the 2-series, Amex, Discover, Diners, JCB, UnionPay, Maestro),
//!   lengths per brand, CVC length per brand, expiry not in the past. Today's month is an
//!   argument: the crate reads no clock.
//! * **Sealing** — [`seal_card`] validates the whole form with the vault's parsers and
//!   seals number, expiry, CVC and postal code with HPKE (RFC 9180) to the vault's public
//!   key, bound to `Binding { tenant, session: payment id }`. Randomness comes from the
//!   browser's `crypto.getRandomValues` ([`entropy`]). The answer is
//!   `{"ok":true,"sealed":{...}}` or `{"ok":false,"error":{"field","code","message"}}`.
//!
//! Card data stays in this module's linear memory and the iframe's inputs; nothing here
//! logs, and no error carries input. Everything except the browser RNG is plain Rust and
//! tested natively (`cargo test -p hushpay-wasm`); `scripts/build-wasm.sh` builds the
//! wasm32 module, runs `wasm-bindgen` and `wasm-opt`.

pub mod entropy;
pub mod fields;
pub mod seal;

use hushpay_card::YearMonth;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// State of the card-number field, as JSON.
#[wasm_bindgen(js_name = numberState)]
pub fn number_state(input: &str) -> String {
    to_json(&fields::number(input))
}

/// State of the expiry field for today's `year` and `month` (1-12), as JSON. `growing` is
/// true when the edit inserted text (the ` / ` separator is added only then).
#[wasm_bindgen(js_name = expiryState)]
pub fn expiry_state(input: &str, year: u16, month: u8, growing: bool) -> String {
    to_json(&fields::expiry(input, YearMonth { year, month }, growing))
}

/// State of the security-code field for the brand id the number field reported (or `""`).
#[wasm_bindgen(js_name = cvcState)]
pub fn cvc_state(input: &str, brand: &str) -> String {
    to_json(&fields::cvc(input, fields::brand_from_id(brand)))
}

/// State of the postal-code field, as JSON.
#[wasm_bindgen(js_name = postalCodeState)]
pub fn postal_code_state(input: &str) -> String {
    to_json(&fields::postal_code(input))
}

/// Validates and seals the form; see the crate docs for the JSON answer. `postal_code` is
/// `undefined` when the form has no postal-code field.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen(js_name = sealCard)]
#[allow(clippy::too_many_arguments)]
pub fn seal_card(
    number: &str,
    expiry: &str,
    cvc: &str,
    postal_code: Option<String>,
    year: u16,
    month: u8,
    public_key: &str,
    kid: &str,
    tenant: &str,
    payment: &str,
) -> String {
    let pool = match entropy::from_browser() {
        Ok(pool) => pool,
        Err(_) => {
            return seal_answer(Err(seal::SealFailure {
                field: "form",
                code: "no_randomness",
                message: "The browser's random number generator is unavailable.",
            }));
        }
    };
    let postal_code = zeroize::Zeroizing::new(postal_code);
    let form = seal::CardForm {
        number,
        expiry,
        cvc,
        postal_code: postal_code.as_deref(),
    };
    let target = seal::SealTarget {
        public_key,
        kid,
        tenant,
        payment,
    };
    seal_answer(seal::seal_form(
        form,
        YearMonth { year, month },
        target,
        pool,
    ))
}

/// `{"ok":true,"sealed":{...}}` or `{"ok":false,"error":{...}}`.
pub fn seal_answer(result: Result<String, seal::SealFailure>) -> String {
    match result {
        Ok(sealed) => format!("{{\"ok\":true,\"sealed\":{sealed}}}"),
        Err(e) => format!("{{\"ok\":false,\"error\":{}}}", to_json(&e)),
    }
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Plain structs of strings, numbers and booleans always serialise.
    serde_json::to_string(value).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shapes_for_the_script() {
        let v: serde_json::Value = serde_json::from_str(&number_state("4111 1111")).unwrap();
        assert_eq!(v["brand"], "visa");
        assert_eq!(v["potentiallyValid"], true);
        assert_eq!(v["complete"], false);
        assert_eq!(v["formatted"], "4111 1111");
        assert_eq!(v["maxLength"], 19);
        let e: serde_json::Value =
            serde_json::from_str(&expiry_state("1230", 2026, 11, true)).unwrap();
        assert_eq!(e["formatted"], "12 / 30");
        assert_eq!(e["valid"], true);
        assert!(e.get("brand").is_none());
        let c: serde_json::Value = serde_json::from_str(&cvc_state("1234", "amex")).unwrap();
        assert_eq!(c["valid"], true);
        assert_eq!(c["maxLength"], 4);
        let p: serde_json::Value = serde_json::from_str(&postal_code_state("94107")).unwrap();
        assert_eq!(p["complete"], true);
    }

    #[test]
    fn seal_answers_are_json() {
        let ok: serde_json::Value =
            serde_json::from_str(&seal_answer(Ok(r#"{"version":1}"#.into()))).unwrap();
        assert_eq!(ok["ok"], true);
        assert_eq!(ok["sealed"]["version"], 1);
        let err = seal::SealFailure {
            field: "cvc",
            code: "incomplete_cvc",
            message: "m",
        };
        let bad: serde_json::Value = serde_json::from_str(&seal_answer(Err(err))).unwrap();
        assert_eq!(bad["ok"], false);
        assert_eq!(bad["error"]["field"], "cvc");
    }
}
