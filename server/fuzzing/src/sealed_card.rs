//! Target `sealed_card`: the sealed card envelope `POST /v1/payments/{id}/card` receives
//! ([`SealedCard::from_json`] then [`sealed::open`]), and the same bytes as the plaintext inside
//! one ([`CardPayload::from_plaintext`]), which a hostile card iframe or tenant backend chooses.
//!
//! The vault key pair and the binding are fixed (a seeded CSPRNG), so the committed seeds are
//! real envelopes sealed to that key by the crate's own [`sealed::seal`] ([`seal_fixture`]).
//!
//! Invariants: no panic; an envelope that opens does not open for another tenant or session
//! or under another key id (the binding and the header are authenticated); a plaintext that
//! parses re-seals and opens to the same card; no opened card prints its number.

use hushpay_card::sealed::{self, CardPayload, RecipientPublicKey, RecipientSecretKey};
use hushpay_card::{Binding, SealedCard};
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;

/// The binding every seed is sealed for.
pub const BINDING: Binding<'static> = Binding {
    tenant: "ten_fuzz",
    session: "pay_fuzz",
};
/// The key id of the fixed vault key.
pub const KID: &str = "vault-fuzz-1";

/// The fixed vault key pair (seeded: test-only).
pub fn keypair() -> (RecipientSecretKey, RecipientPublicKey) {
    sealed::generate_keypair(&mut ChaCha20Rng::seed_from_u64(0x5eed))
}

/// An envelope sealed to the fixed key for [`BINDING`] (how the seed corpus is made).
pub fn seal_fixture(card: &CardPayload, seed: u64) -> Option<SealedCard> {
    let (_, pk) = keypair();
    sealed::seal(
        &pk,
        KID,
        &BINDING,
        card,
        &mut ChaCha20Rng::seed_from_u64(seed),
    )
    .ok()
}

pub fn run(data: &[u8]) {
    let (sk, pk) = keypair();
    if let Ok(envelope) = SealedCard::from_json(data)
        && let Ok(card) = sealed::open(&sk, &envelope, &BINDING)
    {
        no_number_in_debug(&card);
        for other in [
            Binding {
                tenant: "ten_other",
                ..BINDING
            },
            Binding {
                session: "pay_other",
                ..BINDING
            },
        ] {
            assert!(
                sealed::open(&sk, &envelope, &other).is_err(),
                "an envelope opens for another binding"
            );
        }
        let mut renamed = envelope.clone();
        renamed.kid.push('x');
        assert!(
            sealed::open(&sk, &renamed, &BINDING).is_err(),
            "the key id is not authenticated"
        );
    }
    if let Ok(card) = CardPayload::from_plaintext(data) {
        no_number_in_debug(&card);
        let Ok(envelope) = sealed::seal(
            &pk,
            KID,
            &BINDING,
            &card,
            &mut ChaCha20Rng::seed_from_u64(1),
        ) else {
            panic!("a card that parsed must seal");
        };
        let Ok(back) = SealedCard::from_json(envelope.to_json().as_bytes()) else {
            panic!("a sealed envelope must parse");
        };
        match sealed::open(&sk, &back, &BINDING) {
            Ok(opened) => assert!(opened == card, "re-sealed card opens to another card"),
            Err(e) => panic!("a re-sealed card must open: {e}"),
        }
    }
}

fn no_number_in_debug(card: &CardPayload) {
    let shown = format!("{card:?}");
    let digits = card.pan.expose_digits();
    assert!(!shown.contains(digits), "Debug prints the card number");
}
