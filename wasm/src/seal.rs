//! Sealing the finished card form for the vault.
//!
//! [`seal_form`] validates every field with the same parsers the vault uses, then seals
//! the card with HPKE to the vault's public key, bound to the tenant and the payment id
//! (`Binding { tenant, session }`). Its answer is the JSON the iframe script posts to the
//! gateway, or a per-field error the form shows. Errors never carry input.

use hushpay_card::sealed::{self, Binding, RecipientPublicKey};
use hushpay_card::{CardPayload, CardValidation, Cvc, Expiry, Pan, PostalCode, YearMonth};
use serde::Serialize;

use crate::entropy::EntropyPool;

/// What the patient typed, as the iframe script read it from its own inputs.
#[derive(Clone, Copy)]
pub struct CardForm<'a> {
    pub number: &'a str,
    pub expiry: &'a str,
    pub cvc: &'a str,
    /// `None` when the form has no postal-code field.
    pub postal_code: Option<&'a str>,
}

impl std::fmt::Debug for CardForm<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CardForm(***)")
    }
}

/// Where the card is sealed to: the vault key (from `GET /v1/vault/public-key`) and the
/// binding (tenant id, payment id).
#[derive(Clone, Copy, Debug)]
pub struct SealTarget<'a> {
    pub public_key: &'a str,
    pub kid: &'a str,
    pub tenant: &'a str,
    pub payment: &'a str,
}

/// Why the form cannot be sealed. `field` names the input to mark invalid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SealFailure {
    /// `number`, `expiry`, `cvc`, `postalCode`, or `form` for non-field problems.
    pub field: &'static str,
    /// Stable code (Stripe's names where they exist).
    pub code: &'static str,
    /// A sentence for the patient; it never repeats what was typed.
    pub message: &'static str,
}

const fn failure(field: &'static str, code: &'static str, message: &'static str) -> SealFailure {
    SealFailure {
        field,
        code,
        message,
    }
}

/// Validates `form` (expiry against `today`) and seals it to `target` with randomness from
/// `entropy`. Returns the `SealedCard` envelope as JSON.
pub fn seal_form(
    form: CardForm<'_>,
    today: YearMonth,
    target: SealTarget<'_>,
    mut entropy: EntropyPool,
) -> Result<String, SealFailure> {
    let payload = validate(form, today)?;
    let key = RecipientPublicKey::from_base64url(target.public_key).map_err(|_| {
        failure(
            "form",
            "invalid_vault_key",
            "The payment service's key could not be read.",
        )
    })?;
    let binding = Binding {
        tenant: target.tenant,
        session: target.payment,
    };
    let sealed =
        sealed::seal(&key, target.kid, &binding, &payload, &mut entropy).map_err(|_| {
            failure(
                "form",
                "seal_failed",
                "The card could not be encrypted for the payment service.",
            )
        })?;
    if entropy.exhausted() {
        return Err(failure(
            "form",
            "entropy_exhausted",
            "The browser did not provide enough randomness.",
        ));
    }
    Ok(sealed.to_json())
}

