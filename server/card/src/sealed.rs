//! The sealed card payload: how card data travels from the card iframe (or a tenant
//! backend) to the vault without anything in between being able to read it.
//!
//! # Format, version 1
//!
//! HPKE (RFC 9180), mode base, suite DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 /
//! AES-256-GCM, single shot. The envelope is JSON and safe to transmit and log:
//!
//! ```json
//! {"version":1,"kid":"vault-2026-11","enc":"<base64url, 32 bytes>","ciphertext":"<base64url>"}
//! ```
//!
//! * `kid` names the vault key pair the card was sealed to (the vault publishes its
//!   public key with this id).
//! * HPKE `info` binds the ciphertext to its context: `"hushpay-sealed-card/v1"`, then
//!   the tenant id and the payment session id, each prefixed by its length as a 4-byte
//!   big-endian integer. A payload sealed for one tenant or session does not open for
//!   another.
//! * The AEAD associated data binds the envelope header: `"hushpay-sealed-card"`, the
//!   version byte, then the length-prefixed `kid`; changing the `kid` or `version` makes
//!   the ciphertext fail to open.
//! * The plaintext is the JSON document described in [`CardPayload`]'s module, and is
//!   re-validated on opening.
//!
//! Randomness is an input: pass a CSPRNG implementing [`CryptoRng`] + [`RngCore`]
//! (rand_core 0.9, re-exported here). In the browser the wasm layer wraps
//! `crypto.getRandomValues`; on the server, `rand_core::OsRng`.

mod keys;
mod payload;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use zeroize::Zeroizing;

pub use hpke::rand_core::{CryptoRng, RngCore};
pub use keys::{KEY_LEN, KeyError, RecipientPublicKey, RecipientSecretKey, generate_keypair};
pub use payload::{CardPayload, PAYLOAD_VERSION, PayloadError};

type Kem = hpke::kem::X25519HkdfSha256;
type Kdf = hpke::kdf::HkdfSha256;
type Aead = hpke::aead::AesGcm256;

/// Envelope format version.
pub const FORMAT_VERSION: u8 = 1;
/// Longest key id; key ids use `[A-Za-z0-9._-]`.
pub const MAX_KID_LEN: usize = 64;
/// Longest accepted `ciphertext` field (base64url characters); real ones are < 400.
pub const MAX_CIPHERTEXT_CHARS: usize = 2048;
/// Longest tenant or session id in a [`Binding`].
pub const MAX_BINDING_LEN: usize = 256;

const INFO_LABEL: &[u8] = b"hushpay-sealed-card/v1";
const AAD_LABEL: &[u8] = b"hushpay-sealed-card";

/// The context a payload is sealed for; the same values must be given to open it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding<'a> {
    pub tenant: &'a str,
    pub session: &'a str,
}

/// A sealed card payload. Holds only ciphertext: safe to serialise, transmit and log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SealedCard {
    pub version: u8,
    pub kid: String,
    /// HPKE encapsulated key, base64url without padding.
    pub enc: String,
    /// AES-256-GCM ciphertext with its tag, base64url without padding.
    pub ciphertext: String,
}

/// Sealing failed.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum SealError {
    #[error("key id must be 1 to {MAX_KID_LEN} characters of [A-Za-z0-9._-]")]
    InvalidKid,
    #[error("tenant and session ids must be at most {MAX_BINDING_LEN} bytes")]
    BindingTooLong,
    #[error("payload could not be serialised: {0}")]
    Payload(#[from] PayloadError),
    #[error("HPKE encryption failed")]
    Encrypt,
}

