//! # hushpay-card
//!
//! Card data for Hushpay, in pure Rust: no I/O, no clock, no threads, no async runtime.
//! It builds for `wasm32-unknown-unknown` and is used unchanged by the card iframe (via
//! `hushpay-wasm`), the media digit collector and the vault.
//!
//! ## What it promises
//!
//! * **Card data types are built only through validation.** [`Pan`] (12–19 digits, Luhn,
//!   length allowed for its brand), [`Expiry`], [`Cvc`] (length by brand) and
//!   [`PostalCode`] have no public constructors other than their parsers.
//! * **They never print their contents.** `Debug`/`Display` of [`Pan`] show only brand
//!   and last four (`Pan(visa ****1111)`), [`Cvc`] shows `Cvc(***)`, [`PostalCode`]
//!   shows `PostalCode(***)`. Errors carry no input digits.
//! * **They are zeroized on drop** (`Zeroize` + `ZeroizeOnDrop`), compare in constant
//!   time, and [`Pan`]/[`Cvc`] implement no `Serialize`. The full values are reachable only
//!   through the explicit `expose_*` accessors, meant for the vault and connectors.
//! * **Time and randomness are inputs.** Expiry checks take today's [`YearMonth`];
//!   sealing and key generation take a caller-supplied CSPRNG ([`sealed::CryptoRng`]).
//! * **Untrusted input never panics.** Every parser returns a typed error
//!   (`thiserror`); property tests feed them arbitrary input.
//!
//! ## Modules
//!
//! * [`luhn`], [`brand`]: checksum and IIN-range brand detection, lengths, CVC length,
//!   grouping, "potentially valid" prefixes.
//! * [`pan`], [`expiry`], [`cvc`], [`postal`]: the validated newtypes.
//! * [`validation`], [`field_state`]: the "as you type" state of the card number,
//!   expiry and security-code fields.
//! * [`sealed`]: the sealed card payload (HPKE, RFC 9180) from the iframe to the vault.
//! * [`chat_scan`]: finds and removes card numbers typed into chat, including split ones.
//!   Measured on the committed corpora (`tests/chat_scan_corpus.rs`): 490/490 obfuscated
//!   and 84/84 split test card numbers caught; 6/400 benign lines (1.5 %) redacted.
//! * [`leak_scan`]: a *scanner* for tests: searches bytes for tracer card numbers in
//!   many encodings. It handles no card data of its own.

pub mod brand;
pub mod chat_scan;
pub mod cvc;
pub mod expiry;
pub mod field_state;
pub mod leak_scan;
pub mod luhn;
pub mod memory_scan;
pub mod pan;
pub mod postal;
pub mod sealed;
pub mod validation;

pub use brand::Brand;
pub use cvc::{Cvc, CvcError};
pub use expiry::{Expiry, ExpiryError, YearMonth};
pub use field_state::{FieldState, cvc_state, expiry_state};
pub use pan::{Pan, PanError};
pub use postal::{PostalCode, PostalCodeError};
pub use sealed::{Binding, CardPayload, SealedCard};
pub use validation::CardValidation;