/// Every field through the vault's own parsers; the first problem in form order wins.
fn validate(form: CardForm<'_>, today: YearMonth) -> Result<CardPayload, SealFailure> {
    let state = CardValidation::of(form.number);
    let pan = match Pan::parse(form.number) {
        Ok(pan) if state.valid => pan,
        _ if state.empty => {
            return Err(failure(
                "number",
                "incomplete_number",
                "Enter your card number.",
            ));
        }
        _ if state.potentially_valid => {
            return Err(failure(
                "number",
                "incomplete_number",
                "Your card number is incomplete.",
            ));
        }
        _ => {
            return Err(failure(
                "number",
                "invalid_number",
                "Your card number is invalid.",
            ));
        }
    };
    let expiry = match Expiry::parse(form.expiry) {
        Ok(e) if e.check(today).is_ok() => e,
        Ok(e) if e.is_expired(today) => {
            return Err(failure(
                "expiry",
                "invalid_expiry_year_past",
                "Your card has expired.",
            ));
        }
        _ if form.expiry.trim().is_empty() => {
            return Err(failure(
                "expiry",
                "incomplete_expiry",
                "Enter the expiry date.",
            ));
        }
        _ => {
            return Err(failure(
                "expiry",
                "invalid_expiry",
                "Your card's expiry date is invalid.",
            ));
        }
    };
    let cvc = Cvc::parse(form.cvc, pan.brand()).map_err(|_| {
        failure(
            "cvc",
            "incomplete_cvc",
            "Your card's security code is incomplete.",
        )
    })?;
    let postal_code = match form.postal_code {
        None => None,
        Some(code) => Some(PostalCode::parse(code).map_err(|_| {
            failure(
                "postalCode",
                "incomplete_zip",
                "Your postal code is incomplete.",
            )
        })?),
    };
    Ok(CardPayload {
        pan,
        expiry,
        cvc: Some(cvc),
        postal_code,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use hushpay_card::leak_scan;
    use hushpay_card::sealed::{SealedCard, generate_keypair, open};
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::{RngCore as _, SeedableRng};

    const TODAY: YearMonth = YearMonth {
        year: 2026,
        month: 11,
    };

    fn pool(seed: u64) -> EntropyPool {
        let mut bytes = [0u8; crate::entropy::POOL_LEN];
        ChaCha20Rng::seed_from_u64(seed).fill_bytes(&mut bytes);
        EntropyPool::new(bytes)
    }

    fn form<'a>(number: &'a str, expiry: &'a str, cvc: &'a str) -> CardForm<'a> {
        CardForm {
            number,
            expiry,
            cvc,
            postal_code: Some("94107"),
        }
    }

    #[test]
    fn seals_to_the_vault_key_for_tenant_and_payment() {
        let (sk, pk) = generate_keypair(&mut ChaCha20Rng::seed_from_u64(1));
        let key = pk.to_base64url();
        let target = SealTarget {
            public_key: &key,
            kid: "vault-1",
            tenant: "ten_a",
            payment: "pay_1",
        };
        let json = seal_form(
            form("4111 1111 1111 1111", "12 / 30", "737"),
            TODAY,
            target,
            pool(2),
        )
        .unwrap();
        let mut tracers = leak_scan::Tracers::new();
        tracers.add("pan", "4111111111111111").unwrap();
        tracers.add("cvc", "737").unwrap();
        let hits = leak_scan::scan(&tracers, json.as_bytes(), leak_scan::Net::AnyLuhn);
        assert!(hits.is_empty(), "{hits:?}");
        let sealed = SealedCard::from_json(json.as_bytes()).unwrap();
        let binding = Binding {
            tenant: "ten_a",
            session: "pay_1",
        };
        let card = open(&sk, &sealed, &binding).unwrap();
        assert_eq!(card.pan.expose_digits(), "4111111111111111");
        assert_eq!((card.expiry.month(), card.expiry.year()), (12, 2030));
        assert_eq!(card.cvc.unwrap().expose_digits(), "737");
        assert_eq!(card.postal_code.unwrap().expose(), "94107");
        let other_payment = Binding {
            tenant: "ten_a",
            session: "pay_2",
        };
        assert!(open(&sk, &sealed, &other_payment).is_err());
    }

    #[test]
    fn field_errors_name_the_field_and_never_the_input() {
        let (_, pk) = generate_keypair(&mut ChaCha20Rng::seed_from_u64(1));
        let key = pk.to_base64url();
        let target = SealTarget {
            public_key: &key,
            kid: "vault-1",
            tenant: "ten_a",
            payment: "pay_1",
        };
        let cases = [
            (form("", "12/30", "737"), "number", "incomplete_number"),
            (
                form("4111 1111", "12/30", "737"),
                "number",
                "incomplete_number",
            ),
            (
                form("4111111111111112", "12/30", "737"),
                "number",
                "incomplete_number",
            ),
            (
                form("4111111111111111112", "12/30", "737"),
                "number",
                "invalid_number",
            ),
            (
                form("4111111111111111", "", "737"),
                "expiry",
                "incomplete_expiry",
            ),
            (
                form("4111111111111111", "10/26", "737"),
                "expiry",
                "invalid_expiry_year_past",
            ),
            (
                form("4111111111111111", "13/30", "737"),
                "expiry",
                "invalid_expiry",
            ),
            (
                form("4111111111111111", "12/30", "73"),
                "cvc",
                "incomplete_cvc",
            ),
            (
                form("378282246310005", "12/30", "737"),
                "cvc",
                "incomplete_cvc",
            ),
        ];
        for (f, field, code) in cases {
            let err = seal_form(f, TODAY, target, pool(3)).unwrap_err();
            assert_eq!((err.field, err.code), (field, code), "{f:?}");
            let shown = format!("{err:?} {}", serde_json::to_string(&err).unwrap());
            assert!(!shown.contains("4111") && !shown.contains("737"), "{shown}");
        }
        let bad_zip = CardForm {
            postal_code: Some("<x>"),
            ..form("4111111111111111", "12/30", "737")
        };
        assert_eq!(
            seal_form(bad_zip, TODAY, target, pool(3))
                .unwrap_err()
                .field,
            "postalCode"
        );
        let no_zip = CardForm {
            postal_code: None,
            ..form("4111111111111111", "12/30", "737")
        };
        assert!(seal_form(no_zip, TODAY, target, pool(3)).is_ok());
    }

    #[test]
    fn bad_targets_are_refused() {
        let f = form("4111111111111111", "12/30", "737");
        let bad_key = SealTarget {
            public_key: "not a key",
            kid: "k",
            tenant: "t",
            payment: "p",
        };
        assert_eq!(
            seal_form(f, TODAY, bad_key, pool(4)).unwrap_err().code,
            "invalid_vault_key"
        );
        let (_, pk) = generate_keypair(&mut ChaCha20Rng::seed_from_u64(1));
        let key = pk.to_base64url();
        let bad_kid = SealTarget {
            public_key: &key,
            kid: "bad kid!",
            tenant: "t",
            payment: "p",
        };
        assert_eq!(
            seal_form(f, TODAY, bad_kid, pool(4)).unwrap_err().code,
            "seal_failed"
        );
    }
}