/// Opening failed. Decryption failures are deliberately not told apart (wrong key,
/// wrong binding, tampered envelope all give [`OpenError::Decrypt`]).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum OpenError {
    #[error("sealed card is not valid JSON of the expected shape (line {line}, column {column})")]
    Malformed { line: usize, column: usize },
    #[error("sealed card version {0} is not supported")]
    UnsupportedVersion(u8),
    #[error("key id must be 1 to {MAX_KID_LEN} characters of [A-Za-z0-9._-]")]
    InvalidKid,
    #[error("tenant and session ids must be at most {MAX_BINDING_LEN} bytes")]
    BindingTooLong,
    #[error("field `{0}` is not valid base64url")]
    Encoding(&'static str),
    #[error("field `{0}` has the wrong size")]
    Size(&'static str),
    #[error("sealed card could not be decrypted")]
    Decrypt,
    #[error("sealed card content is invalid: {0}")]
    Payload(#[from] PayloadError),
}

impl SealedCard {
    /// Parse an envelope received from the network (bounded, typed errors).
    pub fn from_json(bytes: &[u8]) -> Result<SealedCard, OpenError> {
        if bytes.len() > MAX_CIPHERTEXT_CHARS + 512 {
            return Err(OpenError::Size("sealed card"));
        }
        serde_json::from_slice(bytes).map_err(|e| OpenError::Malformed {
            line: e.line(),
            column: e.column(),
        })
    }

    /// The envelope as JSON.
    pub fn to_json(&self) -> String {
        // Serialising four plain fields cannot fail; fall back to an empty object anyway.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

fn valid_kid(kid: &str) -> bool {
    (1..=MAX_KID_LEN).contains(&kid.len())
        && kid
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

fn push_prefixed(out: &mut Vec<u8>, field: &[u8]) {
    // Callers bound field lengths far below u32::MAX.
    out.extend_from_slice(&(field.len() as u32).to_be_bytes());
    out.extend_from_slice(field);
}

fn info(binding: &Binding<'_>) -> Option<Vec<u8>> {
    if binding.tenant.len() > MAX_BINDING_LEN || binding.session.len() > MAX_BINDING_LEN {
        return None;
    }
    let mut out =
        Vec::with_capacity(INFO_LABEL.len() + 8 + binding.tenant.len() + binding.session.len());
    out.extend_from_slice(INFO_LABEL);
    push_prefixed(&mut out, binding.tenant.as_bytes());
    push_prefixed(&mut out, binding.session.as_bytes());
    Some(out)
}

fn aad(version: u8, kid: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(AAD_LABEL.len() + 5 + kid.len());
    out.extend_from_slice(AAD_LABEL);
    out.push(version);
    push_prefixed(&mut out, kid.as_bytes());
    out
}

/// Seal `payload` to the vault key `recipient` (named `kid`) for `binding`.
pub fn seal<R: CryptoRng + RngCore>(
    recipient: &RecipientPublicKey,
    kid: &str,
    binding: &Binding<'_>,
    payload: &CardPayload,
    rng: &mut R,
) -> Result<SealedCard, SealError> {
    if !valid_kid(kid) {
        return Err(SealError::InvalidKid);
    }
    let info = info(binding).ok_or(SealError::BindingTooLong)?;
    let plaintext = payload.to_plaintext()?;
    let (enc, ciphertext) = hpke::single_shot_seal::<Aead, Kdf, Kem, R>(
        &OpModeS::Base,
        &recipient.0,
        &info,
        &plaintext,
        &aad(FORMAT_VERSION, kid),
        rng,
    )
    .map_err(|_| SealError::Encrypt)?;
    Ok(SealedCard {
        version: FORMAT_VERSION,
        kid: kid.to_owned(),
        enc: URL_SAFE_NO_PAD.encode(enc.to_bytes()),
        ciphertext: URL_SAFE_NO_PAD.encode(ciphertext),
    })
}

/// Open a sealed card with the vault secret key named by `sealed.kid`, for `binding`.
pub fn open(
    secret: &RecipientSecretKey,
    sealed: &SealedCard,
    binding: &Binding<'_>,
) -> Result<CardPayload, OpenError> {
    if sealed.version != FORMAT_VERSION {
        return Err(OpenError::UnsupportedVersion(sealed.version));
    }
    if !valid_kid(&sealed.kid) {
        return Err(OpenError::InvalidKid);
    }
    let info = info(binding).ok_or(OpenError::BindingTooLong)?;
    if sealed.enc.len() > 64 {
        return Err(OpenError::Size("enc"));
    }
    if sealed.ciphertext.len() > MAX_CIPHERTEXT_CHARS {
        return Err(OpenError::Size("ciphertext"));
    }
    let enc = URL_SAFE_NO_PAD
        .decode(&sealed.enc)
        .map_err(|_| OpenError::Encoding("enc"))?;
    let ciphertext = URL_SAFE_NO_PAD
        .decode(&sealed.ciphertext)
        .map_err(|_| OpenError::Encoding("ciphertext"))?;
    if enc.len() != KEY_LEN {
        return Err(OpenError::Size("enc"));
    }
    let enc = <Kem as hpke::Kem>::EncappedKey::from_bytes(&enc).map_err(|_| OpenError::Decrypt)?;
    let plaintext = hpke::single_shot_open::<Aead, Kdf, Kem>(
        &OpModeR::Base,
        &secret.0,
        &enc,
        &info,
        &ciphertext,
        &aad(sealed.version, &sealed.kid),
    )
    .map(Zeroizing::new)
    .map_err(|_| OpenError::Decrypt)?;
    Ok(CardPayload::from_plaintext(&plaintext)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Cvc, Expiry, Pan, PostalCode};
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;
    use rand_chacha::ChaCha20Rng;
    use rand_chacha::rand_core::SeedableRng;

    const BINDING: Binding<'static> = Binding {
        tenant: "tenant-a",
        session: "pay_123",
    };

    fn rng() -> ChaCha20Rng {
        ChaCha20Rng::seed_from_u64(7)
    }

    fn card() -> CardPayload {
        let pan = Pan::parse("4111 1111 1111 1111").unwrap();
        let cvc = Cvc::parse("737", pan.brand()).unwrap();
        CardPayload {
            pan,
            expiry: Expiry::new(3, 2030).unwrap(),
            cvc: Some(cvc),
            postal_code: Some(PostalCode::parse("94107").unwrap()),
        }
    }

    fn sealed_fixture() -> (RecipientSecretKey, SealedCard) {
        let mut rng = rng();
        let (sk, pk) = generate_keypair(&mut rng);
        let sealed = seal(&pk, "vault-1", &BINDING, &card(), &mut rng).unwrap();
        (sk, sealed)
    }

    #[test]
    fn roundtrip() {
        let (sk, sealed) = sealed_fixture();
        assert_eq!(sealed.version, 1);
        assert_eq!(sealed.kid, "vault-1");
        assert_eq!(URL_SAFE_NO_PAD.decode(&sealed.enc).unwrap().len(), 32);
        let json = sealed.to_json();
        assert!(!json.contains("4111") && !json.contains("737"));
        let parsed = SealedCard::from_json(json.as_bytes()).unwrap();
        assert_eq!(open(&sk, &parsed, &BINDING).unwrap(), card());
    }

    #[test]
    fn fresh_randomness_per_seal() {
        let mut rng = rng();
        let (_, pk) = generate_keypair(&mut rng);
        let a = seal(&pk, "k", &BINDING, &card(), &mut rng).unwrap();
        let b = seal(&pk, "k", &BINDING, &card(), &mut rng).unwrap();
        assert_ne!(a.enc, b.enc);
        assert_ne!(a.ciphertext, b.ciphertext);
    }

    #[test]
    fn wrong_key_fails() {
        let (_, sealed) = sealed_fixture();
        let (other, _) = generate_keypair(&mut ChaCha20Rng::seed_from_u64(99));
        assert_eq!(open(&other, &sealed, &BINDING), Err(OpenError::Decrypt));
    }

    #[test]
    fn wrong_binding_fails() {
        let (sk, sealed) = sealed_fixture();
        let cases = [
            Binding {
                tenant: "tenant-b",
                session: "pay_123",
            },
            Binding {
                tenant: "tenant-a",
                session: "pay_124",
            },
            Binding {
                tenant: "pay_123",
                session: "tenant-a",
            },
            // Same concatenation, different split: length prefixes tell them apart.
            Binding {
                tenant: "tenant-ap",
                session: "ay_123",
            },
            Binding {
                tenant: "",
                session: "",
            },
        ];
        for binding in cases {
            assert_eq!(
                open(&sk, &sealed, &binding),
                Err(OpenError::Decrypt),
                "{binding:?}"
            );
        }
    }

    #[test]
    fn header_tampering_fails() {
        let (sk, sealed) = sealed_fixture();
        let kid_swapped = SealedCard {
            kid: "vault-2".into(),
            ..sealed.clone()
        };
        assert_eq!(open(&sk, &kid_swapped, &BINDING), Err(OpenError::Decrypt));
        let future = SealedCard {
            version: 2,
            ..sealed.clone()
        };
        assert_eq!(
            open(&sk, &future, &BINDING),
            Err(OpenError::UnsupportedVersion(2))
        );
        let bad_kid = SealedCard {
            kid: "a b".into(),
            ..sealed.clone()
        };
        assert_eq!(open(&sk, &bad_kid, &BINDING), Err(OpenError::InvalidKid));
        let long = "x".repeat(MAX_BINDING_LEN + 1);
        assert_eq!(
            open(
                &sk,
                &sealed,
                &Binding {
                    tenant: &long,
                    session: "s"
                }
            ),
            Err(OpenError::BindingTooLong)
        );
    }

    #[test]
    fn hostile_envelopes_give_typed_errors() {
        let (sk, sealed) = sealed_fixture();
        let with = |enc: &str, ct: &str| SealedCard {
            enc: enc.into(),
            ciphertext: ct.into(),
            ..sealed.clone()
        };
        assert_eq!(
            open(&sk, &with("***", &sealed.ciphertext), &BINDING),
            Err(OpenError::Encoding("enc"))
        );
        assert_eq!(
            open(&sk, &with(&sealed.enc, "a+b/"), &BINDING),
            Err(OpenError::Encoding("ciphertext"))
        );
        assert_eq!(
            open(&sk, &with("AAAA", &sealed.ciphertext), &BINDING),
            Err(OpenError::Size("enc"))
        );
        assert_eq!(
            open(&sk, &with(&sealed.enc, ""), &BINDING),
            Err(OpenError::Decrypt)
        );
        assert_eq!(
            open(
                &sk,
                &with(&sealed.enc, &"A".repeat(MAX_CIPHERTEXT_CHARS + 1)),
                &BINDING
            ),
            Err(OpenError::Size("ciphertext"))
        );
        for json in [
            &b""[..],
            b"{",
            b"[]",
            b"null",
            br#"{"version":1}"#,
            br#"{"version":1,"kid":"k","enc":"","ciphertext":"","x":1}"#,
            br#"{"version":300,"kid":"k","enc":"","ciphertext":""}"#,
        ] {
            assert!(
                matches!(
                    SealedCard::from_json(json),
                    Err(OpenError::Malformed { .. })
                ),
                "{json:?}"
            );
        }
        assert_eq!(
            SealedCard::from_json(&vec![b' '; 10_000]),
            Err(OpenError::Size("sealed card"))
        );
    }

    #[test]
    fn content_is_revalidated() {
        // A client holding the public key could seal anything: the vault re-validates.
        let mut rng = rng();
        let (sk, pk) = generate_keypair(&mut rng);
        let info = info(&BINDING).unwrap();
        let bad = br#"{"v":1,"pan":"4111111111111112","exp_month":3,"exp_year":2030}"#;
        let (enc, ct) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
            &OpModeS::Base,
            &pk.0,
            &info,
            bad,
            &aad(1, "k"),
            &mut rng,
        )
        .unwrap();
        let sealed = SealedCard {
            version: 1,
            kid: "k".into(),
            enc: URL_SAFE_NO_PAD.encode(enc.to_bytes()),
            ciphertext: URL_SAFE_NO_PAD.encode(ct),
        };
        assert_eq!(
            open(&sk, &sealed, &BINDING),
            Err(OpenError::Payload(PayloadError::Pan(crate::PanError::Luhn)))
        );
    }

    #[test]
    fn seal_rejects_bad_inputs() {
        let mut rng = rng();
        let (_, pk) = generate_keypair(&mut rng);
        assert_eq!(
            seal(&pk, "", &BINDING, &card(), &mut rng),
            Err(SealError::InvalidKid)
        );
        assert_eq!(
            seal(&pk, "k\"", &BINDING, &card(), &mut rng),
            Err(SealError::InvalidKid)
        );
        let long = "t".repeat(MAX_BINDING_LEN + 1);
        let b = Binding {
            tenant: &long,
            session: "",
        };
        assert_eq!(
            seal(&pk, "k", &b, &card(), &mut rng),
            Err(SealError::BindingTooLong)
        );
    }

    fn flip(text: &str, index: usize, bit: u8) -> Option<String> {
        let mut bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
        let len = bytes.len();
        bytes[index % len] ^= 1 << (bit % 8);
        Some(URL_SAFE_NO_PAD.encode(bytes))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any single bit flip in `enc` or `ciphertext` makes opening fail.
        #[test]
        fn tampering_fails(index in any::<usize>(), bit in 0u8..8, in_enc in any::<bool>()) {
            let (sk, sealed) = sealed_fixture();
            let mut t = sealed.clone();
            if in_enc {
                t.enc = flip(&sealed.enc, index, bit).unwrap();
            } else {
                t.ciphertext = flip(&sealed.ciphertext, index, bit).unwrap();
            }
            prop_assert_eq!(open(&sk, &t, &BINDING), Err(OpenError::Decrypt));
        }

        /// Arbitrary envelopes never panic and never open.
        #[test]
        fn arbitrary_envelopes(version in any::<u8>(), kid in "\\PC{0,70}", enc in "\\PC{0,60}", ct in "[A-Za-z0-9_-]{0,300}") {
            let (sk, _) = sealed_fixture();
            let s = SealedCard { version, kid, enc, ciphertext: ct };
            prop_assert!(open(&sk, &s, &BINDING).is_err());
        }

        #[test]
        fn arbitrary_json_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
            let _ = SealedCard::from_json(&bytes);
        }
    }
}
